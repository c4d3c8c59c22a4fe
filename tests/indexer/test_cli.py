"""The real commands in a subprocess: exit codes, the summary line, messages on stderr."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from indexer.corpus import SAMPLE_CORPUS
from searchengine import SearchRequest, open_index, search


def run(*args: str, cwd, env: dict | None = None, module: str = "indexer"):
    """Run ``python -m <module> args`` with no DIGEST_* variables except those given."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    full_env.update(env or {}, PYTHONIOENCODING="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        encoding="utf-8",
        timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture
def corpus(tmp_path, write_doc):
    root = tmp_path / "corpus"
    write_doc(
        root,
        "2024/fed.md",
        title="美联储降息",
        tags=["us"],
        author="ft",
        body="美联储宣布降息。\n\nThe Fed cut interest rates.",
    )
    write_doc(root, "2024/mug.md", title="马克杯", date="2024-08-01", body="新的马克杯。")
    write_doc(root, "hk/立法會 選舉.md", title="立法會選舉", body="立法會選舉投票。")
    return root


@pytest.fixture
def broken(corpus, write_doc):
    write_doc(corpus, "bad/broken yaml.md", raw="---\ntitle: [oops\n---\nbody\n")
    return corpus


def test_rebuild_prints_one_summary_line(broken, tmp_path):
    proc = run("rebuild", "--corpus", str(broken), "--index", "ix", "--jobs", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    assert "indexed 3" in lines[0] and "skipped 1" in lines[0]
    assert "bad/broken yaml.md" in proc.stderr
    assert "invalid front matter" in proc.stderr
    assert (tmp_path / "ix" / "CURRENT").is_file()
    assert not (tmp_path / "index_data").exists()


def test_rebuild_json_report(broken, tmp_path):
    proc = run("rebuild", "--corpus", str(broken), "--index", "ix", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["indexed"] == 3
    assert report["skipped"] == [
        {"path": "bad/broken yaml.md", "reason": report["skipped"][0]["reason"]}
    ]
    assert "invalid front matter" in report["skipped"][0]["reason"]


def test_missing_corpus_is_a_clear_error(tmp_path):
    proc = run("rebuild", "--corpus", str(tmp_path / "nowhere"), "--index", "ix", cwd=tmp_path)
    assert proc.returncode != 0
    assert "not found" in proc.stderr and str(tmp_path / "nowhere") in proc.stderr
    assert proc.stdout == ""
    assert not (tmp_path / "ix" / "CURRENT").exists()


def test_empty_corpus_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x", encoding="utf-8")
    proc = run("rebuild", "--corpus", str(tmp_path / "empty"), "--index", "ix", cwd=tmp_path)
    assert proc.returncode != 0
    assert "No Markdown" in proc.stderr


def test_strict_fails_when_a_file_was_skipped(broken, tmp_path):
    proc = run("rebuild", "--corpus", str(broken), "--index", "ix", "--strict", cwd=tmp_path)
    assert proc.returncode != 0
    assert "bad/broken yaml.md" in proc.stderr
    assert "--strict" in proc.stderr


def test_strict_passes_a_clean_corpus(corpus, tmp_path):
    proc = run("rebuild", "--corpus", str(corpus), "--index", "ix", "--strict", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_environment_is_used_and_flags_override_it(corpus, tmp_path):
    env = {"DIGEST_CORPUS": str(corpus), "DIGEST_INDEX": str(tmp_path / "env-ix")}
    proc = run("rebuild", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "env-ix" / "CURRENT").is_file()

    status = json.loads(run("status", "--json", cwd=tmp_path, env=env).stdout)
    assert status["index"] == str(tmp_path / "env-ix")
    assert status["corpus"] == str(corpus)

    env = {"DIGEST_CORPUS": str(tmp_path / "nowhere"), "DIGEST_INDEX": str(tmp_path / "unused")}
    proc = run("rebuild", "--corpus", str(corpus), "--index", "flag-ix", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "flag-ix" / "CURRENT").is_file()
    assert not (tmp_path / "unused").exists()


def test_status(corpus, tmp_path):
    assert run("rebuild", "--corpus", str(corpus), "--index", "ix", cwd=tmp_path).returncode == 0
    proc = run("status", "--json", "--index", "ix", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)
    assert {"documents", "built_at", "corpus", "index", "size_bytes"} <= set(status)
    assert status["documents"] == 3
    assert status["corpus"] == str(corpus)
    assert status["index"] == str(tmp_path / "ix")
    assert isinstance(status["size_bytes"], int) and status["size_bytes"] > 0
    assert dt.datetime.fromisoformat(status["built_at"]).tzinfo is not None

    text = run("status", "--index", "ix", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "documents" in text.stdout and "MB" in text.stdout and str(corpus) in text.stdout


def test_status_without_an_index(tmp_path):
    proc = run("status", "--index", "ix", cwd=tmp_path)
    assert proc.returncode != 0
    assert "indexer rebuild" in proc.stderr
    missing = json.loads(run("status", "--json", "--index", "ix", cwd=tmp_path).stdout)
    assert missing["status"] == "missing"


def test_update_after_edits(corpus, tmp_path, write_doc):
    run("rebuild", "--corpus", str(corpus), "--index", "ix", cwd=tmp_path)
    write_doc(corpus, "2024/fed.md", title="美联储按兵不动", body="美联储维持利率不变。")
    (corpus / "2024" / "mug.md").unlink()
    proc = run("update", "--index", "ix", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip()
    assert "\n" not in line
    assert all(part in line for part in ("indexed 1", "skipped 0", "removed 1", "unchanged 1"))
    ix = open_index(tmp_path / "ix")
    try:
        assert [h.id for h in search(ix, SearchRequest(q="按兵不动")).results] == ["2024/fed"]
    finally:
        ix.close()


def test_update_without_an_index(tmp_path):
    proc = run("update", "--index", "ix", cwd=tmp_path)
    assert proc.returncode != 0
    assert "indexer rebuild" in proc.stderr


@pytest.mark.parametrize("command", ["rebuild", "update"])
def test_max_file_size_skips_larger_files_with_their_reason(corpus, tmp_path, write_doc, command):
    assert run("rebuild", "--corpus", str(corpus), "--index", "ix", cwd=tmp_path).returncode == 0
    write_doc(corpus, "2024/long.md", title="Long", body="long words " * 1000)
    limit = ("--max-file-size", "4KB")
    args = ["--corpus", str(corpus)] if command == "rebuild" else []
    proc = run(command, *args, "--index", "ix", *limit, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "skipped: 2024/long.md: larger than the 4 KB limit" in proc.stderr
    assert "skipped 1" in proc.stdout
    proc = run(command, *args, "--index", "ix", cwd=tmp_path, env={"DIGEST_MAX_FILE_SIZE": "1MB"})
    assert proc.returncode == 0, proc.stderr
    assert "skipped 0" in proc.stdout


@pytest.mark.parametrize("value", ["lots", "-5", "0"])
def test_a_bad_max_file_size_is_a_usage_error(corpus, tmp_path, value):
    proc = run("rebuild", "--corpus", str(corpus), "--max-file-size", value, cwd=tmp_path)
    assert proc.returncode == 2
    assert "--max-file-size" in proc.stderr
    assert not (tmp_path / "index_data").exists()


def test_status_says_a_rebuild_is_due_when_a_dictionary_appears(corpus, tmp_path):
    assert run("rebuild", "--corpus", str(corpus), "--index", "ix", cwd=tmp_path).returncode == 0
    status = json.loads(run("status", "--json", "--index", "ix", cwd=tmp_path).stdout)
    assert (status["user_dict_changed"], status["rebuild_due"]) == (False, None)

    (corpus / "userdict.txt").write_text("澄星量子 3000 nz\n", encoding="utf-8")
    status = json.loads(run("status", "--json", "--index", "ix", cwd=tmp_path).stdout)
    assert status["user_dict_changed"] is True
    assert "userdict.txt was added" in status["rebuild_due"]
    text = run("status", "--index", "ix", cwd=tmp_path).stdout
    assert "Rebuild due:" in text and "indexer rebuild" in text

    assert run("rebuild", "--corpus", str(corpus), "--index", "ix", cwd=tmp_path).returncode == 0
    status = json.loads(run("status", "--json", "--index", "ix", cwd=tmp_path).stdout)
    assert status["user_dict_changed"] is False


SAMPLE = Path(__file__).resolve().parents[2] / "indexer" / "sample_corpus"


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_an_interrupted_rebuild_cleans_up_and_the_old_index_serves(corpus, tmp_path, signum, code):
    index = tmp_path / "ix"
    assert (
        run("rebuild", "--corpus", str(corpus), "--index", str(index), cwd=tmp_path).returncode == 0
    )
    big = tmp_path / "big"
    for n in range(12):  # 12 × 41 digests: a rebuild of several seconds
        shutil.copytree(SAMPLE / "2025", big / f"copy{n:02d}")
        shutil.copytree(SAMPLE / "2024", big / f"copy{n:02d}-2024")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "indexer"), "rebuild", "--corpus", str(big)]
        + ["--index", str(index), "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(index.glob("building-*")) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)  # into the parsing work
        workers = psutil.Process(proc.pid).children(recursive=True)
        assert proc.poll() is None, "the rebuild finished before it could be interrupted"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert "interrupted" in err and "live index" in err
    assert not list(index.glob("building-*"))
    assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
    ix = open_index(index)
    try:
        assert [h.id for h in search(ix, SearchRequest(q="马克杯")).results] == ["2024/mug"]
    finally:
        ix.close()
    again = run("rebuild", "--corpus", str(big), "--index", str(index), "--jobs", "2", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert not list(index.glob("building-*"))


# --- searchengine query ---------------------------------------------------------------------


@pytest.fixture
def index(small_index):
    """The session's small index, only read here."""
    return small_index.index_dir


def test_query_json_is_the_api_response(index, tmp_path):
    proc = run(
        "query", "美聯儲 降息", "--index", str(index), "--json", cwd=tmp_path, module="searchengine"
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {
        "query",
        "total",
        "page",
        "per_page",
        "took_ms",
        "relaxed",
        "results",
        "facets",
        "suggestion",
        "notice",
    }
    assert (data["query"], data["total"]) == ("美聯儲 降息", 1)
    assert data["results"][0]["id"] == "2024/07/fed-signals-cut"
    assert (
        data["results"][0]["highlights"]["title"] == "<mark>美联储</mark>暗示九月<mark>降息</mark>"
    )


def test_query_filters_from_the_shell(index, tmp_path):
    proc = run(
        "query",
        "--tag",
        "US",
        "--author",
        "ft",
        "--from",
        "2024-07-19",
        "--to",
        "2024-07-19",
        "--index",
        str(index),
        "--json",
        cwd=tmp_path,
        module="searchengine",
    )
    assert proc.returncode == 0, proc.stderr
    assert [r["id"] for r in json.loads(proc.stdout)["results"]] == ["2024/07/fed-signals-cut"]


def test_query_text_output(index, tmp_path):
    proc = run("query", "马克杯", "--index", str(index), cwd=tmp_path, module="searchengine")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("1 results")
    assert "2024/08/mug-design" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "19/07/2024"], "from"),
        (["--per-page", "0"], "per_page"),
        (["--page", "0"], "page"),
        (["(((((((((deep)))))))))"], "nests"),
    ],
)
def test_query_bad_input_is_a_clear_error(index, tmp_path, args, message):
    proc = run("query", *args, "--index", str(index), cwd=tmp_path, module="searchengine")
    assert proc.returncode != 0
    assert message in proc.stderr


def test_query_without_an_index(tmp_path):
    proc = run("query", "降息", "--index", "ix", cwd=tmp_path, module="searchengine")
    assert proc.returncode != 0
    assert "indexer rebuild" in proc.stderr


def test_an_index_path_that_is_a_file_is_a_clear_error(tmp_path):
    not_a_folder = tmp_path / "index"
    not_a_folder.write_text("I am a file", encoding="utf-8")
    corpus = Path(__file__).resolve().parents[2] / "indexer" / "sample_corpus"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "indexer",
            "rebuild",
            "--corpus",
            str(corpus),
            "--index",
            str(not_a_folder),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "error: cannot use the index folder" in result.stderr
    assert "Traceback" not in result.stderr


def _damage(index: Path, how: str) -> None:
    """Break a copied index the way a disk or a careless hand might."""
    gen = index / (index / "CURRENT").read_text().strip()
    if how == "meta":
        (gen / "meta.json").write_text("{bad", encoding="utf-8")
    elif how == "terms":
        for f in gen.glob("*.trm"):
            f.write_bytes(b"")
    else:  # the table of contents cut short
        for f in gen.glob("_MAIN_*.toc"):
            f.write_bytes(f.read_bytes()[:20])


@pytest.mark.parametrize("how", ["meta", "terms", "toc"])
def test_a_damaged_index_is_named_unreadable_by_every_command_and_by_healthz(
    how, sample_index, tmp_path, serve
):
    index = tmp_path / "index"
    shutil.copytree(sample_index, index)
    _damage(index, how)
    for args, module in [
        (("status", "--index", str(index)), "indexer"),
        (("status", "--json", "--index", str(index)), "indexer"),
        (("update", "--index", str(index), "--corpus", str(SAMPLE_CORPUS)), "indexer"),
        (("query", "美联储", "--index", str(index)), "searchengine"),
    ]:
        proc = run(*args, cwd=tmp_path, module=module)  # no traceback: run checks
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "cannot be read" in proc.stdout + proc.stderr and "indexer rebuild" in (
            proc.stdout + proc.stderr
        ), (args, proc.stdout, proc.stderr)
    server = serve(index, workers=1, healthy=False)
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 503
    answer = requests.get(server.url + "/api/search", params={"q": "rate"}, timeout=10)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "index_incompatible"
    assert "Traceback" not in server.log()
