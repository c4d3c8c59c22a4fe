"""Rebuild and update in-process: what gets indexed, skipped, switched and cleaned up."""

from __future__ import annotations

import json
import time

import pytest

from indexer.rebuild import CorpusError, rebuild
from indexer.update import update
from searchengine import SearchRequest, Settings, open_index, search
from searchengine.errors import IndexBusy, IndexIncompatible, IndexMissing
from searchengine.store import IndexStore

RECHECK = 0.3  # an open Index looks for a new generation at most every 0.25 s


def ids(ix, q="", **kw) -> set[str]:
    return {h.id for h in search(ix, SearchRequest(q=q, per_page=100, **kw)).results}


def generations(index_dir) -> set[str]:
    return {p.name for p in index_dir.iterdir() if p.name.startswith(("gen-", "building-"))}


def current(index_dir) -> str:
    return (index_dir / "CURRENT").read_text(encoding="utf-8").strip()


@pytest.fixture
def corpus(tmp_path, write_doc):
    root = tmp_path / "corpus"
    write_doc(
        root, "2024/fed.md", title="美联储降息", body="美联储宣布降息。\n\nThe Fed cut rates."
    )
    write_doc(root, "2024/mug.md", title="马克杯", body="新的马克杯。\n\nA new mug.")
    write_doc(root, "hk/立法會 選舉.md", title="立法會選舉", body="立法會選舉投票。\n\nLegCo vote.")
    write_doc(root, "notes/plain.md", title="Plain note", body="Zebra crossings everywhere.")
    return root


@pytest.fixture
def settings(corpus, tmp_path):
    return Settings.resolve(corpus, tmp_path / "index")


@pytest.fixture
def built(settings):
    """A corpus rebuilt once, with the index opened as a reader would."""
    report = rebuild(settings, jobs=1)
    ix = open_index(settings.index)
    yield report, ix
    ix.close()


# --- Rebuild -------------------------------------------------------------------------------


def test_rebuild_indexes_every_document(built, settings):
    report, ix = built
    assert (report.indexed, report.skipped) == (4, [])
    assert ids(ix) == {"2024/fed", "2024/mug", "hk/立法會 選舉", "notes/plain"}
    assert ids(ix, "立法会") == {"hk/立法會 選舉"}
    assert report.summary().startswith("rebuild: indexed 4, skipped 0")
    meta = json.loads((settings.index / current(settings.index) / "meta.json").read_text("utf-8"))
    assert meta["documents"] == 4


def test_parallel_rebuild_indexes_every_document_once(tmp_path, write_doc):
    corpus = tmp_path / "many"
    for i in range(120):
        write_doc(
            corpus,
            f"d/{i:03}.md",
            title=f"文档 {i}",
            tags=["even" if i % 2 == 0 else "odd"],
            body=f"第{i}号。\n\nword{i} common",
        )
    write_doc(corpus, "d/bad.md", raw="---\ntitle: [oops\n---\n")
    settings = Settings.resolve(corpus, tmp_path / "index")
    report = rebuild(settings, jobs=2)
    assert (report.indexed, [p for p, _ in report.skipped]) == (120, ["d/bad.md"])
    ix = open_index(settings.index)
    try:
        resp = search(ix, SearchRequest(q="common", per_page=100))
        assert resp.total == 120
        assert {v["value"]: v["count"] for v in resp.to_dict()["facets"]["tags"]} == {
            "even": 60,
            "odd": 60,
        }
        assert ids(ix, "word77") == {"d/077"}
    finally:
        ix.close()


def test_broken_file_is_skipped_and_the_rest_indexed(settings, write_doc):
    write_doc(settings.corpus, "bad/yaml.md", raw="---\ntitle: [oops\n---\nbody\n")
    write_doc(settings.corpus, "bad/empty.md", raw="")
    report = rebuild(settings, jobs=1)
    assert report.indexed == 4
    reasons = dict(report.skipped)
    assert set(reasons) == {"bad/yaml.md", "bad/empty.md"}
    assert "invalid front matter" in reasons["bad/yaml.md"]
    assert "empty" in reasons["bad/empty.md"]
    assert "skipped 2" in report.summary()


