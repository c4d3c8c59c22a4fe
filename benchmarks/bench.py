"""Benchmark rebuild, queries and updates against the naive baseline; write a JSON report.

    python -m benchmarks.bench --corpus digest-hn --limit 2000     # a quick run (~1 min)
    python -m benchmarks.bench --corpus digest-hn                  # the full run, with naive
    python -m benchmarks.bench --corpus both --skip-naive          # 35k documents, ours only

A corpus name resolves to ../shared/corpus/<name> from the repository root; `both` puts
digest-hn and hkcnews side by side; anything else is a folder path. The selected files
(an evenly spaced, deterministic subset with --limit) are copied to a temporary folder so
that the update step can edit them. Each step runs the real commands as subprocesses
(`indexer rebuild`, `searchengine serve`, `indexer update`) and samples the summed RSS of
the process tree every 50 ms. Figures are medians (rebuilds) or percentiles (queries).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import psutil
import requests

from indexer.corpus import iter_files

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpus"
QUERIES = Path(__file__).with_name("queries.json")
WORD_CATEGORIES = ("chinese", "english", "mixed", "traditional")
MB = 1e6


# --- Measuring a subprocess -------------------------------------------------------------


class Sampler(threading.Thread):
    """Poll the RSS of a process and all its children; keep the peak of the sum."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
            except psutil.Error:
                return
            total = 0
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self.done.wait(self.interval)


def run_measured(cmd: list[str], log: Path) -> tuple[float, int, str]:
    """Run a command to completion: (wall seconds, peak tree RSS bytes, stdout)."""
    with open(log, "wb") as err, tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT)
        sampler = Sampler(proc.pid)
        sampler.start()
        code = proc.wait()
        wall = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
        out.seek(0)
        stdout = out.read().decode("utf-8", "replace")
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}); see {log}")
    return wall, sampler.peak, stdout


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --- The corpus -----------------------------------------------------------------------


def select_files(name: str, limit: int | None) -> list[tuple[str, Path]]:
    """List (relative path, source file) of the corpus, or an evenly spaced subset."""
    if name == "both":
        roots = [("digest-hn/", SHARED / "digest-hn"), ("hkcnews/", SHARED / "hkcnews")]
    else:
        roots = [("", SHARED / name if (SHARED / name).is_dir() else Path(name))]
    files = []
    for prefix, root in roots:
        if not root.is_dir():
            raise SystemExit(f"corpus not found: {root}")
        files += [(prefix + p.relative_to(root).as_posix(), p) for p in iter_files(root)]
        if (root / "userdict.txt").is_file():
            files.append((prefix + "userdict.txt", root / "userdict.txt"))
    if limit and limit < len(files):
        step = len(files) / limit
        files = [files[int(i * step)] for i in range(limit)]
    return files


def materialize(files: list[tuple[str, Path]], dest: Path) -> int:
    """Copy the files below dest, keeping relative paths; return the bytes copied."""
    for rel, src in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    return sum(src.stat().st_size for _, src in files)


# --- Rebuilds -----------------------------------------------------------------------------


def py(*args) -> list[str]:
    return [sys.executable, "-m", *map(str, args)]


def build(cmd: list[str], index: Path, log: Path) -> dict:
    """Run a rebuild command into a fresh index; read its JSON report from stdout."""
    shutil.rmtree(index, ignore_errors=True)
    wall, peak, out = run_measured(cmd, log)
    rep = json.loads(out)
    documents = rep.get("indexed", rep.get("documents"))
    skipped = len(rep.get("skipped", []))
    return dict(seconds=wall, internal_seconds=rep["seconds"], documents=documents,
                skipped=skipped, index_bytes=tree_bytes(index), peak_rss=peak)  # fmt: skip


def medians(runs: list[dict], corpus_bytes: int) -> dict:
    out = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    out["docs_per_s"] = out["documents"] / out["seconds"]
    out["mb_per_s"] = corpus_bytes / MB / out["seconds"]
    out["runs"] = [round(r["seconds"], 2) for r in runs]
    return out


