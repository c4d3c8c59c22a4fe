"""Benchmark rebuild, queries and updates against the naive baseline; write a JSON report.

    python -m benchmarks.bench --corpus digest-hn --limit 2000     # a quick run (~1 min)
    python -m benchmarks.bench --corpus digest-hn                  # the full run, with naive
    python -m benchmarks.bench --corpus both --skip-naive          # 35k documents, ours only
    python -m benchmarks.bench --corpus mix --limit 15000 --work /tmp/mix15k   # the issue's mix

A corpus name means ../shared/corpus/<name>; `both` (or `mix`) puts digest-hn and hkcnews
side by side, so `--limit 15000` takes 15,000 files evenly spread over the two. The code
is run from a copy (edits made during a long run cannot mix versions), the files (an
evenly spaced subset with --limit) from a temporary copy that updates may edit.
Rebuilds, server and updates are the real commands, run as subprocesses whose summed
process-tree RSS is sampled every 50 ms. The throughput phase (benchmarks/load.py) loads
`searchengine serve --workers 1`, then `--workers 2` with 8 clients of distinct queries;
`python -m benchmarks.load --index DIR/index --corpus DIR/corpus` reruns it alone on the
copy and index that `--work DIR` keeps. The report is saved after each phase.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import psutil
import requests

from indexer.corpus import iter_files

CODE = Path(__file__).resolve().parent.parent  # where the running code lives
ROOT = Path(os.environ.get("DIGEST_BENCH_ROOT", CODE))  # the repository: corpus, reports, git
CWD = Path(os.environ.get("DIGEST_BENCH_CWD", os.getcwd()))  # where relative paths start
SHARED = ROOT.parent / "shared" / "corpus"
QUERIES = Path(__file__).with_name("queries.json")
WORD_CATEGORIES = ("chinese", "english", "mixed", "traditional")
MB = 1e6


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def py(*args) -> list[str]:
    return [sys.executable, "-m", *map(str, args)]


def tree_rss(proc: psutil.Process) -> int:
    """Sum the RSS of a process and its children (the rebuild's forked workers)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def run_measured(cmd: list[str], log: Path) -> tuple[float, int, str]:
    """Run a command to completion: wall seconds, peak tree RSS (every 50 ms), stdout."""
    with open(log, "ab") as err, tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=CODE)
        watched, peak, code = psutil.Process(proc.pid), 0, None
        while code is None:
            with contextlib.suppress(psutil.Error):
                peak = max(peak, tree_rss(watched))
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=0.05)
        wall = time.perf_counter() - started
        out.seek(0)
        stdout = out.read().decode("utf-8", "replace")
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}); see {log}")
    return wall, peak, stdout


def select_files(name: str, limit: int | None) -> tuple[list[tuple[str, Path]], list[Path]]:
    """List (relative path, source file) of the corpus, or an evenly spaced subset."""
    if name in ("both", "mix"):
        roots = [("digest-hn/", SHARED / "digest-hn"), ("hkcnews/", SHARED / "hkcnews")]
    else:
        roots = [("", SHARED / name if (SHARED / name).is_dir() else CWD / name)]
    files = []
    for prefix, root in roots:
        if not root.is_dir():
            raise SystemExit(f"corpus not found: {root}")
        files += [(prefix + p.relative_to(root).as_posix(), p) for p in iter_files(root)]
    if limit and limit < len(files):
        files = [files[int(i * len(files) / limit)] for i in range(limit)]
    extras = [r / "userdict.txt" for p, r in roots if not p and (r / "userdict.txt").is_file()]
    return files, extras


def materialize(files: list[tuple[str, Path]], extras: list[Path], dest: Path) -> int:
    """Copy the files below dest, keeping relative paths; return the bytes copied."""
    for rel, src in [*files, *((e.name, e) for e in extras)]:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel)
    return sum(src.stat().st_size for _, src in files)


def build(cmd: list[str], index: Path, log: Path) -> dict:
    """Run a rebuild command into a fresh index; read its JSON report from stdout."""
    shutil.rmtree(index, ignore_errors=True)
    wall, peak, out = run_measured(cmd, log)
    rep = json.loads(out)
    got = dict(seconds=wall, internal_seconds=rep["seconds"], peak_rss_mb=peak / MB)
    got["documents"] = rep.get("indexed", rep.get("documents"))  # ours or naive
    size = sum(f.stat().st_size for f in index.rglob("*") if f.is_file())
    return got | dict(skipped=len(rep.get("skipped", [])), index_mb=size / MB)


def medians(runs: list[dict], corpus_bytes: int) -> dict:
    out = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    out["docs_per_s"] = out["documents"] / out["seconds"]
    out["mb_per_s"] = corpus_bytes / MB / out["seconds"]
    out["runs"] = [round(r["seconds"], 2) for r in runs]
    return out


