"""The bilingual analysis chain: what terms a text becomes, where they sit, how they fold."""

from __future__ import annotations

import pickle

import pytest

from searchengine.analysis import (
    KeyTokenizer,
    analyze,
    facet_key,
    key_analyzer,
    spell_analyzer,
    word_analyzer,
)
from searchengine.chars import RUN_SEP, TITLE_END, char_text, run_keys
from searchengine.folding import fold, fold_with_map
from searchengine.highlighting import highlight_title
from searchengine.query import parse_query
from searchengine.schema import build_schema


def spans(text: str) -> list[tuple[str, int, int, str]]:
    """Each token with its character span and the original text under it."""
    tokens = word_analyzer()(text, chars=True)
    return [(t.text, t.startchar, t.endchar, text[t.startchar : t.endchar]) for t in tokens]


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        # Empty input never raises (Whoosh's MultiFilter does on "").
        ("", []),
        ("   ", []),
        ("\n\t", []),
        # Chinese is segmented into words.
        ("美联储降息", ["美联储", "降息"]),
        ("马克思主义", ["马克思主义"]),
        ("马克杯", ["马克杯"]),
        # Traditional folds to Simplified.
        ("立法會選舉", ["立法会", "选举"]),
        ("美聯儲降息", ["美联储", "降息"]),
        # Full-width folds to half-width.
        ("ＡＩ", ["ai"]),
        ("２０２５", ["2025"]),
        ("ＡＩ芯片", ["ai", "芯片"]),
        # English: lower case, stop words dropped, inflections stemmed.
        ("Rates", ["rate"]),
        ("cutting", ["cut"]),
        ("rate cuts", ["rate", "cut"]),
        ("The rate of inflation", ["rate", "inflat"]),
        ("the of and", []),
        # Numbers stay whole; thousands separators go.
        ("2000", ["2000"]),
        ("7%", ["7%"]),
        ("3.5%", ["3.5%"]),
        ("S&P 500", ["s&p", "500"]),
        ("2,000", ["2000"]),
        ("1,234,567", ["1234567"]),
        # Mixed text.
        (
            "美联储宣布降息25个基点 interest rate cut",
            ["美联储", "宣布", "降息", "25", "个", "基点", "interest", "rate", "cut"],
        ),
        ("美聯儲降息 Rates cutting ＡＩ 7%", ["美联储", "降息", "rate", "cut", "ai", "7%"]),
        # Korean stays findable, as words between spaces.
        ("삼성전자 실적", ["삼성전자", "실적"]),
        ("Samsung 삼성전자", ["samsung", "삼성전자"]),
        # Accents survive folding.
        ("café", ["café"]),
    ],
)
def test_analyze(text, terms):
    assert analyze(text) == terms


@pytest.mark.parametrize(
    ("text", "term"),
    [("China's economy", "china"), ("Apple’s iPhone", "appl"), ("AT&T's canteen", "at&t")],
)
def test_possessive_keeps_the_word_findable(text, term):
    assert term in analyze(text)


def test_positions_count_words_consecutively():
    tokens = word_analyzer()("美联储 降息 rates of the cut", positions=True)
    assert [(t.text, t.pos) for t in tokens] == [
        ("美联储", 0),
        ("降息", 1),
        ("rate", 2),
        ("cut", 3),
    ]


def test_positions_start_at_zero_after_a_leading_stop_word():
    tokens = word_analyzer()("the rate of 降息", positions=True)
    assert [(t.text, t.pos) for t in tokens] == [("rate", 0), ("降息", 1)]


def test_start_pos_shifts_positions():
    tokens = word_analyzer()("美联储 降息", positions=True, start_pos=10)
    assert [t.pos for t in tokens] == [10, 11]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("美聯儲 ＡＩ", [("美联储", 0, 3, "美聯儲"), ("ai", 4, 6, "ＡＩ")]),
        ("Rates ２０２５", [("rate", 0, 5, "Rates"), ("2025", 6, 10, "２０２５")]),
        ("漲了 3.5%", [("涨", 0, 1, "漲"), ("了", 1, 2, "了"), ("3.5%", 3, 7, "3.5%")]),
        ("㎏ ＡＩ", [("kg", 0, 1, "㎏"), ("ai", 2, 4, "ＡＩ")]),
    ],
)
def test_character_offsets_point_into_the_original_text(text, expected):
    assert spans(text) == expected


