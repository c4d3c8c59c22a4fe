"""Related stories over HTTP: the JSON twin's `related`, the page's list, its links, escaping."""

from __future__ import annotations

import random
from urllib.parse import quote

import pytest
from htmltree import parse

from indexer.rebuild import rebuild
from searchengine.config import Settings
from web import create_app

WORDS = [
    "美联储",
    "降息",
    "通胀",
    "利率",
    "鲍威尔",
    "货币政策",
    "就业",
    "债券",
    "华尔街",
    "市场",
    "表示",
    "认为",
    "官员",
    "今年",
]
OTHER = [
    "红烧肉",
    "酱油",
    "火候",
    "厨师",
    "食谱",
    "砂糖",
    "炖煮",
    "猪肉",
    "餐厅",
    "表示",
    "认为",
    "今年",
]
MAIN = "news/2024-07-19 美联储降息"  # a space and Chinese in the id
HOSTILE = "news/copy #1?"  # '#' and '?' must be escaped in links
COPY = "news/copy-2"
HOSTILE_TITLE = '<script>alert(1)</script> 美联储 & "降息" <b>bold</b>'
NEIGHBOURS = [f"news/fed-{i}" for i in range(3)]
FOOD = "food/braise"


def prose(words: list[str], seed: int) -> str:
    rng = random.Random(seed)
    return "".join("".join(rng.choice(words) for _ in range(9)) + "。" for _ in range(12))


def write(root, doc_id: str, title: str, date: str, body: str) -> None:
    path = root / f"{doc_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    title_yaml = title.replace("\\", "\\\\").replace('"', '\\"')
    path.write_text(f'---\ntitle: "{title_yaml}"\ndate: {date}\n---\n\n{body}\n', "utf-8")


@pytest.fixture(scope="module")
def related_client(tmp_path_factory):
    """An app over a corpus with one story in three copies (one with a hostile title)."""
    root = tmp_path_factory.mktemp("related-web-corpus")
    story = prose(WORDS, 1)
    write(root, MAIN, "美联储暗示九月降息", "2024-07-19", story)
    write(root, HOSTILE, HOSTILE_TITLE, "2024-07-21", story)
    write(root, COPY, "美联储暗示九月降息", "2024-07-20", story + "\n\n（更新）")
    for i, doc_id in enumerate(NEIGHBOURS):
        write(root, doc_id, f"利率前景 第{i}篇", f"2024-06-1{i}", prose(WORDS, 10 + i))
    write(root, FOOD, "红烧肉食谱", "2024-05-01", prose(OTHER, 20))
    index_dir = tmp_path_factory.mktemp("related-web-index")
    rebuild(Settings.resolve(root, index_dir), jobs=1)
    app = create_app({"INDEX": str(index_dir), "TESTING": True})
    yield app.test_client()
    app.extensions["digest_index"].close()


def api_doc(client, doc_id: str) -> dict:
    resp = client.get("/api/doc/" + quote(doc_id))
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    return resp.get_json()


def test_api_doc_lists_related_with_the_contract_keys(related_client):
    data = api_doc(related_client, MAIN)
    related = data["related"]
    assert 1 <= len(related) <= 5
    for item in related:
        assert set(item) == {"id", "title", "date", "score"}
        assert isinstance(item["id"], str) and isinstance(item["title"], str)
        assert item["date"] is None or item["date"][:4] == "2024"
        assert isinstance(item["score"], float) and 0 < item["score"] <= 1
    ids = [item["id"] for item in related]
    assert MAIN not in ids
    # The copies first, newest first; then the neighbours on the same topic.
    assert ids[:2] == [HOSTILE, COPY]
    assert set(ids[2:]) <= set(NEIGHBOURS)
    assert related[0]["title"] == HOSTILE_TITLE  # JSON carries the text as written


def test_every_related_id_is_a_document(related_client):
    for item in api_doc(related_client, COPY)["related"]:
        assert api_doc(related_client, item["id"])["title"] == item["title"]


@pytest.mark.parametrize(("lang", "heading"), [("en", "Related"), ("zh", "相关报道")])
def test_document_page_shows_related_links_that_work(related_client, lang, heading):
    resp = related_client.get("/doc/" + quote(MAIN) + f"?lang={lang}")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    tree = parse(resp.get_data(as_text=True))
    section = tree.one("section.related")
    assert section.one("h2").text == heading
    links = section.select("li a")
    api_titles = [item["title"] for item in api_doc(related_client, MAIN)["related"]]
    assert [a.text for a in links] == api_titles
    for a in links:
        target = related_client.get(a.get("href"))
        assert target.status_code == 200, a.get("href")
        assert parse(target.get_data(as_text=True)).one("h1").text == a.text
    assert len(section.select("li .same-story")) == 2


def test_hostile_related_title_is_escaped(related_client):
    html = related_client.get("/doc/" + quote(MAIN)).get_data(as_text=True)
    section = parse(html).one("section.related")
    assert not section.select("script") and not section.select("b")
    assert section.select("li a")[0].text == HOSTILE_TITLE
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html


def test_hostile_id_links_to_its_document(related_client):
    tree = parse(related_client.get("/doc/" + quote(MAIN)).get_data(as_text=True))
    href = tree.one("section.related").select("li a")[0].get("href")
    assert "#" not in href and "?" not in href
    assert api_doc(related_client, HOSTILE)["id"] == HOSTILE
    assert related_client.get(href).status_code == 200
