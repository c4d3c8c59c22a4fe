"""A hostile corpus through the real `indexer` commands: nothing outside the corpus is read,
no file hangs or crashes the run, every normal digest is indexed (contract §1, §2, §5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_files import BEYOND_CAP, SECRET, SIZE_LIMIT, HostileCorpus, write_hostile_corpus

from indexer.rebuild import rebuild
from searchengine import SearchRequest, open_index, search
from searchengine.config import ENV_MAX_FILE_SIZE, Settings

BIN = Path(sys.executable).parent
TIMEOUT = 180  # a hang fails the test instead of freezing CI


def cli(program: str, *args: str) -> subprocess.CompletedProcess:
    """Run an installed command with no DIGEST_* variables from the caller's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    proc = subprocess.run(
        [str(BIN / program), *args],
        capture_output=True,
        encoding="utf-8",
        env={**env, "PYTHONIOENCODING": "utf-8"},
        timeout=TIMEOUT,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def query(index: Path, q: str) -> dict:
    proc = cli("searchengine", "query", q, "--index", str(index), "--json", "--per-page", "100")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def ids(index: Path, q: str = "") -> set[str]:
    return {r["id"] for r in query(index, q)["results"]}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> HostileCorpus:
    base = tmp_path_factory.mktemp("hostile")
    return write_hostile_corpus(base / "corpus", base / "outside")


@pytest.fixture(scope="module")
def built(hostile) -> tuple[Path, subprocess.CompletedProcess]:
    index = hostile.root.parent / "index"
    proc = cli(
        "indexer",
        *("rebuild", "--corpus", str(hostile.root), "--index", str(index)),
        *("--max-file-size", "2MB", "--jobs", "2"),
    )
    return index, proc


def skip_lines(stderr: str) -> dict[str, str]:
    """Map each path listed as skipped on stderr to its reason."""
    out = {}
    for line in stderr.splitlines():
        if line.startswith("skipped: "):
            path, _, reason = line.removeprefix("skipped: ").partition(": ")
            out[path] = reason
    return out


def test_rebuild_survives_and_ends_with_one_summary_line(built, hostile):
    index, proc = built
    assert proc.returncode == 0, proc.stderr
    (summary,) = proc.stdout.splitlines()
    skipped = len(hostile.expected("skipped"))
    assert summary.startswith("rebuild: indexed ") and f"skipped {skipped}," in summary


def test_every_normal_digest_is_indexed(built, hostile):
    index, _ = built
    for did, word in hostile.normal.items():
        assert ids(index, word) == {did}, word


def test_every_hostile_file_is_skipped_with_its_reason(built, hostile):
    listed = skip_lines(built[1].stderr)
    for entry in hostile.expected("skipped"):
        assert entry.path in listed, entry
        assert entry.reason in listed[entry.path], (entry, listed[entry.path])
    assert len(listed) == len(hostile.expected("skipped")), listed


def test_the_other_hostile_files_are_indexed_safely_with_their_notes(built, hostile):
    index, proc = built
    everything = ids(index)
    for entry in hostile.expected("indexed"):
        assert entry.path.removesuffix(".md") in everything, entry
        if entry.reason:
            prefix = f"note: {entry.path}: "
            notes = [n for n in proc.stderr.splitlines() if n.startswith(prefix)]
            assert any(entry.reason in n for n in notes), (entry, notes)


def test_symlinks_inside_the_corpus_add_no_copies(built, hostile):
    index, _ = built
    everything = ids(index)
    assert len(everything) == len(hostile.normal) + len(hostile.expected("indexed"))
    listed = skip_lines(built[1].stderr)
    for entry in hostile.expected("absent"):
        assert entry.path.removesuffix(".md") not in everything
        assert entry.path not in listed


def test_nothing_from_outside_the_corpus_is_findable(built):
    index, _ = built
    assert query(index, SECRET)["total"] == 0
    for word in ("root", "nologin", "daemon", "/bin/sh"):  # in /etc/passwd
        assert query(index, word)["total"] == 0, word


def test_only_the_first_part_of_a_large_file_is_searchable(built):
    index, _ = built
    assert ids(index, "largefilestart") == {"size/large"}
    assert query(index, BEYOND_CAP)["total"] == 0


def test_placeholder_dates_are_indexed_without_a_date(built):
    index, _ = built
    results = query(index, "Year")["results"]
    dates = {r["id"]: r["date"] for r in results}
    assert dates == {"dates/year-0001": None, "dates/year-9999": None}


def test_strict_rebuild_fails_on_a_hostile_corpus(tmp_path):
    hc = write_hostile_corpus(tmp_path / "corpus", tmp_path / "outside", markdown=False)
    proc = cli(
        "indexer",
        *("rebuild", "--corpus", str(hc.root), "--index", str(tmp_path / "ix")),
        *("--max-file-size", "2MB", "--jobs", "1", "--strict"),
    )
    assert proc.returncode == 1
    assert "--strict" in proc.stderr


def test_update_survives_a_hostile_corpus_appearing(hostile, tmp_path, write_doc):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_doc(corpus, "first.md", title="First", body="echounique")
    proc = cli("indexer", "rebuild", "--corpus", str(corpus), "--index", str(index))
    assert proc.returncode == 0, proc.stderr
    hc = write_hostile_corpus(corpus / "later", tmp_path / "outside", markdown=False)
    os.environ.pop(ENV_MAX_FILE_SIZE, None)
    proc = cli("indexer", "update", "--index", str(index), "--max-file-size", "2MB", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    listed = {s["path"]: s["reason"] for s in report["skipped"]}
    for entry in hc.expected("skipped"):
        assert entry.reason in listed[f"later/{entry.path}"], entry
    assert report["indexed"] == len(hc.normal) + len(hc.expected("indexed"))
    assert ids(index, "echounique") == {"first"}
    assert query(index, SECRET)["total"] == 0
    again = cli("indexer", "update", "--index", str(index), "--max-file-size", "2MB")
    assert again.returncode == 0, again.stderr
    assert f"unchanged {1 + report['indexed']}" in again.stdout


def test_the_library_rebuild_reports_the_same_skips(tmp_path, monkeypatch):
    hc = write_hostile_corpus(tmp_path / "corpus", tmp_path / "outside", markdown=False)
    monkeypatch.setenv(ENV_MAX_FILE_SIZE, str(SIZE_LIMIT))
    report = rebuild(Settings.resolve(hc.root, tmp_path / "ix"), jobs=1)
    skipped = dict(report.skipped)
    assert sorted(skipped) == sorted(e.path for e in hc.expected("skipped"))
    ix = open_index(tmp_path / "ix")
    try:
        assert search(ix, SearchRequest(q=SECRET)).total == 0
        assert search(ix, SearchRequest(q="root")).total == 0
    finally:
        ix.close()
