"""Bilingual synonyms: a query term finds every member of its group, with no rebuild."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from searchengine.config import Settings
from searchengine.index import open_index
from searchengine.search import SearchRequest, search
from searchengine.synonyms import parse


def write_doc(root, name: str, *, title: str, body: str) -> None:
    """A digest with YAML front matter (the shared helper's conftest is not importable here)."""
    text = f"---\ntitle: {title}\ndate: 2024-07-19\ntags: [test]\nauthor: tester\n---\n\n{body}\n"
    (root / name).write_text(text, encoding="utf-8")


GROUPS = """# central banks
美联储, Fed, Federal Reserve
欧洲央行 , ECB
just one member
人工智能、AI
"""


def test_groups_are_read_and_a_malformed_line_is_reported_with_its_number():
    table = parse(GROUPS)
    assert len(table.groups) == 3
    assert table.errors == [(4, "a group needs at least two members separated by commas")]
    assert table.summary() == {"hash": table.digest, "groups": 3, "errors": 1}
    assert parse(GROUPS).digest == table.digest != parse(GROUPS + "\n降息, rate cut").digest


def test_members_fold_like_queries():
    table = parse("美聯儲, Feds\n")
    assert table.group(("美联储",)) is table.group(("fed",)) is not None


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("synonyms_corpus")
    write_doc(root, "zh.md", title="美联储暂停降息", body="美联储维持利率不变。")
    write_doc(root, "en.md", title="The Fed holds", body="The Fed held rates steady.")
    write_doc(root, "long.md", title="Policy", body="The Federal Reserve said inflation cooled.")
    write_doc(root, "apart.md", title="Reserve", body="A federal court and a reserve fund.")
    write_doc(root, "ecb.md", title="欧洲央行降息", body="欧洲央行下调利率。")
    write_doc(root, "other.md", title="芯片", body="芯片需求增长。")
    (root / "synonyms.txt").write_text(GROUPS, encoding="utf-8")
    return root


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "indexer", *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def index(corpus, tmp_path_factory):
    from indexer.rebuild import rebuild

    index_dir = tmp_path_factory.mktemp("synonyms_index")
    report = rebuild(Settings.resolve(corpus, index_dir), jobs=1)
    assert (
        "synonyms.txt",
        "line 4: a group needs at least two members separated by commas; skipped",
    ) in report.notes
    ix = open_index(index_dir)
    yield ix, index_dir
    ix.close()


def ids(ix, q: str) -> set[str]:
    return {h.id for h in search(ix, SearchRequest(q=q, per_page=100)).results}


@pytest.mark.parametrize("q", ["Fed", "fed", "美联储", "美聯儲", '"Federal Reserve"'])
def test_any_member_finds_every_member(index, q):
    ix, _ = index
    assert ids(ix, q) == {"zh", "en", "long"}


def test_a_multi_word_member_typed_unquoted_also_finds_its_words_apart(index):
    ix, _ = index
    assert ids(ix, "federal reserve") == {"zh", "en", "long", "apart"}


def test_a_multi_word_member_is_a_phrase_not_its_words_apart(index):
    ix, _ = index
    assert "apart" not in ids(ix, "Fed")


def test_highlights_mark_the_member_that_was_found(index):
    ix, _ = index
    hits = {h.id: h for h in search(ix, SearchRequest(q="Fed")).results}
    assert "<mark>美联储</mark>" in hits["zh"].title_html
    assert "<mark>Federal Reserve</mark>" in hits["long"].snippet_html


def test_excluding_a_member_excludes_the_group(index):
    ix, _ = index
    assert ids(ix, "利率 -Fed") == {"ecb"}


def test_editing_the_file_takes_effect_after_an_update_without_a_rebuild(index, corpus):
    ix, index_dir = index
    assert ids(ix, "ECB") == {"ecb"}
    assert ids(ix, "chips") == set()
    status = json.loads(cli("status", "--index", str(index_dir), "--json").stdout)
    before = status["synonyms"]
    (corpus / "synonyms.txt").write_text(GROUPS + "芯片, chips\n", encoding="utf-8")
    done = cli("update", "--index", str(index_dir))
    assert done.returncode == 0, done.stderr
    assert "synonyms 4 groups" in done.stdout + done.stderr
    after = json.loads(cli("status", "--index", str(index_dir), "--json").stdout)["synonyms"]
    assert after["groups"] == before["groups"] + 1 and after["hash"] != before["hash"]
    deadline = time.monotonic() + 5
    while ids(ix, "chips") != {"other"} and time.monotonic() < deadline:
        time.sleep(0.1)  # the open index notices the new table within a moment
    assert ids(ix, "chips") == {"other"}
    generation = json.loads(cli("status", "--index", str(index_dir), "--json").stdout)["generation"]
    assert (
        generation
        == json.loads(cli("status", "--index", str(index_dir), "--json").stdout)["generation"]
    )


def test_a_multi_word_member_is_marked_only_where_it_stands_whole():
    from searchengine.highlighting import highlight_title
    from searchengine.query import parse_query

    terms = parse_query("Fed", parse(GROUPS)).highlight
    assert (
        highlight_title("The Federal Reserve met", terms) == "The <mark>Federal Reserve</mark> met"
    )
    assert highlight_title("A reserve fund, a federal court", terms) == (
        "A reserve fund, a federal court"
    )


def test_an_english_query_shows_the_english_part_while_it_matches():
    from searchengine.highlighting import snippets
    from searchengine.query import parse_query

    terms = parse_query("Fed", parse(GROUPS)).highlight
    zh, en = "美联储降息。美联储再降息。美联储表示。", "The Fed cut rates."
    lang, main, other = snippets(zh, en, terms, prefer_zh=False)
    assert lang == "en" and "<mark>Fed</mark>" in main and "<mark>美联储</mark>" in other
    lang, _, _ = snippets(zh, "Rates were cut.", terms, prefer_zh=False)
    assert lang == "zh"  # the English part has no match: the Chinese one is shown
