"""Related stories: copies and same-source digests first, then the topic, never the document."""

from __future__ import annotations

import random

import numpy as np
import pytest
import yaml

from searchengine.lookup import get_document
from searchengine.related import (
    SAME_STORY,
    SLOTS,
    StoryTable,
    decode_signature,
    encode_signature,
    minhash,
    source_key,
)

GENERAL = [
    "今天",
    "表示",
    "市场",
    "认为",
    "可能",
    "进一步",
    "关注",
    "影响",
    "情况",
    "方面",
    "发展",
    "问题",
    "计划",
    "记者",
    "政府",
    "社会",
    "公司",
    "去年",
    "目前",
    "官员",
]
TOPICS = {
    "fed": ["美联储", "降息", "通胀", "利率", "鲍威尔", "货币政策", "就业", "债券", "华尔街"],
    "fire": ["大埔", "大火", "消防员", "火警", "浓烟", "救护车", "厂房", "疏散", "伤者"],
    "food": ["红烧肉", "酱油", "火候", "厨师", "食谱", "砂糖", "炖煮", "猪肉", "餐厅"],
    "ball": ["足球", "进球", "球队", "联赛", "教练", "门将", "比赛", "球迷", "冠军"],
}

STORY = ["hk/article_101", "hk/article_205", "hk/article_333"]  # one article, three numbers
STORY_DATES = {"hk/article_101": "2024-03-01", "hk/article_205": "2024-03-02"}
FED_A, FED_B = "digest/2024-07-19-fed", "digest/2024-07-20-fed-again"  # one source link
FED_NEIGHBOURS = [f"digest/fed-{i}" for i in range(7)]
FIRE_FOLLOW_UP = "hk/article_400"
FOOD = ["food/braise", "food/braise-tips"]
BALL = "sport/final"
CHIP_A, CHIP_B = "en/2024-05-01-chips", "en/2024-05-02-chips-copy"
CHIP_TEXT = (
    "Chip makers raised their forecasts on Monday as demand for data centre processors kept "
    "growing. Analysts said the shortage of advanced packaging capacity would last into next "
    "year, while smaller suppliers struggled to win orders from the largest cloud companies. "
    "Shares of equipment makers rose after the announcement, and several governments promised "
    "new subsidies for factories built on their own soil."
)


def write_doc(root, relpath: str, *, title: str, body: str, date: str = "2024-07-19", **meta):
    """Write one digest: YAML front matter, then the Markdown body."""
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    head = yaml.safe_dump({"title": title, "date": date, **meta}, allow_unicode=True)
    path.write_text(f"---\n{head}---\n\n{body}\n", encoding="utf-8")


def prose(topic: str, seed: int, sentences: int = 12) -> str:
    """Chinese text on a topic, different for every seed (so only copies share shingles)."""
    rng = random.Random(seed)
    out = []
    for _ in range(sentences):
        words = [
            rng.choice(TOPICS[topic]) if rng.random() < 0.4 else rng.choice(GENERAL)
            for _ in range(9)
        ]
        out.append("".join(words) + "。")
    return "".join(out)


@pytest.fixture(scope="module")
def related_index(tmp_path_factory):
    """A corpus with copies, a same-link pair, topic neighbours and unrelated documents."""
    from indexer.rebuild import rebuild
    from searchengine import Settings, open_index

    root = tmp_path_factory.mktemp("related-corpus")
    story = prose("fire", 1)
    for n, doc_id in enumerate(STORY):
        # Archived copies differ in their image addresses and a trailing note only.
        body = f"![](https://web.archive.org/web/2021071204580{n}im_/x.jpg)\n\n{story}"
        if n == 2:
            body += "\n\n（更新）"
        write_doc(
            root,
            f"{doc_id}.md",
            title="大埔厂房大火 消防员救出三人",
            date=STORY_DATES.get(doc_id, "2024-03-03"),
            tags=["大埔"],
            body=body,
        )
    write_doc(
        root, f"{FIRE_FOLLOW_UP}.md", title="大埔大火后 消防处检讨疏散安排", body=prose("fire", 2)
    )
    write_doc(
        root,
        f"{FED_A}.md",
        title="美联储暗示降息",
        date="2024-07-19",
        body="[原文链接](https://www.reuters.com/markets/fed-cut/?utm_source=twitter)\n\n"
        + prose("fed", 10),
    )
    write_doc(
        root,
        f"{FED_B}.md",
        title="华尔街押注九月降息",
        date="2024-07-20",
        body="[Source Link](http://reuters.com/markets/fed-cut#top)\n\n" + prose("fed", 11),
    )
    for i, doc_id in enumerate(FED_NEIGHBOURS):
        write_doc(
            root,
            f"{doc_id}.md",
            title=f"美联储利率前景 第{i}篇",
            date=f"2024-06-{10 + i:02d}",
            body=prose("fed", 20 + i),
        )
    for i, doc_id in enumerate(FOOD):
        write_doc(root, f"{doc_id}.md", title=f"红烧肉食谱 {i}", body=prose("food", 30 + i))
    write_doc(root, f"{BALL}.md", title="联赛决赛 球队夺冠", body=prose("ball", 40))
    write_doc(root, f"{CHIP_A}.md", title="Chip makers raise forecasts", body=CHIP_TEXT)
    write_doc(
        root, f"{CHIP_B}.md", title="Chip makers raise forecasts", date="2024-07-20", body=CHIP_TEXT
    )
    index_dir = tmp_path_factory.mktemp("related-index")
    rebuild(Settings.resolve(root, index_dir), jobs=1)
    ix = open_index(index_dir)
    yield ix
    ix.close()


