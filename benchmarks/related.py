"""Related stories on a real archive: are copies found, and what does a page pay for them?

    python -m benchmarks.related [--corpus DIR] [--index DIR] [--sample 200] [--out FILE]

Builds (or reuses, with an existing --index) an index of the corpus (by default the
hkcnews archive, which holds many copies of one article under different numbers).
Copies are found independently of the MinHash estimate the engine uses: documents
with the same title whose folded texts have an exact shingle Jaccard of at least
0.9. For every document with a copy, the benchmark asks whether a copy is among its
related documents (recall, target 90%). Then it times ``related`` for random
documents in one warm process, as a server answers pages.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from indexer.rebuild import rebuild
from searchengine import Settings, open_index
from searchengine.related import related, shingle_hashes
from searchengine.schema import body_parts

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "corpus"
COPY = 0.9  # exact Jaccard of the shingle sets from which two same-title documents are copies


def exact_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two shingle-hash sets, computed exactly."""
    if not len(a) or not len(b):
        return 0.0
    both = len(np.intersect1d(a, b, assume_unique=True))
    return both / (len(a) + len(b) - both)


def copy_groups(view) -> dict[int, set[int]]:
    """For each document with copies, the numbers of its copies (same title, Jaccard ≥ 0.9)."""
    by_title: dict[str, list[int]] = defaultdict(list)
    with view.lock:
        for docnum in np.flatnonzero(view.facets.live_mask).tolist():
            title = view.searcher.stored_fields(docnum).get("title", "")
            if title:
                by_title[title].append(docnum)
    copies: dict[int, set[int]] = defaultdict(set)
    for docs in by_title.values():
        if len(docs) < 2:
            continue
        shingles = {d: np.unique(shingle_hashes(view.chars.text(d))) for d in docs}
        for i, a in enumerate(docs):
            for b in docs[i + 1 :]:
                same = view.chars.text(a) == view.chars.text(b)
                if same or exact_jaccard(shingles[a], shingles[b]) >= COPY:
                    copies[a].add(b)
                    copies[b].add(a)
    return copies


def related_of(view, docnum: int) -> tuple[list, float, float]:
    """Related documents of one document as the page asks for them; wall and CPU ms they cost.

    The stored fields are read first, outside the clock: the page reads them anyway.
    """
    with view.lock:
        stored = view.searcher.stored_fields(docnum)
    _, zh, en = body_parts(stored)
    started, cpu = time.perf_counter(), time.thread_time()
    got = related(view, docnum, stored.get("title", ""), stored.get("description", ""), (zh, en))
    return got, (time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=SHARED / "hkcnews")
    parser.add_argument("--index", type=Path, default=Path("/tmp/related-hk"))
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--out", type=Path, default=HERE / "reports" / "related.json")
    args = parser.parse_args()

    if not (args.index / "CURRENT").exists():
        started = time.perf_counter()
        rebuild(Settings.resolve(args.corpus, args.index))
        print(f"built the index in {time.perf_counter() - started:.0f} s")
    ix = open_index(args.index)
    started = time.perf_counter()
    with ix.view() as view:
        opened_ms = (time.perf_counter() - started) * 1000
        by_num = {d: view.facets.doc_id[d] for d in np.flatnonzero(view.facets.live_mask).tolist()}
        copies = copy_groups(view)
        found = flagged = all_found = all_copies = signed = 0
        misses = []
        for docnum, mine in sorted(copies.items()):
            got, _, _ = related_of(view, docnum)
            ids = [r.id for r in got]
            want = {by_num[c] for c in mine}
            hit = want & set(ids)
            found += bool(hit)
            if view.facets.stories.signed[docnum]:  # a body long enough for a signature
                signed += 1
                flagged += any(r.same_story and r.id in want for r in got)
            all_found += len(hit)
            all_copies += min(len(want), len(ids) or 1)
            if not hit and len(misses) < 10:
                misses.append({"id": by_num[docnum], "copies": sorted(want), "related": ids})
        same_story = [len([r for r in related_of(view, d)[0] if r.same_story]) for d in copies]

        rng = random.Random(0)
        sample = rng.sample(
            np.flatnonzero(view.facets.live_mask).tolist(),
            min(args.sample, int(view.facets.live_mask.sum())),
        )
        related_of(view, sample[0])  # the first call pays for lazy imports, as a server's did
        times, cpu_times, lengths = [], [], []
        for docnum in sample:
            got, ms, cpu_ms = related_of(view, docnum)
            times.append(ms)
            cpu_times.append(cpu_ms)
            lengths.append(len(got))
    ix.close()

    recall = found / max(1, len(copies))
    report = {
        "corpus": str(args.corpus),
        "documents": len(by_num),
        "documents_with_copies": len(copies),
        "copy_found_share": round(recall, 4),
        "documents_with_copies_and_a_body": signed,
        "copy_found_as_same_story_share": round(flagged / max(1, signed), 4),
        "copies_listed_share": round(all_found / max(1, all_copies), 4),
        "mean_same_story_listed": round(statistics.mean(same_story), 3) if same_story else 0,
        "misses": misses,
        "timing_ms": {
            "documents": len(times),
            "median": round(statistics.median(times), 3),
            "p95": round(percentile(times, 0.95), 3),
            "max": round(max(times), 3),
        },
        # The machine is shared: CPU time shows the cost without waiting for a core.
        "cpu_ms": {
            "median": round(statistics.median(cpu_times), 3),
            "p95": round(percentile(cpu_times, 0.95), 3),
            "max": round(max(cpu_times), 3),
        },
        "load_average": round(os.getloadavg()[0], 2),
        "snapshot_open_ms": round(opened_ms, 1),
        "mean_related_listed": round(statistics.mean(lengths), 2),
        "empty_lists": sum(1 for n in lengths if n == 0),
    }
    rows = [
        ("documents", f"{report['documents']:,}"),
        ("documents with copies", f"{len(copies):,}"),
        ("a copy among related (target ≥ 90%)", f"{recall:.1%}"),
        ("…of those with a body: as same story", f"{report['copy_found_as_same_story_share']:.1%}"),
        ("copies listed / copies that fit", f"{report['copies_listed_share']:.1%}"),
        ("related ms, median", f"{report['timing_ms']['median']:.2f}"),
        ("related ms, p95", f"{report['timing_ms']['p95']:.2f}"),
        ("related ms, max", f"{report['timing_ms']['max']:.2f}"),
        ("related CPU ms, median", f"{report['cpu_ms']['median']:.2f}"),
        ("related CPU ms, p95", f"{report['cpu_ms']['p95']:.2f}"),
        ("related CPU ms, max", f"{report['cpu_ms']['max']:.2f}"),
        ("load average", f"{report['load_average']:.2f}"),
        ("related listed, mean", f"{report['mean_related_listed']:.2f}"),
        ("empty lists", str(report["empty_lists"])),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value:>10}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"report: {args.out}")


if __name__ == "__main__":
    main()
