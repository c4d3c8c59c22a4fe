"""The query language of the search box (contract §4), parsed into Whoosh queries."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from searchengine.errors import InvalidQuery
from searchengine.query import MAX_DEPTH, MAX_QUERY_CHARS, MAX_TERMS, parse_query


def terms(q: wq.Query | None) -> set[tuple[str, str]]:
    """Every (field, text) a query looks up, positive or negative."""
    if q is None:
        return set()
    out = set()
    for leaf in q.leaves():
        if isinstance(leaf, wq.Phrase):
            out.update((leaf.fieldname, w) for w in leaf.words)
        elif hasattr(leaf, "text"):
            out.add((leaf.fieldname, leaf.text))
    return out


def words(q: wq.Query | None) -> set[str]:
    """The analyzed words a query looks up in the body."""
    return {text for field, text in terms(q) if field == "body"}


def negated(q: wq.Query) -> wq.Query | None:
    """The excluded part of an AND-NOT query."""
    return q.b if isinstance(q, wq.AndNot) else None


def test_words_must_all_match():
    q = parse_query("美联储 降息").query
    assert isinstance(q, wq.And)
    assert [words(sub) for sub in q.subqueries] == [{"美联储"}, {"降息"}]


def test_chinese_is_segmented_into_anded_words():
    q = parse_query("美联储降息").query
    assert isinstance(q, wq.And)
    assert words(q) == {"美联储", "降息"}


def test_words_are_analyzed_like_the_documents():
    assert words(parse_query("立法會 ＡＩ Rates").query) == {"立法会", "ai", "rate"}


def test_or_matches_either():
    q = parse_query("马克杯 OR 马克思").query
    assert isinstance(q, wq.Or)
    assert words(q) == {"马克杯", "马克思"}


def test_or_binds_tighter_than_and():
    q = parse_query("rate OR 降息 cut").query
    assert isinstance(q, wq.And)
    first, second = q.subqueries
    assert isinstance(first, wq.Or) and words(first) == {"rate", "降息"}
    assert words(second) == {"cut"}


def test_pipe_is_or():
    assert isinstance(parse_query("rate | cut").query, wq.Or)


def test_and_keyword_is_the_default():
    assert isinstance(parse_query("rate AND cut").query, wq.And)
    assert words(parse_query("rate AND cut").query) == {"rate", "cut"}


@pytest.mark.parametrize("text", ["降息 -欧洲", "降息 NOT 欧洲"])
def test_minus_and_not_exclude(text):
    q = parse_query(text).query
    assert isinstance(q, wq.AndNot)
    assert words(q.a) == {"降息"}
    assert words(negated(q)) == {"欧洲"}


@pytest.mark.parametrize("text", ["-rate", "NOT rate"])
def test_a_lone_exclusion_means_everything_else(text):
    q = parse_query(text).query
    assert isinstance(q, wq.AndNot)
    assert isinstance(q.a, wq.Every)
    assert words(q.b) == {"rate"}


def test_minus_excludes_a_phrase():
    q = parse_query('降息 -"rate cut"').query
    assert isinstance(q, wq.AndNot)
    assert words(negated(q)) == {"rate", "cut"}


def test_minus_excludes_a_group():
    q = parse_query("降息 -(欧洲 OR 美联储)").query
    assert isinstance(q, wq.AndNot)
    assert isinstance(negated(q), wq.Or)
    assert words(negated(q)) == {"欧洲", "美联储"}


def test_excluded_words_are_not_highlighted():
    hl = parse_query("降息 -欧洲 NOT rate").highlight
    assert hl.cjk == {"降息"}
    assert hl.words == set()


def test_phrase_keeps_word_order():
    q = parse_query('"interest rate cut"').query
    phrases = [leaf for leaf in q.leaves() if isinstance(leaf, wq.Phrase)]
    assert {p.fieldname for p in phrases} == {"title", "description", "tags_text", "body"}
    assert all(p.words == ["interest", "rate", "cut"] for p in phrases)


def test_chinese_phrase_also_matches_as_a_substring():
    q = parse_query('"美联储降息"').query
    grams = [
        leaf for leaf in q.leaves() if isinstance(leaf, wq.Phrase) and leaf.fieldname == "bigrams"
    ]
    assert [g.words for g in grams] == [["美联", "联储", "储降", "降息"]]


def test_title_scope():
    q = parse_query("title:降息").query
    assert {field for field, _ in terms(q)} == {"title", "title_grams"}


def test_scope_applies_to_the_next_word_after_a_space():
    assert terms(parse_query("title: rate").query) == {("title", "rate")}


def test_title_scope_on_a_phrase():
    q = parse_query('title:"rate cut"').query
    assert terms(q) == {("title", "rate"), ("title", "cut")}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tag:us", wq.Term("tag", "us")),
        ("tag:ＡＩ", wq.Term("tag", "ai")),
        ("TAG:US", wq.Term("tag", "us")),
        ("tags:us", wq.Term("tag", "us")),
        ("tag:立法會", wq.Term("tag", "立法会")),
        ("author:FT", wq.Term("author_key", "ft")),
        ("tag:(us OR economy)", wq.Or([wq.Term("tag", "us"), wq.Term("tag", "economy")])),
    ],
)
def test_tag_and_author_scopes_are_exact_keys(text, expected):
    assert parse_query(text).query == expected


def test_prefix():
    q = parse_query("infla*").query
    assert {(leaf.fieldname, leaf.text) for leaf in q.leaves()} == {
        (f, "infla") for f in ("title", "description", "tags_text", "body")
    }
    assert all(isinstance(leaf, wq.Prefix) for leaf in q.leaves())
    assert parse_query("infla*").highlight.prefixes == {"infla"}


def test_one_letter_prefix_is_a_plain_word():
    assert not any(isinstance(leaf, wq.Prefix) for leaf in parse_query("i*").query.leaves())


def test_grouping():
    q = parse_query("(马克杯 OR 马克思) 设计").query
    assert isinstance(q, wq.And)
    group, word = q.subqueries
    assert isinstance(group, wq.Or) and words(group) == {"马克杯", "马克思"}
    assert words(word) == {"设计"}


def test_scoped_group():
    q = parse_query("title:(降息 OR 加息)").query
    assert {field for field, _ in terms(q)} == {"title", "title_grams"}


def test_relaxed_form_matches_any_positive_clause():
    pq = parse_query("美联储 降息 -欧洲")
    assert isinstance(pq.relaxed, wq.AndNot)
    assert isinstance(pq.relaxed.a, wq.Or)
    assert words(pq.relaxed.b) == {"欧洲"}
    assert parse_query("降息").relaxed is None


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
    assert words(parse_query(text).query) == expected


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
    assert parse_query(text).query is None


# --- Limits --------------------------------------------------------------------------------


def test_longest_query_is_accepted():
    assert parse_query("a" * MAX_QUERY_CHARS).query is not None


def test_too_long_query_is_refused():
    with pytest.raises(InvalidQuery, match=str(MAX_QUERY_CHARS)):
        parse_query("a" * (MAX_QUERY_CHARS + 1))


def test_many_terms_are_accepted_up_to_the_limit():
    assert parse_query(" ".join(f"w{i}x" for i in range(MAX_TERMS))).query is not None


def test_too_many_terms_are_refused():
    with pytest.raises(InvalidQuery, match=str(MAX_TERMS)):
        parse_query(" ".join(f"w{i}x" for i in range(MAX_TERMS + 1)))


@pytest.mark.parametrize(
    "text",
    [
        "-".join(f"w{i}x" for i in range(MAX_TERMS + 1)),
        "美联储宣布降息一个百分点以支持经济增长" * 50,
    ],
    ids=["hyphenated", "chinese"],
)
def test_too_many_terms_are_refused_however_they_are_joined(text):
    with pytest.raises(InvalidQuery):
        parse_query(text)


def test_nesting_up_to_the_limit_is_accepted():
    text = "(" * MAX_DEPTH + "rate" + ")" * MAX_DEPTH
    assert words(parse_query(text).query) == {"rate"}


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
    assert parsed.query is None or isinstance(parsed.query, wq.Query)