def test_fallbacks_are_counted_in_the_summary(settings, write_doc):
    write_doc(settings.corpus, "odd/no-title.md", title=None, date="someday", body="no heading")
    report = rebuild(settings, jobs=1)
    assert "with fallbacks 1" in report.summary()
    notes = [n for path, n in report.notes if path == "odd/no-title.md"]
    assert any("file name" in n for n in notes) and any("unreadable date" in n for n in notes)


def test_missing_corpus_is_refused(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        rebuild(Settings.resolve(tmp_path / "nowhere", tmp_path / "index"), jobs=1)
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_empty_corpus_is_refused(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "notes.txt").write_text("not markdown", encoding="utf-8")
    with pytest.raises(CorpusError, match="No Markdown"):
        rebuild(Settings.resolve(tmp_path / "corpus", tmp_path / "index"), jobs=1)


def test_corpus_of_only_broken_files_is_refused(tmp_path, write_doc):
    write_doc(tmp_path / "corpus", "a.md", raw="")
    with pytest.raises(CorpusError, match="could be indexed"):
        rebuild(Settings.resolve(tmp_path / "corpus", tmp_path / "index"), jobs=1)


def test_second_rebuild_switches_and_removes_the_old_generation(settings):
    rebuild(settings, jobs=1)
    first = current(settings.index)
    rebuild(settings, jobs=1)
    second = current(settings.index)
    assert first != second
    assert generations(settings.index) == {second}


def test_old_generation_is_kept_while_a_reader_holds_it(settings):
    rebuild(settings, jobs=1)
    first = current(settings.index)
    ix = open_index(settings.index)
    try:
        assert ids(ix, "马克杯") == {"2024/mug"}
        (settings.corpus / "2024" / "mug.md").unlink()
        rebuild(settings, jobs=1)
        second = current(settings.index)
        assert generations(settings.index) == {first, second}
        # When the reader notices the switch it moves over and lets the old one go.
        time.sleep(RECHECK)
        assert ids(ix, "马克杯") == set()
        assert generations(settings.index) == {second}
    finally:
        ix.close()


def test_a_closed_reader_lets_the_next_rebuild_clean_up(settings):
    rebuild(settings, jobs=1)
    ix = open_index(settings.index)
    assert ids(ix)
    rebuild(settings, jobs=1)
    assert len(generations(settings.index)) == 2
    ix.close()
    rebuild(settings, jobs=1)
    assert generations(settings.index) == {current(settings.index)}


def test_interrupted_rebuild_leaves_the_old_index_serving(built, settings):
    _, ix = built
    before = current(settings.index)

    def interrupt(total):
        def progress(n):
            raise KeyboardInterrupt  # Ctrl+C while documents are being written

        return progress

    with pytest.raises(KeyboardInterrupt):
        rebuild(settings, jobs=1, progress_factory=interrupt)
    assert current(settings.index) == before
    assert generations(settings.index) == {before}
    assert len(ids(ix)) == 4
    rebuild(settings, jobs=1)
    assert current(settings.index) != before


def test_leftover_build_from_a_crash_is_cleaned_up(settings):
    rebuild(settings, jobs=1)
    leftover = settings.index / "building-20240101T000000-dead00"
    leftover.mkdir()
    (leftover / "junk").write_text("x", encoding="utf-8")
    rebuild(settings, jobs=1)
    assert not leftover.exists()


def test_ids_are_stable_across_rebuilds(settings):
    rebuild(settings, jobs=1)
    ix = open_index(settings.index)
    try:
        before = ids(ix)
        rebuild(settings, jobs=1)
        time.sleep(RECHECK)
        assert ids(ix) == before
    finally:
        ix.close()


def test_writer_lock_makes_a_second_writer_wait_or_fail(settings):
    rebuild(settings, jobs=1)
    with IndexStore(settings.index).writer_lock():
        with pytest.raises(IndexBusy, match="Another indexer"):
            rebuild(settings, jobs=1, wait=0)
        with pytest.raises(IndexBusy):
            update(settings, wait=0)
    rebuild(settings, jobs=1, wait=0)


# --- Update --------------------------------------------------------------------------------


def test_update_with_nothing_changed(built, settings):
    report = update(settings)
    assert (report.indexed, report.removed, report.unchanged) == (0, 0, 4)
    assert report.summary().startswith("update: indexed 0, skipped 0, removed 0, unchanged 4")


def test_update_follows_edits_deletions_renames_and_new_files(built, settings, write_doc):
    _, ix = built
    root = settings.corpus
    gen = current(settings.index)
    write_doc(
        root,
        "2024/fed.md",
        title="美联储按兵不动",
        body="美联储维持利率不变。\n\nThe Fed held rates.",
    )
    (root / "2024" / "mug.md").unlink()
    (root / "notes" / "plain.md").rename(root / "notes" / "renamed.md")
    write_doc(root, "2025/new.md", title="新文档", body="量子计算突破。\n\nQuantum leap.")

    report = update(settings)
    assert (report.indexed, report.removed, report.unchanged, report.skipped) == (3, 2, 1, [])
    assert current(settings.index) == gen  # updated in place, no new generation

    time.sleep(RECHECK)
    assert ids(ix) == {"2024/fed", "hk/立法會 選舉", "notes/renamed", "2025/new"}
    assert ids(ix, "按兵不动") == {"2024/fed"}
    assert ids(ix, "降息") == set()
    assert ids(ix, "马克杯") == set()
    assert ids(ix, "zebra") == {"notes/renamed"}
    assert ids(ix, "量子") == {"2025/new"}
    meta = json.loads((settings.index / gen / "meta.json").read_text("utf-8"))
    assert meta["documents"] == 4 and meta["updated_at"]

    again = update(settings)
    assert (again.indexed, again.removed, again.unchanged) == (0, 0, 4)


def test_a_file_that_became_broken_is_reported_and_removed(built, settings, write_doc):
    _, ix = built
    write_doc(settings.corpus, "2024/mug.md", raw="---\ntitle: [broken\n---\n马克杯\n")
    report = update(settings)
    assert [path for path, _ in report.skipped] == ["2024/mug.md"]
    assert "invalid front matter" in report.skipped[0][1]
    assert [path for path, _ in report.notes] == ["2024/mug.md"]
    assert report.removed == 1
    time.sleep(RECHECK)
    assert ids(ix, "马克杯") == set()
    assert "2024/mug" not in ids(ix)


def test_update_facets_follow_the_changes(built, settings, write_doc):
    _, ix = built
    write_doc(settings.corpus, "2025/tagged.md", tags=["量子", "science"], author="newcomer")
    update(settings)
    time.sleep(RECHECK)
    facets = search(ix, SearchRequest()).to_dict()["facets"]
    assert {"value": "量子", "count": 1} in facets["tags"]
    assert {"value": "newcomer", "count": 1} in facets["author"]


def test_update_without_an_index_says_how_to_build_one(settings):
    with pytest.raises(IndexMissing, match="indexer rebuild"):
        update(settings)


def test_update_with_the_corpus_gone(built, settings, tmp_path):
    settings.corpus.rename(tmp_path / "moved")
    with pytest.raises(CorpusError, match="not found"):
        update(settings)
    report = update(settings, corpus=tmp_path / "moved")
    assert report.unchanged == 4


def test_rebuild_keeps_one_file_per_id(settings, write_doc):
    write_doc(settings.corpus, "2024/fed.markdown", title="Same id, other file")
    report = rebuild(settings, jobs=1)
    assert report.indexed == 4
    assert len(report.skipped) == 1 and "same id" in report.skipped[0][1]


def test_update_agrees_with_rebuild_on_a_shared_id(settings, write_doc):
    write_doc(settings.corpus, "2024/fed.markdown", title="Same id, other file")
    rebuild(settings, jobs=1)
    ix = open_index(settings.index)
    try:
        hits = search(ix, SearchRequest(per_page=100)).results
        before = {h.id: h.title for h in hits}["2024/fed"]
        for _ in range(2):
            assert update(settings).indexed == 0
            time.sleep(RECHECK)
            after = {h.id: h.title for h in search(ix, SearchRequest(per_page=100)).results}
            assert after["2024/fed"] == before
    finally:
        ix.close()


def test_a_reader_opened_before_the_first_build_picks_it_up(settings):
    ix = open_index(settings.index)
    try:
        with pytest.raises(IndexMissing, match="indexer rebuild"):
            search(ix, SearchRequest())
        rebuild(settings, jobs=1)
        assert len(ids(ix)) == 4
    finally:
        ix.close()


def test_an_index_of_another_schema_version_asks_for_a_rebuild(built, settings):
    meta_path = settings.index / current(settings.index) / "meta.json"
    meta = json.loads(meta_path.read_text("utf-8"))
    meta_path.write_text(json.dumps({**meta, "schema_version": 0}), encoding="utf-8")
    ix = open_index(settings.index)
    try:
        with pytest.raises(IndexIncompatible, match="indexer rebuild"):
            search(ix, SearchRequest())
        with pytest.raises(IndexIncompatible):
            update(settings)
    finally:
        ix.close()
    rebuild(settings, jobs=1)


def _answers(index_dir, queries: list[str]) -> list[tuple[int, list[str]]]:
    ix = open_index(index_dir)
    try:
        out = []
        for q in queries:
            resp = search(ix, SearchRequest(q=q, per_page=100))
            out.append((resp.total, [h.id for h in resp.results]))
        return out
    finally:
        ix.close()


def test_a_rebuild_that_spills_postings_to_disk_answers_as_one_that_does_not(
    sample_index, tmp_path, monkeypatch
):
    """A large corpus spills sorted runs of postings past a bound; the index is the same."""
    from indexer import segments
    from indexer.corpus import SAMPLE_CORPUS

    monkeypatch.setattr(segments, "POOL_ITEMS", 200)  # the sample spills many runs
    rebuild(Settings.resolve(SAMPLE_CORPUS, tmp_path / "spilled"), jobs=1)
    queries = ["美联储", "rate cut", "联储", "AI", "tag:us", '"interest rates"', "市场 OR market"]
    assert _answers(tmp_path / "spilled", queries) == _answers(sample_index, queries)
    assert any(total for total, _ in _answers(sample_index, queries))


def test_a_snapshot_read_that_races_a_commit_is_read_again(built, settings, monkeypatch):
    """An update commits into the live index; a reader caught mid-way reads again, once
    more at most, rather than calling the index unreadable."""
    from searchengine import index as index_module

    real, failures, faults = index_module.FacetTable, [], [index_module.OPEN_ATTEMPTS - 1]

    def flaky(reader):
        if len(failures) < faults[0]:
            failures.append(reader)
            raise IndexError("array index out of range")  # what a half-seen segment gave
        return real(reader)

    monkeypatch.setattr(index_module, "FacetTable", flaky)
    ix = open_index(settings.index)
    try:
        assert search(ix, SearchRequest(q="")).total > 0
    finally:
        ix.close()
    assert len(failures) == index_module.OPEN_ATTEMPTS - 1

    failures.clear()
    faults[0] = index_module.OPEN_ATTEMPTS  # a lasting fault is reported
    ix = open_index(settings.index)
    try:
        with pytest.raises(IndexIncompatible, match="Run: indexer rebuild"):
            search(ix, SearchRequest(q=""))
    finally:
        ix.close()