def getter(params: dict):
    """Read API parameters from a dict, as Flask's request.args.getlist would."""
    return lambda name: [v] if isinstance(v := params.get(name), str) else list(v or [])


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def stats(v: list[float]) -> dict:
    return dict(n=len(v), p50=pct(v, 50), p95=pct(v, 95), p99=pct(v, 99), max=max(v))


def timed_mix(mix: dict, repeat: int, run) -> tuple[dict, list[dict]]:
    """Warm up, then time each query `repeat` times warm and cold, interleaved.

    Cold requests are made unique with trailing spaces, so no answer cache can serve
    them; warm ones repeat the warm-up's exact request. Totals are checked to match.
    """
    items = [(cat, p) for cat, ps in mix.items() for p in ps]
    seen = [{"category": cat, "params": p, **run(p)} for cat, p in items]
    out: dict = {"answer_mismatches": 0}
    for mode in ("warm", "cold"):  # warm first: the cold requests may evict the cache
        samples: dict[str, list[float]] = {cat: [] for cat in mix}
        for k in range(1, repeat + 1):
            for (cat, p), first in zip(items, seen, strict=True):
                q = {**p, "q": p.get("q", "") + " " * k} if mode == "cold" else p
                started = time.perf_counter()
                got = run(q)
                samples[cat].append((time.perf_counter() - started) * 1000)
                out["answer_mismatches"] += got.get("total") != first.get("total")
        out[mode] = {cat: stats(v) for cat, v in samples.items() if v}
        out[mode]["all"] = stats([x for v in samples.values() for x in v])
    return out, seen


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
        return timed_mix(words, repeat, lambda p: {"total": len(ns.search(**p, highlight=True))})[0]
    finally:
        ns.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(index: Path, log: Path, workers: int | None = None) -> Iterator[tuple[str, dict]]:
    """Run `searchengine serve` (as `python -m web serve`) on a free port until exit.

    Yields the base URL and a dict with the server's psutil.Process ("process") and
    "startup_seconds": until /healthz answers and all `workers` processes exist.
    """
    port, session = free_port(), requests.Session()
    cmd = py("web", "serve", "--index", index, "--port", port)
    cmd += ["--workers", str(workers)] if workers else []
    with open(log, "ab") as out:
        started = time.perf_counter()
        server = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=CODE)
    base, watched = f"http://127.0.0.1:{port}", psutil.Process(server.pid)
    answered = None  # when the server first answered, if not with a 200
    try:
        while True:
            if server.poll() is not None or time.perf_counter() - started > 120:
                raise SystemExit(f"server did not start; see {log}")
            with contextlib.suppress(requests.ConnectionError, psutil.Error):
                health = session.get(f"{base}/healthz", timeout=2)
                if health.ok and len(watched.children()) >= (workers or 1):
                    break
                answered = answered or (None if health.ok else time.perf_counter())
                if answered and time.perf_counter() - answered > 5:  # e.g. an old index
                    probe = session.get(f"{base}/api/search", timeout=10)
                    raise SystemExit(f"the server answers {probe.status_code}: {probe.text}")
            time.sleep(0.05)
        session.close()
        yield base, {"process": watched, "startup_seconds": time.perf_counter() - started}
    finally:
        session.close()
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def queries_http(index: Path, mix: dict, repeat: int, logs: Path) -> dict:
    """Serve the index with `searchengine serve`, time /api/search, read the server's RSS."""
    with serving(index, logs / "serve.log") as (base, info), requests.Session() as session:
        watched = info["process"]
        out = {"startup_seconds": info["startup_seconds"]}
        out["rss_idle_mb"] = tree_rss(watched) / MB

        def run(params: dict) -> dict:
            r = session.get(f"{base}/api/search", params=params, timeout=30)
            r.raise_for_status()
            return {"total": r.json()["total"]}

        out["latency_ms"] = timed_mix(mix, repeat, run)[0]
        out["rss_after_warmup_and_run_mb"] = tree_rss(watched) / MB
    return out


def updates(corpus: Path, index: Path, repeat: int, logs: Path) -> dict:
    """Edit 1 file (median of repeats), then 100 files, timing `indexer update` end to end."""
    files = sorted(iter_files(corpus))
    cmd = py("indexer", "update", "--index", index, "--json")

    def edit_and_update(paths: list[Path], n: int) -> dict:
        for p in paths:
            with p.open("a", encoding="utf-8") as f:
                f.write(f"\n\nbenchmark edit {n}\n")
        wall, peak, out = run_measured(cmd, logs / "update.log")
        rep = json.loads(out)
        got = dict(seconds=wall, internal_seconds=rep["seconds"], peak_rss_mb=peak / MB)
        return got | dict(indexed=rep["indexed"], unchanged=rep["unchanged"])

    out = {"corpus_documents": len(files), "nothing_changed": edit_and_update([], 0)}
    one = [edit_and_update([files[n * 7919 % len(files)]], n) for n in range(1, max(3, repeat) + 1)]
    count = min(100, len(files))
    some = [files[int(i * len(files) / count)] for i in range(count)]
    many = [edit_and_update(some, 100 + n) for n in range(repeat)]
    for key, runs in (("one_file", one), (f"{count}_files", many)):
        out[key] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        out[key]["runs"] = [round(r["seconds"], 2) for r in runs]
    return out


