"""Throughput: concurrent clients of unique queries against `searchengine serve --workers N`.

    python -m benchmarks.load --index DIR [--corpus DIR] [--workers 1 2] [--clients 8]
                              [--duration 20] [--warmup 3] [--out FILE]

The queries are made from the corpus the index was built from (by default the one that
`indexer status --json` names), read with the indexer's own parser: Chinese words and
raw 2-4 character runs, English words and pairs, mixed pairs, phrases, prefixes, OR,
NOT, `title:` and `tag:` scopes, tag, author and date filters, date sorts and second
pages, in realistic proportions (KINDS). They are seeded, hence the same in every run,
and distinct: no two share their words (in any order or case), filters and sort, so no
answer cache of the server ever helps; each server sees each query once.

Each worker count gets a fresh server; the clients run `warmup` seconds, then
`duration` measured seconds. A client is a thread of this process with one keep-alive
`http.client` connection; it sends pre-encoded URLs and reads the status and the body
without parsing it. On a small machine the client competes with the server for the
CPUs, so the CPU time of the client, of each server process and of the rest of the
machine is measured over the window and reported. Any answer but a 200 is an error.
The report also holds, per worker count, the RSS and PSS of all server processes
(master and workers) after the load.

bench.py runs this phase on the index it builds (see its --skip-throughput).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psutil

from benchmarks.bench import CWD, MB, ROOT, machine, py, serving, snapshot_and_rerun, stats
from indexer.corpus import iter_files
from indexer.parsing import parse_file


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"(?<![A-Za-z0-9_'-])[A-Za-z][A-Za-z0-9]{2,19}(?![A-Za-z0-9_'-])")
NOISE = re.compile(  # URLs, HTML, link targets, entities and the digests' boilerplate
    r"https?://\S+|<[^>]*>|\]\([^)]*\)|&\w+;|原文链接|原文連結|Source Link|Original title|摘要"
)
SAFE_TAG = re.compile(r"^[^\s:\"'()*-][^\s:\"'()*]*$")
EN_STOP = _words(
    """about above after again against also among and any are because been before being
    below between both but can could did does doing down during each few for from further
    had has have having her here hers him his how into its just more most much not now off
    once only other our out over own same she should some such than that the their them
    then there these they this those through too under until very was were what when where
    which while who whom why will with would you your yours new one two may might must
    source link original title says said get got use used using via per
    the and not or"""
)
ZH_STOP = _words(
    "原文链接 原文連結 原文 链接 連結 摘要 我们 他们 这个 一个 没有 可以 以及 因为 所以"
)
# Kinds of query and their weights: what people type most comes first.
KINDS = {
    "zh_word": 16,  # 人工智能
    "zh_run": 8,  # 2-4 characters cut anywhere: 席执行
    "zh_two": 8,  # 芯片 出口
    "en_word": 12,  # kubernetes
    "en_two": 8,  # rate cuts
    "mixed": 10,  # GPU 芯片
    "phrase": 4,  # "open source"
    "prefix": 3,  # kube*
    "or": 3,  # rust OR golang
    "not": 3,  # 香港 -选举
    "scope": 4,  # title:模型 / tag:ai 芯片
    "tag_filter": 7,  # q + tag=
    "author_filter": 3,  # q + author=
    "date_filter": 6,  # q + from/to
    "sort": 5,  # q + sort=newest|oldest
}
PAGE_TWO = 0.08  # share of queries that ask for their second page
TITLE_SHARE = 0.4  # share of queries whose words come from the title only


@dataclass
class Source:
    """What one document offers a query writer."""

    title_words: list[str] = field(default_factory=list)
    zh_words: list[str] = field(default_factory=list)
    zh_runs: list[str] = field(default_factory=list)
    en_words: list[str] = field(default_factory=list)
    en_pairs: list[tuple[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    author: str = ""
    date: date | None = None


def _cutter():
    try:
        import rjieba

        return lambda text: rjieba.cut(text, hmm=True)
    except ImportError:  # pragma: no cover - rjieba is a dependency
        import jieba

        return jieba.lcut


def _zh_words(cut, text: str) -> list[str]:
    runs = HAN.findall(text)
    words = (w for run in runs for w in cut(run))
    return [w for w in words if 2 <= len(w) <= 4 and w not in ZH_STOP]


def _en_words(text: str) -> list[str]:
    return [w for w in WORD.findall(text) if w.casefold() not in EN_STOP]


def _en_pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    for sentence in re.split(r"[.,;:!?()\[\]\"\n]|\s[-–—]\s", text):
        words = sentence.split()
        for a, b in itertools.pairwise(words):
            if all(WORD.fullmatch(w) and w.casefold() not in EN_STOP for w in (a, b)):
                pairs.append((a, b))
    return pairs


def read_sources(corpus: Path, docs: int, seed: int) -> list[Source]:
    """Parse an evenly random sample of `docs` files of the corpus into Sources."""
    files = sorted(iter_files(corpus))
    rng, cut = random.Random(seed), _cutter()
    out = []
    for path in rng.sample(files, min(docs, len(files))):
        doc = parse_file(path, corpus)
        if not hasattr(doc, "body"):
            continue  # skipped by the indexer too
        text = NOISE.sub(" ", f"{doc.title}\n{doc.description}\n{doc.body[:6000]}")
        src = Source(
            title_words=_zh_words(cut, doc.title) + _en_words(doc.title),
            zh_words=_zh_words(cut, text),
            zh_runs=[r for r in HAN.findall(text) if len(r) >= 2],
            en_words=_en_words(text),
            en_pairs=_en_pairs(text),
            tags=[t for t in doc.tags if SAFE_TAG.match(t)],
            author=doc.author if doc.author and len(doc.author) < 60 else "",
            date=doc.date.date() if doc.date else None,
        )
        if src.zh_words or src.en_words:
            out.append(src)
    return out


def _zh_run(src: Source, rng: random.Random) -> str | None:
    if not src.zh_runs:
        return None
    run = rng.choice(src.zh_runs)
    n = rng.randint(2, min(4, len(run)))
    at = rng.randrange(len(run) - n + 1)
    return run[at : at + n]


def _term(src: Source, rng: random.Random) -> str | None:
    """One word of the document, Chinese or English as the document mostly is."""
    pool = src.zh_words if src.zh_words and (not src.en_words or rng.random() < 0.6) else None
    pool = pool or src.en_words
    return rng.choice(pool) if pool else None


def make_query(kind: str, src: Source, rng: random.Random) -> dict | None:
    """Params of one /api/search request of this kind from this document, or None."""
    pick = rng.choice
    zh, en = src.zh_words, src.en_words
    q: str | None = None
    extra: dict = {}
    if rng.random() < TITLE_SHARE:  # topical words: those of the title, when it has some
        zh = [w for w in src.title_words if HAN.match(w)] or zh
        en = [w for w in src.title_words if not HAN.match(w)] or en
    if kind == "zh_word" and zh:
        q = pick(zh)
    elif kind == "zh_run":
        q = _zh_run(src, rng)
    elif kind == "zh_two" and len(set(zh)) > 1:
        q = " ".join(rng.sample(sorted(set(zh)), 2))
    elif kind == "en_word" and en:
        q = pick(en)
    elif kind == "en_two" and src.en_pairs:
        q = " ".join(pick(src.en_pairs))
    elif kind == "mixed" and zh and en:
        a, b = pick(en), pick(zh)
        q = f"{a} {b}" if rng.random() < 0.5 else f"{b} {a}"
    elif kind == "phrase" and (src.en_pairs or zh):
        q = f'"{" ".join(pick(src.en_pairs))}"' if src.en_pairs else f'"{pick(zh)}"'
    elif kind == "prefix" and (long := [w for w in en if len(w) >= 5]):
        w = pick(long)
        q = w[: rng.randint(3, len(w) - 1)] + "*"
    elif kind == "or" and (a := _term(src, rng)) and (b := _term(src, rng)) and a != b:
        q = f"{a} OR {b}"
    elif kind == "not" and (a := _term(src, rng)) and (b := _term(src, rng)) and a != b:
        q = f"{a} -{b}" if rng.random() < 0.7 else f"{a} NOT {b}"
    elif kind == "scope" and (a := _term(src, rng)):
        if src.tags and rng.random() < 0.5:
            q = f"tag:{pick(src.tags)} {a}"
        elif src.title_words:
            q = f"title:{pick(src.title_words)}"
    elif kind == "tag_filter" and src.tags and (q := _term(src, rng)):
        extra["tag"] = [pick(src.tags)]
    elif kind == "author_filter" and src.author and (q := _term(src, rng)):
        extra["author"] = [src.author]
    elif kind == "date_filter" and src.date and (q := _term(src, rng)):
        before, after = rng.randint(0, 180), rng.randint(0, 180)
        extra["from"] = (src.date - timedelta(days=before)).isoformat()
        extra["to"] = (src.date + timedelta(days=after)).isoformat()
    elif kind == "sort" and (q := _term(src, rng)):
        extra["sort"] = pick(("newest", "newest", "oldest"))
    if not q:
        return None
    params = {"q": q, **extra}
    if rng.random() < PAGE_TWO:
        params["page"] = "2"
    return params


def canonical(params: dict) -> tuple:
    """What makes two requests the same search to any cache: words in any order and case."""
    words = tuple(sorted(params["q"].casefold().split()))
    rest = tuple(
        sorted((k, str(v).casefold()) for k, v in params.items() if k not in ("q", "page"))
    )
    return words, rest


def make_queries(sources: list[Source], count: int, seed: int) -> list[tuple[str, dict]]:
    """`count` distinct (kind, params), or as many as the sources allow."""
    rng = random.Random(seed)
    kinds, weights = list(KINDS), list(KINDS.values())
    out, seen = [], set()
    attempts = 0
    while len(out) < count and attempts < count * 30 and sources:
        attempts += 1
        kind = rng.choices(kinds, weights)[0]
        params = make_query(kind, rng.choice(sources), rng)
        if params is None or (key := canonical(params)) in seen:
            continue
        seen.add(key)
        out.append((kind, params))
    return out


# --- Load ------------------------------------------------------------------------------


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        return [proc, *proc.children(recursive=True)]
    return [proc]


def _cpu(procs: list[psutil.Process]) -> dict[int, float]:
    out = {}
    for p in procs:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            out[p.pid] = t.user + t.system
    return out


def _busy() -> float:
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def _memory(procs: list[psutil.Process]) -> dict:
    rss = pss = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            m = p.memory_full_info()
            rss, pss = rss + m.rss, pss + getattr(m, "pss", m.uss)
    return {"rss_mb": rss / MB, "pss_mb": pss / MB, "processes": len(procs)}


def drive(
    base: str, paths: list[str], clients: int, warmup: float, duration: float, server, close: bool
):
    """Send the paths in order from `clients` threads; return records and CPU readings.

    Each thread keeps one connection alive, or with `close` asks the server to close it
    after each answer and opens a new one for the next request.
    """
    url = urlsplit(base)
    headers = {"Connection": "close"} if close else {}
    counter = itertools.count()
    records: list[list[tuple[int, float, float, int | str]]] = [[] for _ in range(clients)]
    gate = threading.Barrier(clients + 1)
    box: dict = {}

    def client(mine: list) -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        gate.wait()
        stop = box["stop"]
        while (i := next(counter)) < len(paths):
            began = time.perf_counter()
            if began >= stop:
                break
            try:
                conn.request("GET", paths[i], headers=headers)
                resp = conn.getresponse()
                resp.read()
                status: int | str = resp.status
                if resp.will_close or close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                conn.close()
            mine.append((i, began, time.perf_counter(), status))
        conn.close()

    threads = [threading.Thread(target=client, args=(r,), daemon=True) for r in records]
    for t in threads:
        t.start()
    me = psutil.Process()
    start = time.perf_counter()
    box["window"] = (start + warmup, start + warmup + duration)
    box["stop"] = box["window"][1]
    gate.wait()

    def reading() -> dict:
        procs = _tree(server)
        now = {"at": time.perf_counter(), "client": _cpu([me])[me.pid], "machine": _busy()}
        return now | {"server": _cpu(procs), "master": server.pid, "workers": procs[1:]}

    time.sleep(max(0.0, box["window"][0] - time.perf_counter()))
    first = reading()
    time.sleep(max(0.0, box["window"][1] - time.perf_counter()))
    last = reading()
    for t in threads:
        t.join(60)
    return [r for mine in records for r in mine], box["window"], first, last


def summarize(records, window, first, last, kinds: list[str], ran_out: bool) -> dict:
    t0, t1 = window
    done = [r for r in records if t0 <= r[2] <= t1]
    timed = [r for r in records if t0 <= r[1] < t1]
    errors = Counter(str(r[3]) for r in records if r[3] != 200)
    span = last["at"] - first["at"]
    out = {
        "window_s": t1 - t0,
        "requests": len(done),
        "req_per_s": len(done) / (t1 - t0),
        "latency_ms": stats([(r[2] - r[1]) * 1000 for r in timed]) if timed else None,
        "requests_sent": len(records),
        "errors": sum(errors.values()),
        "errors_by_status": dict(errors),
        "queries_ran_out": ran_out,
    }
    by_kind: dict[str, list[float]] = {}
    for r in timed:
        by_kind.setdefault(kinds[r[0]], []).append((r[2] - r[1]) * 1000)
    out["latency_ms_by_kind"] = {
        k: {m: round(v, 1) for m, v in stats(v).items()} for k, v in sorted(by_kind.items())
    }
    server = {pid: last["server"].get(pid, 0.0) - s for pid, s in first["server"].items()}
    master = first["master"]
    workers = [round(server[p.pid] / span, 2) for p in first["workers"] if p.pid in server]
    client = (last["client"] - first["client"]) / span
    busy = (last["machine"] - first["machine"]) / span
    out["cpu_cores"] = {  # CPU seconds per second of the window: 1.0 is one core kept busy
        "client": round(client, 2),
        "server": round(sum(server.values()) / span, 2),
        "server_master": round(server.get(master, 0.0) / span, 2),
        "server_workers": workers,
        "machine": round(busy, 2),
        "other": round(busy - client - sum(server.values()) / span, 2),
        "machine_cores": psutil.cpu_count(),
    }
    return out


MODES = {"keep-alive": "", "close": "_close"}  # connection mode: suffix of its report keys


def throughput(
    index: Path,
    queries: list[tuple[str, dict]],
    logs: Path,
    workers: list[int],
    modes: list[str],
    clients: int = 8,
    warmup: float = 3.0,
    duration: float = 20.0,
) -> dict:
    """Load a fresh server per mode and worker count: {"workers_N[_close]": {...}, …}."""
    paths = ["/api/search?" + urlencode(p, doseq=True) for _, p in queries]
    kinds = [k for k, _ in queries]
    out: dict = {
        "clients": clients,
        "warmup_s": warmup,
        "duration_s": duration,
        "distinct_queries": len(queries),
        "query_kinds": dict(Counter(kinds)),
        "client": "threads of one Python process, one http.client connection each: kept "
        "alive (workers_N) or closed by the server after each answer (workers_N_close)",
    }
    for mode in modes:
        for n in workers:
            say(f"throughput: {n} worker(s), {mode}, {clients} clients, {warmup:g}+{duration:g} s")
            key = f"workers_{n}{MODES[mode]}"
            with serving(index, logs / f"serve-{key}.log", workers=n) as (base, info):
                proc = info["process"]
                idle = _memory(_tree(proc))
                records, window, first, last = drive(
                    base, paths, clients, warmup, duration, proc, close=mode == "close"
                )
                after = _memory(_tree(proc))
            got = summarize(records, window, first, last, kinds, len(records) >= len(paths))
            got |= {"workers": n, "connection": mode, "startup_seconds": info["startup_seconds"]}
            out[key] = got | {"memory_idle": idle, "memory_after": after}
        if len(workers) > 1 and (one := out[f"workers_{workers[0]}{MODES[mode]}"]["req_per_s"]):
            last_n = out[f"workers_{workers[-1]}{MODES[mode]}"]["req_per_s"]
            out[f"scaling{MODES[mode]}"] = last_n / one
    return out


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def print_throughput(t: dict, documents: int | None = None) -> None:
    docs = f", {documents:,} documents" if documents else ""
    print(
        f"\nThroughput: {t['clients']} clients of unique queries ({t['distinct_queries']:,} "
        f"distinct), {t['duration_s']:g} s after {t['warmup_s']:g} s warm-up{docs}"
    )
    head = ("req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "RSS MB", "PSS MB")
    head += ("server CPU", "per worker", "client CPU", "other CPU")
    print(f"  {'workers':<14}" + "".join(f"{h:>11}" for h in head))
    for r in t.values():
        if not isinstance(r, dict) or "req_per_s" not in r:
            continue
        lat, mem, cpu = r["latency_ms"] or {}, r["memory_after"], r["cpu_cores"]
        cells = [f"{r['req_per_s']:.0f}"]
        cells += [f"{lat.get(k, float('nan')):.1f}" for k in ("p50", "p95", "p99")]
        cells += [str(r["errors"]), f"{mem['rss_mb']:.0f}", f"{mem['pss_mb']:.0f}"]
        cells += [f"{cpu['server']:.2f}", "/".join(f"{w:.1f}" for w in cpu["server_workers"])]
        cells += [f"{cpu[k]:.2f}" for k in ("client", "other")]
        print(f"  {r['workers']} {r['connection']:<12}" + "".join(f"{c:>11}" for c in cells))
        if r["queries_ran_out"]:
            print("    (the distinct queries ran out before the end: give more --queries)")
    for mode, suffix in MODES.items():
        if f"scaling{suffix}" in t:
            print(
                f"  {mode}: throughput of the most workers / the fewest {t[f'scaling{suffix}']:.2f}"
            )
    print(
        "  CPU in cores (CPU seconds per second of the window, of "
        f"{psutil.cpu_count()}); RSS and PSS: all server processes after the load"
    )


def corpus_of(index: Path) -> Path:
    """The corpus folder `indexer status --json` says the index was built from."""
    out = subprocess.run(
        py("indexer", "status", "--index", index, "--json"), capture_output=True, text=True
    )
    try:
        return Path(json.loads(out.stdout)["corpus"])
    except (ValueError, KeyError):
        raise SystemExit(f"cannot tell the corpus of {index}: {out.stdout or out.stderr}") from None


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser("python -m benchmarks.load", description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, required=True, help="an index built by indexer rebuild")
    ap.add_argument("--corpus", type=Path, help="where the queries come from [the index's]")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="[1 2]")
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients [8]")
    ap.add_argument(
        "--connection",
        nargs="+",
        choices=list(MODES),
        default=list(MODES),
        help="keep each client's connection alive, or a new one per request [both]",
    )
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds not measured [3]")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds measured [20]")
    ap.add_argument("--queries", type=int, default=40000, help="distinct queries made [40000]")
    ap.add_argument("--docs", type=int, default=3000, help="documents sampled for them [3000]")
    ap.add_argument("--seed", type=int, default=15000)
    ap.add_argument("--show", type=int, default=0, help="print N example queries and stop")
    ap.add_argument("--out", type=Path, help="JSON report [benchmarks/reports/load.json]")
    args = ap.parse_args(argv)
    if "DIGEST_BENCH_ROOT" not in os.environ:
        sys.exit(snapshot_and_rerun(argv, "benchmarks.load"))
    index = CWD / args.index
    corpus = CWD / args.corpus if args.corpus else corpus_of(index)
    started = time.perf_counter()
    queries = make_queries(read_sources(corpus, args.docs, args.seed), args.queries, args.seed)
    say(f"{len(queries):,} distinct queries in {time.perf_counter() - started:.1f} s")
    if args.show:
        for kind, params in queries[: args.show]:
            print(f"{kind:<14} {json.dumps(params, ensure_ascii=False)}")
        return
    out = CWD / (args.out or ROOT / "benchmarks" / "reports" / "load.json")
    report = {"machine": machine(), "index": str(index), "corpus": str(corpus)}
    report["examples"] = [p for _, p in queries[:40]]
    logs = Path(tempfile.gettempdir()) / "digest-load-logs"  # the servers' output
    logs.mkdir(exist_ok=True)
    report["throughput"] = throughput(
        index,
        queries,
        logs,
        args.workers,
        args.connection,
        args.clients,
        args.warmup,
        args.duration,
    )
    report["machine"]["load_average_end"] = os.getloadavg()
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print_throughput(report["throughput"])
    print(f"\nReport: {out}")


if __name__ == "__main__":
    main()