def test_start_char_shifts_offsets():
    tokens = word_analyzer()("ＡＩ", chars=True, start_char=10)
    assert [(t.startchar, t.endchar) for t in tokens] == [(10, 12)]


# --- Gram tokenizers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        ("", "", TITLE_END),
        # The title's runs first, then every run of the document, folded.
        ("安裝簡單", "ok 好", "安装简单" + TITLE_END + RUN_SEP.join(["安装简单", "好"])),
        ("", "삼성전자 HBM", TITLE_END + "삼성전자"),
        ("", "rates 7%", TITLE_END),
        # A character OpenCC folds only inside a phrase stays findable on its own.
        ("", "瞭解", TITLE_END + RUN_SEP.join(["了解", "瞭解"])),
    ],
)
def test_char_text_keeps_folded_cjk_runs(title, body, expected):
    assert char_text(title, "", [], body) == expected


def test_run_keys_are_the_pairs_of_a_run_or_its_one_character():
    assert run_keys("港") == [ord("港")]
    assert len(run_keys("美联储")) == 2
    assert len(run_keys("哈哈哈")) == 1  # a repeated pair is looked up once


def test_acronym_plurals_fold_to_the_acronym():
    assert analyze("GPUs LLMs APIs") == ["gpu", "llm", "api"]
    assert analyze("Bus buses") == ["bus", "buse"]  # ordinary words keep the stemmer's rules


def test_spell_analyzer_keeps_plain_unstemmed_words():
    assert [t.text for t in spell_analyzer()("Inflation cools, 美联储 ok")] == [
        "inflation",
        "cools",
    ]


# --- Keys (tags, authors) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["AI ", "立法會", "ＡＩ"], ["ai", "立法会", "ai"]),
        ("Hong  Kong", ["hong kong"]),
        (["", "  "], []),
        ([], []),
    ],
)
def test_key_tokenizer(value, expected):
    assert [t.text for t in KeyTokenizer()(value)] == expected
    assert [t.text for t in key_analyzer()(value)] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("AI", "ai"),
        ("ＡＩ", "ai"),
        ("  Hong   Kong ", "hong kong"),
        ("立法會", "立法会"),
        ("", ""),
        (2024, "2024"),
    ],
)
def test_facet_key(value, expected):
    assert facet_key(value) == expected


# --- Pickling (Whoosh stores the schema, analyzers included, in the index) ---------------


@pytest.mark.parametrize("make", [word_analyzer, key_analyzer, spell_analyzer])
def test_analyzers_pickle(make):
    analyzer = make()
    copy = pickle.loads(pickle.dumps(analyzer))
    text = "美聯儲 Rates ＡＩ"
    assert [t.text for t in copy(text)] == [t.text for t in analyzer(text)]


def test_schema_pickles():
    schema = pickle.loads(pickle.dumps(build_schema()))
    assert {"title", "body", "tag", "author_key", "date"} <= set(schema.names())
    assert [t.text for t in schema["body"].analyzer("降息 Rates")] == ["降息", "rate"]


# --- Folding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("立法會選舉", "立法会选举"),
        ("美聯儲", "美联储"),
        ("頭髮 發展", "头发 发展"),
        ("臺灣 後來", "台湾 后来"),
        ("ＡＩ ２０２５", "ai 2025"),
        ("Rates", "rates"),
        ("美联储", "美联储"),
    ],
)
def test_fold(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize(
    "text",
    ["立法會選舉結果公佈", "美聯儲暗示降息", "頭髮發展", "乾隆皇帝", "臺灣後來著名", "聯合國憲章"],
)
def test_traditional_folding_keeps_length_and_offsets(text):
    folded, offsets = fold_with_map(text)
    assert folded == fold(text)
    assert len(folded) == len(text)
    assert list(offsets) == list(range(len(text)))


def test_fold_with_map_maps_expanded_characters_back():
    folded, offsets = fold_with_map("㎏ ＡＩ")
    assert folded == "kg ai"
    assert list(offsets) == [0, 0, 1, 2, 3]


def test_fold_with_map_agrees_with_fold_on_decomposed_accents():
    text = "Cafe\u0301"  # "Café" as macOS writes it
    assert fold_with_map(text)[0] == fold(text)
    assert highlight_title(text, parse_query("café").highlight) == "<mark>Cafe\u0301</mark>"
