"""The query language of the search box (contract §4), compiled into a match tree."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchengine.errors import InvalidQuery
from searchengine.query import (
    MAX_DEPTH,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    All,
    Any,
    Not,
    Phrase,
    Prefix,
    Run,
    Term,
    parse_query,
)

BODY = ("title", "description", "tags_text", "body")


def leaves(node):
    """Every leaf of a match tree, positive or negative."""
    if node is None:
        return []
    if isinstance(node, All | Any):
        return [leaf for item in node.items for leaf in leaves(item)]
    if isinstance(node, Not):
        return leaves(node.item)
    return [node]


def words(node) -> set[str]:
    """The analyzed words and Chinese runs a tree looks up."""
    out: set[str] = set()
    for leaf in leaves(node):
        if isinstance(leaf, Term):
            out.add(leaf.text)
        elif isinstance(leaf, Run):
            out.add(leaf.run)
        elif isinstance(leaf, Phrase):
            out.update(leaf.words)
        elif isinstance(leaf, Prefix):
            out.add(leaf.prefix + "*")
    return out


def root(text: str):
    return parse_query(text).root


def test_words_must_all_match():
    q = root("美联储 降息")
    assert q == All((Run("美联储"), Run("降息")))


def test_a_chinese_run_is_found_as_written_or_as_its_words_apart():
    assert root("美联储降息") == Run("美联储降息", pieces=("美联储", "降息"))


def test_a_fragment_cut_anywhere_is_a_run_too():
    q = root("美联储降")
    assert isinstance(q, Run) and q.run == "美联储降"


def test_words_are_analyzed_like_the_documents():
    assert words(root("立法會 ＡＩ Rates")) == {"立法会", "ai", "rate"}


def test_or_matches_either():
    q = root("马克杯 OR 马克思")
    assert isinstance(q, Any)
    assert words(q) == {"马克杯", "马克思"}


def test_or_binds_tighter_than_and():
    q = root("rate OR 降息 cut")
    assert isinstance(q, All)
    first, second = q.items
    assert isinstance(first, Any) and words(first) == {"rate", "降息"}
    assert words(second) == {"cut"}


def test_pipe_is_or():
    assert isinstance(root("rate | cut"), Any)


def test_and_keyword_is_the_default():
    assert root("rate AND cut") == All((Term(BODY, "rate"), Term(BODY, "cut")))


@pytest.mark.parametrize("text", ["降息 -欧洲", "降息 NOT 欧洲"])
def test_minus_and_not_exclude(text):
    assert root(text) == All((Run("降息"), Not(Run("欧洲"))))


@pytest.mark.parametrize("text", ["-rate", "NOT rate"])
def test_a_lone_exclusion_means_everything_else(text):
    assert root(text) == Not(Term(BODY, "rate"))


def test_minus_excludes_a_phrase():
    assert root('降息 -"rate cut"') == All((Run("降息"), Not(Phrase(BODY, ("rate", "cut")))))


def test_minus_excludes_a_group():
    q = root("降息 -(欧洲 OR 美联储)")
    assert q == All((Run("降息"), Not(Any((Run("欧洲"), Run("美联储"))))))


def test_excluded_words_are_not_highlighted():
    hl = parse_query("降息 -欧洲 NOT rate").highlight
    assert hl.cjk == {"降息"}
    assert hl.words == set()


def test_a_run_and_its_words_are_highlighted():
    assert parse_query("美联储降息").highlight.cjk == {"美联储降息", "美联储", "降息"}


def test_phrase_keeps_word_order():
    assert root('"interest rate cut"') == Phrase(BODY, ("interest", "rate", "cut"))


def test_a_quoted_chinese_run_is_found_only_as_written():
    assert root('"美联储降息"') == Run("美联储降息")
    assert root('"美联储 降息"') == All((Run("美联储"), Run("降息")))


def test_traditional_runs_fold_to_simplified():
    assert root("立法會") == Run("立法会")


def test_a_character_opencc_folds_only_in_context_is_also_looked_up_alone():
    assert root("瞭解") == Run("了解", alternate="瞭解")


def test_title_scope():
    assert root("title:降息") == Run("降息", title=True)
    assert root("title:rate") == Term(("title",), "rate")


def test_scope_applies_to_the_next_word_after_a_space():
    assert root("title: rate") == Term(("title",), "rate")


def test_title_scope_on_a_phrase():
    assert root('title:"rate cut"') == Phrase(("title",), ("rate", "cut"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tag:us", Term(("tag",), "us")),
        ("tag:ＡＩ", Term(("tag",), "ai")),
        ("TAG:US", Term(("tag",), "us")),
        ("tags:us", Term(("tag",), "us")),
        ("tag:立法會", Term(("tag",), "立法会")),
        ("author:FT", Term(("author_key",), "ft")),
        ("tag:(us OR economy)", Any((Term(("tag",), "us"), Term(("tag",), "economy")))),
    ],
)
def test_tag_and_author_scopes_are_exact_keys(text, expected):
    assert root(text) == expected


def test_prefix():
    assert root("infla*") == Prefix(BODY, "infla")
    assert parse_query("infla*").highlight.prefixes == {"infla"}


@pytest.mark.parametrize("text", ["i*", "a*", "rate e*", "title:x*"])
def test_a_one_letter_prefix_is_refused_with_a_reason(text):
    with pytest.raises(InvalidQuery, match="at least 2 letters"):
        parse_query(text)


def test_grouping():
    q = root("(马克杯 OR 马克思) 设计")
    assert isinstance(q, All)
    group, word = q.items
    assert isinstance(group, Any) and words(group) == {"马克杯", "马克思"}
    assert words(word) == {"设计"}


def test_scoped_group():
    q = root("title:(降息 OR 加息)")
    assert q == Any((Run("降息", title=True), Run("加息", title=True)))


def test_relaxed_form_matches_any_positive_clause():
    pq = parse_query("美联储 降息 -欧洲")
    assert pq.positives == [Run("美联储"), Run("降息")]
    assert pq.negatives == [Not(Run("欧洲"))]
    assert parse_query("降息").positives == [Run("降息")]


@pytest.mark.parametrize(
    ("text", "lang"), [("美联储", "zh"), ("삼성전자", "zh"), ("rate cut", "en"), ("", "en")]
)
def test_language(text, lang):
    assert parse_query(text).language == lang


# --- Odd input never fails -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"unbalanced quote', {"unbalanc", "quot"}),
        ("(rate", {"rate"}),
        ("rate)", {"rate"}),
        ("((rate cut", {"rate", "cut"}),
        ("rate OR", {"rate"}),
        ("OR rate", {"rate"}),
        ("rate OR OR cut", {"rate", "cut"}),
        ("rate AND", {"rate"}),
        ("rate -", {"rate"}),
        ("rate *", {"rate"}),
        ("C++", {"c"}),
        ("node.js", {"node", "js"}),
        ("\x00rate\x07", {"rate"}),
        ("a:b rate", {"b", "rate"}),
    ],
)
def test_odd_input_is_read_sensibly(text, expected):
    assert words(root(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\t\n",
        '""',
        "()",
        "(((",
        ")))",
        "OR",
        "AND",
        "NOT",
        "-",
        "*",
        "::",
        "title:",
        "tag:",
        "author:()",
        "the",
        "the of and",
        "-the",
        "title:the",
    ],
)
def test_nothing_to_search_browses_everything(text):
    parsed = parse_query(text)
    assert parsed.root is None
    assert (parsed.notice is not None) == bool(text.strip())  # said when something was typed


# --- Limits --------------------------------------------------------------------------------


def test_longest_query_is_accepted():
    assert root("a" * MAX_QUERY_CHARS) is not None


def test_too_long_query_is_refused():
    with pytest.raises(InvalidQuery, match=str(MAX_QUERY_CHARS)):
        parse_query("a" * (MAX_QUERY_CHARS + 1))


def test_many_terms_are_accepted_up_to_the_limit():
    assert root(" ".join(f"w{i}x" for i in range(MAX_TERMS))) is not None


def test_too_many_terms_are_refused():
    with pytest.raises(InvalidQuery, match=str(MAX_TERMS)):
        parse_query(" ".join(f"w{i}x" for i in range(MAX_TERMS + 1)))


@pytest.mark.parametrize(
    "text",
    [
        "-".join(f"w{i}x" for i in range(MAX_TERMS + 1)),
        "美联储 降息 " * 33,
    ],
    ids=["hyphenated", "chinese"],
)
def test_too_many_terms_are_refused_however_they_are_joined(text):
    with pytest.raises(InvalidQuery):
        parse_query(text)


def test_a_long_chinese_run_is_accepted_and_found_as_written():
    text = "美联储宣布降息一个百分点以支持经济增长" * 50
    q = root(text)
    assert isinstance(q, Run) and q.run == text
    assert len(q.pieces) == len(set(q.pieces))  # each word is looked up once


def test_nesting_up_to_the_limit_is_accepted():
    text = "(" * MAX_DEPTH + "rate" + ")" * MAX_DEPTH
    assert words(root(text)) == {"rate"}


@pytest.mark.parametrize("close", [True, False])
def test_too_deep_nesting_is_refused(close):
    depth = MAX_DEPTH + 1
    text = "(" * depth + "rate" + (")" * depth if close else "")
    with pytest.raises(InvalidQuery, match="nest"):
        parse_query(text)


def test_limits_are_what_the_page_says():
    assert (MAX_QUERY_CHARS, MAX_TERMS, MAX_DEPTH) == (1000, 64, 8)


_SOUP = st.lists(
    st.one_of(
        st.text(max_size=12),
        st.sampled_from(
            [
                '"',
                "(",
                ")",
                "OR",
                "NOT",
                "AND",
                "-",
                "*",
                "|",
                "title:",
                "tag:",
                "author:",
                ":",
                "\x00",
                "美联储",
                "立法會",
                "rate",
                "ＡＩ",
                " ",
                "\t",
            ]
        ),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=1000, derandomize=True, database=None)
@given(text=st.one_of(st.text(max_size=1200), _SOUP))
def test_the_parser_answers_any_text_with_a_query_or_a_clear_refusal(text):
    try:
        parsed = parse_query(text)
    except InvalidQuery as exc:
        assert str(exc)  # a message a person can read
        return
    assert parsed.root is None or leaves(parsed.root)