# --- Queries -----------------------------------------------------------------------------


def getter(params: dict):
    """Read API parameters from a dict, as Flask's request.args.getlist would."""

    def get(name: str) -> list[str]:
        value = params.get(name)
        return [] if value is None else [value] if isinstance(value, str) else list(value)

    return get


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def stats(values: list[float]) -> dict:
    v = values
    return dict(n=len(v), p50=pct(v, 50), p95=pct(v, 95), p99=pct(v, 99), max=max(v))


def timed_mix(mix: dict, repeat: int, run) -> tuple[dict, list[dict]]:
    """Warm up once over the mix, then time it `repeat` times, interleaved."""
    seen = [{"category": cat, "params": p, **run(p)} for cat, ps in mix.items() for p in ps]
    samples: dict[str, list[float]] = {cat: [] for cat in mix}
    for _ in range(repeat):
        for cat, ps in mix.items():
            for p in ps:
                started = time.perf_counter()
                run(p)
                samples[cat].append((time.perf_counter() - started) * 1000)
    table = {cat: stats(v) for cat, v in samples.items() if v}
    table["all"] = stats([x for v in samples.values() for x in v])
    return table, seen


def queries_inprocess(index: Path, mix: dict, repeat: int) -> tuple[dict, list[dict]]:
    from searchengine.index import open_index
    from searchengine.params import parse_request
    from searchengine.search import search

    ix = open_index(index)

    def run(params: dict) -> dict:
        resp = search(ix, parse_request(getter(params)))
        return {"total": resp.total, "relaxed": resp.relaxed, "took_ms": resp.took_ms}

    try:
        return timed_mix(mix, repeat, run)
    finally:
        ix.close()