def machine() -> dict:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    dirty = git("status", "--porcelain", "--", "searchengine", "indexer", "web").splitlines()
    return {
        "cpu_count": os.cpu_count(),
        "memory_bytes": psutil.virtual_memory().total,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": git("rev-parse", "--short", "HEAD").strip() or None,
        "engine_changes_uncommitted": [line[3:] for line in dirty],
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_start": os.getloadavg(),
    }


REBUILD_COLS = {"seconds": 1, "docs_per_s": 0, "mb_per_s": 2, "index_mb": 1, "peak_rss_mb": 0}
UPDATE_COLS = {"seconds": 2, "internal_seconds": 2, "indexed": 0, "peak_rss_mb": 0}


def table(title: str, rows: dict, cols: dict) -> None:
    print(f"\n{title:<30}" + "".join(f"{k:>17}" for k in cols))
    for label, d in rows.items():
        print(f"  {label:<28}" + "".join(f"{d[k]:>17.{n}f}" for k, n in cols.items()))


def triple(t: dict) -> str:
    return " / ".join(f"{t[k]:.1f}" for k in ("p50", "p95", "p99"))


def print_report(r: dict) -> None:
    m, c, rb, q, u = r["machine"], r["corpus"], r["rebuild"], r["queries"], r["update"]
    size = f"{c['documents']:,} files, {c['bytes'] / MB:.1f} MB"
    print(f"\nDigest Search benchmark: {c['name']} ({size})")
    print(f"{m['cpu_count']} CPUs · Python {m['python']} · commit {m['commit']} · {m['date']}")
    load = f"{m['load_average_start'][0]:.2f}→{m['load_average_end'][0]:.2f}"
    print(f"load average {load} (other work on the machine inflates every figure)")
    builds = {k: rb[k] for k in ("ours", "naive") if k in rb}
    table(f"Rebuild (median of {r['repeat_rebuild']})", builds, REBUILD_COLS)
    if "ratio_naive_over_ours" in rb:
        print(f"  naive/ours: {rb['ratio_naive_over_ours']:.2f} (above 1: ours is faster)")
    for mode in ("cold", "warm"):
        cols = [("in-process", q["inprocess"][mode]), ("HTTP", q["http"]["latency_ms"][mode])]
        cols += [("naive+hl", q["naive"][mode])] if "naive" in q else []
        print(f"\nQuery ms, {mode:<8}" + "".join(f"{h + ' p50/p95/p99':>26}" for h, _ in cols))
        for cat in q["inprocess"][mode]:
            cells = [triple(t[cat]) if cat in t else "-" for _, t in cols]
            print(f"  {cat:<17}" + "".join(f"{x:>26}" for x in cells))
    h = q["http"]
    print(
        f"\nServer: ready in {h['startup_seconds']:.1f} s; RSS {h['rss_idle_mb']:.0f} MB idle, "
        f"{h['rss_after_warmup_and_run_mb']:.0f} MB after the warm-up and the timed run"
    )
    runs = {k: v for k, v in u.items() if isinstance(v, dict)}
    table(f"indexer update ({u['corpus_documents']:,} docs)", runs, UPDATE_COLS)
    if "throughput" in r:
        from benchmarks.load import print_throughput

        print_throughput(r["throughput"], c["documents"])


