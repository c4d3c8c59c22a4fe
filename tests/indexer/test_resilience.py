"""Never down, never fooled: rebuilds under load, killed writers, concurrent writers.

Each test runs the real CLI in subprocesses against a real server on 127.0.0.1,
bounded in time and in request count.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "indexer" / "sample_corpus"
COPIES = 6  # 6 × 41 digests: a rebuild takes seconds, long enough to interrupt


def _corpus(root: Path, copies: int = COPIES) -> Path:
    corpus = root / "corpus"
    for n in range(copies):
        for year in ("2024", "2025", "2026"):
            shutil.copytree(SAMPLE / year, corpus / f"copy{n:02d}" / year)
    return corpus


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "indexer", *args], capture_output=True, text=True, timeout=300, **kw
    )


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "indexer", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _get(url: str, timeout: float = 10.0) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


class Server:
    """The JSON API of a `searchengine serve` started by the `serve` fixture (tests/conftest.py)."""

    def __init__(self, running):
        self.running = running  # conftest.Server: url, port, proc, log
        self.base = running.url
        self.proc = running.proc

    def search(self, q: str) -> tuple[int, dict]:
        return _get(f"{self.base}/api/search?q={urllib.request.quote(q)}")

    def health(self) -> dict:
        return _get(self.base + "/healthz")[1]


@pytest.fixture
def live(tmp_path, serve):
    corpus = _corpus(tmp_path)
    index = tmp_path / "index"
    started = time.perf_counter()
    first = _cli("rebuild", "--corpus", str(corpus), "--index", str(index))
    assert first.returncode == 0, first.stderr
    server = Server(serve(index, "--threads", "6"))
    server.rebuild_seconds = time.perf_counter() - started
    return corpus, index, server


def _leftover_workers(index: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "indexer" in cmd and str(index) in cmd:
            found.append(proc)
    return found


# A worker notices a switch at its next request once its recheck interval (0.25 s) has
# passed, so a search issued this long after a rebuild has finished must find the new
# files, whichever worker answers it and however long it then takes on a busy machine
# (the README's "searchable within 2 seconds").
PICKUP_SECONDS = 2.0
PICKUP_CHECKS = 20  # searches after the pickup time, spread over the workers
READER_REQUESTS = 20_000  # per reader thread: a bound; they run until the checks are done


def test_rebuild_under_load_serves_every_request_and_picks_up_new_files(live, tmp_path):
    corpus, index, server = live
    stop = threading.Event()
    # (query, issued at (monotonic), seconds taken, answered 200, total)
    outcomes: list[tuple[str, float, float, bool, int | None]] = []
    lock = threading.Lock()

    def reader(queries: list[str]) -> None:
        n = 0
        while not stop.is_set() and n < READER_REQUESTS:
            q = queries[n % len(queries)]
            issued = time.monotonic()
            try:
                status, body = server.search(q)
                ok, total = status == 200 and "results" in body, body.get("total")
            except OSError:
                ok, total = False, None
            with lock:
                outcomes.append((q, issued, time.monotonic() - issued, ok, total))
            n += 1

    threads = [
        threading.Thread(target=reader, args=(qs,))
        for qs in (["美联储 降息", "rate cut"], ["立法會", "AI"], ["", "zzfreshcue"])
    ]
    for t in threads:
        t.start()
    checks: list[tuple[float, int]] = []  # (issued after the rebuild, total)
    try:
        before = server.health()["generation"]
        assert _cli("rebuild", "--corpus", str(corpus), "--index", str(index)).returncode == 0
        fresh = corpus / "fresh.md"
        fresh.write_text(
            "---\ntitle: 新鲜文档 zzfreshcue\ndate: 2026-11-01\n---\n正文 zzfreshcue\n", "utf-8"
        )
        assert _cli("rebuild", "--corpus", str(corpus), "--index", str(index)).returncode == 0
        rebuilt = time.monotonic()  # the new generation is live
        time.sleep(PICKUP_SECONDS)
        for _ in range(PICKUP_CHECKS):
            issued = time.monotonic()
            status, body = server.search("zzfreshcue")
            assert status == 200, body
            checks.append((round(issued - rebuilt, 2), body["total"]))
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    failures = [o for o in outcomes if not o[3]]
    slowest = max(o[2] for o in outcomes)
    # Readers' searches for the new file count only if issued after the pickup time.
    late = [
        (round(issued - rebuilt, 2), total)
        for q, issued, _, _, total in outcomes
        if q == "zzfreshcue" and issued >= rebuilt + PICKUP_SECONDS
    ]
    print(
        f"\nrequests during two rebuilds and the pickup: {len(outcomes)}, "
        f"failures: {len(failures)}, slowest: {slowest * 1000:.0f} ms, "
        f"readers' searches for the new file after the pickup: {len(late)}"
    )
    assert len(outcomes) > 50
    assert failures == []
    assert slowest < 10
    stale = [c for c in checks + late if c[1] != 1]
    assert stale == [], (
        f"{len(stale)} of {len(checks) + len(late)} searches issued {PICKUP_SECONDS} s or more "
        f"after the rebuild missed the new file; (seconds after, total): {stale[:10]}"
    )
    assert server.search("zzfreshcue")[1]["total"] == 1
    assert server.health()["generation"] != before
    generations = [p for p in index.iterdir() if p.name.startswith("gen-")]
    assert len(generations) <= 2, generations  # the server's old one goes at the next cleanup


def test_many_rebuilds_keep_disk_use_bounded(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE / "2025", corpus / "2025")
    index = tmp_path / "index"
    for _ in range(4):
        assert _cli("rebuild", "--corpus", str(corpus), "--index", str(index)).returncode == 0
    assert [p.name.startswith("gen-") for p in index.iterdir() if p.is_dir()] == [True]


@pytest.mark.parametrize("fraction", [0.1, 0.4, 0.7])
def test_killed_rebuild_leaves_the_old_index_serving(live, fraction):
    corpus, index, server = live
    generation = server.health()["generation"]
    proc = _start("rebuild", "--corpus", str(corpus), "--index", str(index))
    time.sleep(server.rebuild_seconds * fraction)
    finished_first = proc.poll() is not None  # a fast machine may finish before the kill
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    time.sleep(0.5)
    assert _leftover_workers(index) == []
    status, body = server.search("美联储")
    assert status == 200 and body["total"] > 0
    now = server.health()["generation"]
    if not finished_first and now != generation:
        # The kill landed after the switch (a fast machine): the new generation is whole.
        assert (index / now / "meta.json").is_file() and not (index / now / "building").exists()
    again = _cli("rebuild", "--corpus", str(corpus), "--index", str(index))
    assert again.returncode == 0, again.stderr
    assert not [p for p in index.iterdir() if p.name.startswith("building-")]


def test_killed_update_leaves_a_working_index_and_the_next_update_completes(live):
    corpus, index, server = live
    total = server.search("")[1]["total"]
    for path in corpus.rglob("*.md"):
        path.write_text(path.read_text("utf-8") + "\n追加 zzappended\n", "utf-8")
    proc = _start("update", "--index", str(index))
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    status, body = server.search("")
    assert status == 200 and body["total"] == total
    done = _cli("update", "--index", str(index))
    assert done.returncode == 0, done.stderr
    time.sleep(0.5)
    assert server.search("")[1]["total"] == total
    assert server.search("zzappended")[1]["total"] == total


def test_two_rebuilds_at_once_both_finish_and_the_index_holds_everything(live):
    corpus, index, server = live
    total = server.search("")[1]["total"]
    first = _start("rebuild", "--corpus", str(corpus), "--index", str(index))
    time.sleep(0.3)
    second = _start("rebuild", "--corpus", str(corpus), "--index", str(index))
    out1, err1 = first.communicate(timeout=300)
    out2, err2 = second.communicate(timeout=300)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    assert "waiting" in (err1 + err2).lower()
    time.sleep(0.5)
    assert server.search("")[1]["total"] == total


def test_rebuild_and_update_at_once_never_corrupt_the_index(live):
    corpus, index, server = live
    total = server.search("")[1]["total"]
    (corpus / "extra.md").write_text("---\ntitle: zzextra\n---\n正文\n", "utf-8")
    rebuild = _start("rebuild", "--corpus", str(corpus), "--index", str(index))
    time.sleep(0.3)
    update = _cli("update", "--index", str(index))
    rebuild.communicate(timeout=300)
    assert rebuild.returncode == 0
    assert update.returncode == 0, update.stderr
    time.sleep(0.5)
    assert server.search("")[1]["total"] == total + 1
    assert server.search("zzextra")[1]["total"] == 1
    check = _cli("status", "--index", str(index), "--json")
    assert json.loads(check.stdout)["documents"] == total + 1


def test_a_writer_that_cannot_wait_says_so(tmp_path):
    from searchengine.store import IndexStore

    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE / "2025", corpus / "2025")
    index = tmp_path / "index"
    with IndexStore(index).writer_lock():
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "indexer",
                "rebuild",
                "--corpus",
                str(corpus),
                "--index",
                str(index),
            ],
            stderr=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        time.sleep(2)
        assert proc.poll() is None  # it waits rather than failing or corrupting
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert "waiting" in err.lower()