def related_ids(ix, doc_id: str) -> list[str]:
    return [r.id for r in get_document(ix, doc_id).related]


def test_copies_come_first_newest_first(related_index):
    doc = get_document(related_index, "hk/article_101")
    got = [r.id for r in doc.related]
    # 205 is an exact copy, 333 a near one (a note added) but newer: near-equal, newest first.
    assert got[:2] == ["hk/article_333", "hk/article_205"]
    assert [r.same_story for r in doc.related[:3]] == [True, True, False]
    assert doc.related[1].score == 1.0
    assert FIRE_FOLLOW_UP in got[2:]


def test_every_copy_finds_the_others(related_index):
    for doc_id in STORY:
        others = set(STORY) - {doc_id}
        assert set(related_ids(related_index, doc_id)[:2]) == others


def test_same_source_link_is_the_same_story(related_index):
    assert related_ids(related_index, FED_A)[0] == FED_B
    assert related_ids(related_index, FED_B)[0] == FED_A
    doc = get_document(related_index, FED_A)
    assert doc.related[0].same_story
    assert not any(r.same_story for r in doc.related[1:])


def test_english_copies_are_found_by_words(related_index):
    assert related_ids(related_index, CHIP_A)[0] == CHIP_B


def test_topic_neighbours_fill_the_list(related_index):
    got = related_ids(related_index, FED_NEIGHBOURS[0])
    assert len(got) == 5
    fed = {FED_A, FED_B, *FED_NEIGHBOURS}
    assert set(got) <= fed
    assert get_document(related_index, FOOD[0]).related[0].id == FOOD[1]


@pytest.mark.parametrize("doc_id", [*STORY, FED_A, FED_NEIGHBOURS[3], FOOD[0], BALL, CHIP_B])
def test_never_itself_at_most_five_deterministic(related_index, doc_id):
    doc = get_document(related_index, doc_id)
    ids = [r.id for r in doc.related]
    assert doc_id not in ids
    assert len(ids) <= 5
    assert len(set(ids)) == len(ids)
    assert ids == related_ids(related_index, doc_id)
    assert all(0 < r.score <= 1 for r in doc.related)
    assert [set(r.to_dict()) for r in doc.related] == [{"id", "title", "date", "score"}] * len(ids)


def test_unrelated_topics_stay_out(related_index):
    for doc_id in [FED_A, *FED_NEIGHBOURS]:
        assert not set(related_ids(related_index, doc_id)) & {*FOOD, BALL, *STORY}
    assert related_ids(related_index, FOOD[0]) == [FOOD[1]]
    # Alone on its topic: neighbours at best, never one story with anything.
    assert not any(r.same_story for r in get_document(related_index, BALL).related)


def test_without_related(related_index):
    assert get_document(related_index, FED_A, with_related=False).related == []


@pytest.mark.parametrize(
    ("url", "key"),
    [
        (
            "https://www.reuters.com/markets/fed-cut/?utm_source=twitter",
            "reuters.com/markets/fed-cut",
        ),
        ("http://reuters.com/markets/fed-cut#top", "reuters.com/markets/fed-cut"),
        (
            "https://web.archive.org/web/20210712045807/https://www.hkcnews.com/article/32550/x",
            "hkcnews.com/article/32550/x",
        ),
        ("https://example.com/item?id=7&fbclid=abc", "example.com/item?id=7"),
        ("https://news.ycombinator.com/", ""),  # a home page names no story
        ("", ""),
        ("not a url at all", ""),
    ],
)
def test_source_key(url, key):
    assert source_key(url) == key


def test_minhash_estimates_likeness():
    a = minhash(prose("fed", 1))
    assert a is not None and a.dtype == np.uint32 and len(a) == SLOTS
    assert (a == minhash(prose("fed", 1) + "（更新）")).mean() >= 0.9
    assert (a == minhash(prose("fed", 2))).mean() < SAME_STORY
    assert minhash("") is None and minhash("   ") is None and minhash("短文") is None
    assert np.array_equal(decode_signature(encode_signature(a)), a)
    assert decode_signature("") is None and decode_signature("!!") is None


def test_documents_without_signature_match_nothing_but_their_source():
    sig = encode_signature(minhash(prose("fed", 1)))
    table = StoryTable(["a.com/x", "a.com/x", "", ""], ["", "", sig, ""], np.ones(4, bool))
    assert table.same_story(0).tolist() == [1.0, 1.0, 0.0, 0.0]
    assert table.same_story(3).tolist() == [0.0, 0.0, 0.0, 0.0]
    assert table.same_story(2).tolist() == [0.0, 0.0, 1.0, 0.0]