def queries_naive(index: Path, mix: dict, repeat: int) -> dict:
    from benchmarks.naive import NaiveSearcher

    ns = NaiveSearcher(index)
    words = {cat: [{"q": p["q"]} for p in mix[cat]] for cat in WORD_CATEGORIES if cat in mix}
    try:
        table, _ = timed_mix(
            words, repeat, lambda p: {"hits": len(ns.search(p["q"], highlight=True))}
        )
    finally:
        ns.close()
    return table


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def queries_http(index: Path, mix: dict, repeat: int, logs: Path) -> dict:
    """Serve the index with `searchengine serve`, time /api/search, read the server's RSS."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = py("searchengine", "serve", "--index", index, "--port", port)
    with open(logs / "serve.log", "wb") as log:
        started = time.perf_counter()
        server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    proc = psutil.Process(server.pid)
    session = requests.Session()
    try:
        while True:
            if server.poll() is not None or time.perf_counter() - started > 120:
                raise SystemExit(f"server did not start; see {logs / 'serve.log'}")
            try:
                if session.get(f"{base}/healthz", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        startup = time.perf_counter() - started
        rss_idle = proc.memory_info().rss

        def run(params: dict) -> dict:
            r = session.get(f"{base}/api/search", params=params, timeout=30)
            r.raise_for_status()
            data = r.json()
            return {"total": data["total"], "took_ms": data["took_ms"]}

        for ps in mix.values():
            for p in ps:
                run(p)
        rss_warm = proc.memory_info().rss
        table, _ = timed_mix(mix, repeat, run)
        rss_after = proc.memory_info().rss
    finally:
        session.close()
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    return dict(latency_ms=table, startup_seconds=startup, rss_idle=rss_idle,
                rss_after_warmup=rss_warm, rss_after_run=rss_after)  # fmt: skip


# --- Updates -----------------------------------------------------------------------------


def updates(corpus: Path, index: Path, repeat: int, logs: Path) -> dict:
    """Edit 1 file (median of repeats), then 100 files, timing `indexer update` end to end."""
    files = sorted(p for p in iter_files(corpus))
    cmd = py("indexer", "update", "--index", index, "--json")

    def edit_and_update(paths: list[Path], n: int) -> dict:
        for p in paths:
            with p.open("a", encoding="utf-8") as f:
                f.write(f"\n\nbenchmark edit {n}\n")
        wall, peak, out = run_measured(cmd, logs / "update.log")
        rep = json.loads(out)
        return dict(seconds=wall, internal_seconds=rep["seconds"], indexed=rep["indexed"],
                    unchanged=rep["unchanged"], peak_rss=peak)  # fmt: skip

    out = {"corpus_documents": len(files), "nothing_changed": edit_and_update([], 0)}
    one = [edit_and_update([files[n * 7919 % len(files)]], n) for n in range(1, max(3, repeat) + 1)]
    count = min(100, len(files))
    some = [files[int(i * len(files) / count)] for i in range(count)]
    many = [edit_and_update(some, 100 + n) for n in range(repeat)]
    for key, runs in (("one_file", one), (f"{count}_files", many)):
        out[key] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        out[key]["runs"] = [round(r["seconds"], 2) for r in runs]
    return out


# --- Report ----------------------------------------------------------------------------


def machine() -> dict:
    git = ["git", "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, cwd=ROOT, capture_output=True, text=True)
    dirty = ["git", "status", "--porcelain", "--", "searchengine", "indexer", "web"]
    dirty = subprocess.run(dirty, cwd=ROOT, capture_output=True, text=True).stdout.split("\n")
    return {
        "cpu_count": os.cpu_count(),
        "cpu_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": platform.processor() or platform.machine(),
        "memory_bytes": psutil.virtual_memory().total,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit.stdout.strip() or None,
        "engine_changes_uncommitted": [line[3:] for line in dirty if line.strip()],
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_start": os.getloadavg(),
    }


def fmt3(x: tuple | None) -> str:
    return " / ".join(f"{v:.1f}" for v in x) if x else "-"


def print_report(r: dict) -> None:
    m, c, rb, q, u = r["machine"], r["corpus"], r["rebuild"], r["queries"], r["update"]
    load = f"{m['load_average_start'][0]:.2f}→{m['load_average_end'][0]:.2f}"
    print(f"\nDigest Search benchmark: {c['name']} ({c['documents']:,} files, "
          f"{c['bytes'] / MB:.1f} MB) · {m['cpu_count']} CPUs · Python {m['python']} · "
          f"{m['date']} · load average {load}")  # fmt: skip
    head = "seconds    docs/s    MB/s  index MB  peak RSS MB"
    print(f"\nRebuild (median of {r['repeat_rebuild']})      {head}")
    for name in ("ours", "naive"):
        if b := rb.get(name):
            print(f"  {name:<24}{b['seconds']:>8.1f}{b['docs_per_s']:>10.0f}{b['mb_per_s']:>8.2f}"
                  f"{b['index_bytes'] / MB:>10.1f}{b['peak_rss'] / MB:>13.0f}")  # fmt: skip
    if "ratio_naive_over_ours" in rb:
        print(f"  naive/ours: {rb['ratio_naive_over_ours']:.2f} (above 1: ours is faster)")
    cols = [("in-process", q["inprocess"]), ("HTTP", q["http"]["latency_ms"])]
    cols += [("naive+hl", q["naive"])] if q.get("naive") else []
    print("\nQuery latency ms   " + "".join(f"{h + ' p50/p95/p99':>26}" for h, _ in cols))
    for cat in q["inprocess"]:
        cells = [
            (t[cat]["p50"], t[cat]["p95"], t[cat]["p99"]) if cat in t else None for _, t in cols
        ]
        print(f"  {cat:<17}" + "".join(f"{fmt3(x):>26}" for x in cells))
    h = q["http"]
    print(f"\nServer: ready in {h['startup_seconds']:.1f} s; RSS idle {h['rss_idle'] / MB:.0f} MB, "
          f"after warm-up {h['rss_after_warmup'] / MB:.0f} MB, "
          f"after the run {h['rss_after_run'] / MB:.0f} MB")  # fmt: skip
    print(
        f"\nindexer update ({u['corpus_documents']:,} docs)  end-to-end s  in-process s  peak RSS MB"
    )
    for key in ("nothing_changed", "one_file", *[k for k in u if k.endswith("_files")]):
        e = u[key]
        print(f"  {key:<28}{e['seconds']:>14.2f}{e['internal_seconds']:>14.2f}"
              f"{e['peak_rss'] / MB:>13.0f}")  # fmt: skip


def naive_build_main(corpus: str, index: str) -> None:
    from benchmarks.naive import build_naive

    print(json.dumps(asdict(build_naive(Path(corpus), Path(index)))))


def run(args: argparse.Namespace, work: Path, mix: dict) -> dict:
    """Copy the corpus, rebuild (ours, then naive), query, update; return the figures."""
    corpus, index, naive_ix, logs = (work / n for n in ("corpus", "index", "naive", "logs"))
    logs.mkdir()
    files = select_files(args.corpus, args.limit)
    size = materialize(files, corpus)
    name = Path(args.corpus).name + (f"-{args.limit}" if args.limit else "")
    say = functools.partial(print, file=sys.stderr, flush=True)
    say(f"{name}: {len(files):,} files, {size / MB:.1f} MB copied to {corpus}")
    corpus_info = dict(
        name=name, source=args.corpus, limit=args.limit, documents=len(files), bytes=size
    )
    builds = {"ours": py("indexer", "rebuild", "--corpus", corpus, "--index", index, "--json")}
    builds["ours"] += ["--jobs", str(args.jobs)] if args.jobs else []
    if not args.skip_naive:
        builds["naive"] = py("benchmarks.bench", "--naive-build", corpus, naive_ix)
    rb: dict = {}
    for who, cmd in builds.items():
        runs = []
        for n in range(args.repeat):
            say(f"{who} rebuild {n + 1}/{args.repeat} …")
            runs.append(build(cmd, naive_ix if who == "naive" else index, logs / f"{who}.log"))
        rb[who] = medians(runs, size)
    if "naive" in rb:
        rb["ratio_naive_over_ours"] = rb["naive"]["seconds"] / rb["ours"]["seconds"]
    say("queries …")
    inproc, seen = queries_inprocess(index, mix, args.query_repeat)
    q = {"inprocess": inproc, "queries": seen}
    if "naive" in rb:
        q["naive"] = queries_naive(naive_ix, mix, args.query_repeat)
    q["http"] = queries_http(index, mix, args.query_repeat, logs)
    say("updates …")
    return dict(
        corpus=corpus_info, rebuild=rb, queries=q, update=updates(corpus, index, args.repeat, logs)
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.bench", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--corpus", default="digest-hn", help="digest-hn, hkcnews, both or a folder")
    ap.add_argument("--limit", type=int, help="index only N files (an evenly spaced subset)")
    ap.add_argument("--repeat", type=int, default=1, help="rebuilds and 100-file updates to run")
    ap.add_argument("--query-repeat", type=int, default=5, help="timed passes over the query mix")
    ap.add_argument("--jobs", type=int, help="passed to indexer rebuild (default: its own)")
    ap.add_argument("--skip-naive", action="store_true", help="no naive baseline")
    ap.add_argument("--out", type=Path, help="JSON report [benchmarks/reports/bench-<corpus>.json]")
    ap.add_argument("--naive-build", nargs=2, metavar=("CORPUS", "INDEX"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.naive_build:
        return naive_build_main(*args.naive_build)
    report: dict = dict(
        machine=machine(), repeat_rebuild=args.repeat, query_repeat=args.query_repeat
    )
    mix = json.loads(QUERIES.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as tmp:
        report.update(run(args, Path(tmp), mix))
    report["machine"]["load_average_end"] = os.getloadavg()
    out = args.out or ROOT / "benchmarks" / "reports" / f"bench-{report['corpus']['name']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print_report(report)
    print(f"\nReport: {out}")


if __name__ == "__main__":
    main()