def run(args: argparse.Namespace, work: Path, report: dict, save) -> None:
    """Copy the corpus, rebuild (ours, then naive), query, update; save after each phase."""
    corpus, index, naive_ix, logs = (work / n for n in ("corpus", "index", "naive", "logs"))
    logs.mkdir()
    files, extras = select_files(args.corpus, args.limit)
    size = materialize(files, extras, corpus)
    say(f"{report['corpus']['name']}: {len(files):,} files, {size / MB:.1f} MB copied to {corpus}")
    report["corpus"].update(documents=len(files), bytes=size)
    mix = json.loads(QUERIES.read_text(encoding="utf-8"))
    builds = {"ours": py("indexer", "rebuild", "--corpus", corpus, "--index", index, "--json")}
    builds["ours"] += ["--jobs", str(args.jobs)] if args.jobs else []
    if not args.skip_naive:
        builds["naive"] = py("benchmarks.bench", "--naive-build", corpus, naive_ix)
    rb = report["rebuild"] = {}
    for who, cmd in builds.items():
        runs = []
        for n in range(args.repeat):
            say(f"{who} rebuild {n + 1}/{args.repeat} …")
            runs.append(build(cmd, naive_ix if who == "naive" else index, logs / f"{who}.log"))
        rb[who] = medians(runs, size)
        save()
    if "naive" in rb:
        rb["ratio_naive_over_ours"] = rb["naive"]["seconds"] / rb["ours"]["seconds"]
    say("queries …")
    inproc, seen = queries_inprocess(index, mix, args.query_repeat)
    q = report["queries"] = {"inprocess": inproc, "queries": seen}
    if "naive" in rb:
        q["naive"] = queries_naive(naive_ix, mix, args.query_repeat)
    q["http"] = queries_http(index, mix, args.query_repeat, logs)
    save()
    if not args.skip_throughput:
        from benchmarks import load

        queries = load.make_queries(load.read_sources(corpus, 3000, 15000), 40000, 15000)
        report["throughput"] = load.throughput(
            index, queries, logs, args.workers, args.connection, args.clients,
            duration=args.throughput_duration,
        )  # fmt: skip
        report["throughput"]["examples"] = [p for _, p in queries[:40]]
        save()
    say("updates …")
    report["update"] = updates(corpus, index, args.repeat, logs)


def snapshot_and_rerun(argv: list[str], module: str = "benchmarks.bench") -> int:
    """Run this benchmark again from a copy of the code (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="digest-bench-code-") as code:
        skip = shutil.ignore_patterns("__pycache__", "reports", "*.egg-info")
        for pkg in ("searchengine", "indexer", "web", "benchmarks"):
            shutil.copytree(CODE / pkg, Path(code) / pkg, ignore=skip)
        env = {**os.environ, "DIGEST_BENCH_ROOT": str(ROOT), "DIGEST_BENCH_CWD": str(CWD)}
        env["PYTHONPATH"] = code
        return subprocess.run(py(module, *argv), cwd=code, env=env).returncode


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser("python -m benchmarks.bench", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default="digest-hn", help="digest-hn, hkcnews, both or a folder")
    ap.add_argument("--limit", type=int, help="index only N files (an evenly spaced subset)")
    ap.add_argument("--repeat", type=int, default=1, help="rebuilds and 100-file updates to run")
    ap.add_argument("--query-repeat", type=int, default=5, help="timed passes over the query mix")
    ap.add_argument("--jobs", type=int, help="passed to indexer rebuild (default: its own)")
    ap.add_argument("--skip-naive", action="store_true", help="no naive baseline")
    ap.add_argument("--skip-throughput", action="store_true", help="no load phase")
    ap.add_argument("--throughput-duration", type=float, default=20.0, help="seconds [20]")
    ap.add_argument("--clients", type=int, default=8, help="load phase clients [8]")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="load phase [1 2]")
    ap.add_argument(
        "--connection",
        nargs="+",
        choices=["keep-alive", "close"],
        default=["keep-alive", "close"],
        help="load phase: keep connections alive, or one per request [both]",
    )
    ap.add_argument("--work", type=Path, help="keep the corpus copy and indexes here [a temp dir]")
    ap.add_argument("--out", type=Path, help="JSON report [benchmarks/reports/bench-<corpus>.json]")
    ap.add_argument("--naive-build", nargs=2, metavar=("CORPUS", "INDEX"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.naive_build:
        from benchmarks.naive import build_naive

        return print(json.dumps(asdict(build_naive(*map(Path, args.naive_build)))))
    if "DIGEST_BENCH_ROOT" not in os.environ:
        sys.exit(snapshot_and_rerun(argv))
    name = Path(args.corpus).name + (f"-{args.limit}" if args.limit else "")
    out = CWD / (args.out or ROOT / "benchmarks" / "reports" / f"bench-{name}.json")
    report: dict = dict(
        machine=machine(), repeat_rebuild=args.repeat, query_repeat=args.query_repeat
    )
    report["corpus"] = dict(name=name, source=args.corpus, limit=args.limit)

    def save() -> None:
        report["machine"]["load_average_end"] = os.getloadavg()
        out.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(report, ensure_ascii=False, indent=1, default=str)
        out.write_text(text, encoding="utf-8")

    if args.work:
        work = CWD / args.work
        if work.exists() and any(work.iterdir()):
            raise SystemExit(f"--work {work} must be a new or empty folder")
        work.mkdir(parents=True, exist_ok=True)
        run(args, work, report, save)
    else:
        with tempfile.TemporaryDirectory(prefix="digest-bench-") as tmp:
            run(args, Path(tmp), report, save)
    save()
    print_report(report)
    print(f"\nReport: {out}")


if __name__ == "__main__":
    main()
