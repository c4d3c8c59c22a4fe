"""Search quality: Chinese substring recall, known-item ranking and highlights.

    python -m benchmarks.quality [--corpus-root ../shared/corpus] [--sample N]
    python -m benchmarks.quality --select-words    # refresh quality_words.json

The corpus is a seeded sample of digest-hn and hkcnews (plus every known-item
target), linked into a temporary folder that keeps relative paths, so document
ids match the full corpus. Our index and the naive baseline (Whoosh + jieba's
ChineseAnalyzer) are built from it in the same run, side by side.

Recall: for each word of quality_words.json (1-4 Han characters that jieba
often leaves inside a longer token) the oracle is every document whose visible
text (title, description, tags, split_parts(body).all) holds the word as a
substring, as written or after fold() on both sides. Extra hits are split into
those explained by folding (the folded oracle holds them) and unexplained ones.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmarks.naive import NaiveSearcher, build_naive
from indexer.corpus import iter_files
from indexer.parsing import Skipped, parse_file
from indexer.rebuild import rebuild
from searchengine import SearchRequest, Settings, open_index, search
from searchengine.analysis import SEGMENTER
from searchengine.folding import HAN, fold, fold_with_map
from searchengine.highlighting import highlight_title, snippet
from searchengine.query import parse_query
from searchengine.search import _docs
from searchengine.text import split_parts

HERE = Path(__file__).resolve().parent
WORDS_FILE = HERE / "quality_words.json"
ITEMS_FILE = HERE / "known_items.json"
SOURCES = {"digest-hn": 3000, "hkcnews": 1500}
SEED = 2024
HAN_RUN = re.compile(f"[{HAN}]+")
TARGET_RECALL, TARGET_MRR = 0.995, 0.9


# --- The sample corpus ----------------------------------------------------------------


def sample_ids(root: Path, sample: int, must: list[str]) -> list[str]:
    """Pick a seeded sample of each source (``sample`` 0: all), plus the ``must`` files."""
    picked: set[str] = set()
    for source, default in SOURCES.items():
        rels = sorted(p.relative_to(root).as_posix() for p in iter_files(root / source))
        n = len(rels) if sample == 0 else min(len(rels), default * sample // sum(SOURCES.values()))
        picked.update(random.Random(f"{SEED}-{source}").sample(rels, n))
    return sorted(picked | {m + ".md" for m in must})


def link_corpus(root: Path, rels: list[str], dest: Path) -> Path:
    """Link the sampled files into ``dest``, keeping their paths relative to ``root``."""
    for rel in rels:
        link = dest / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(root / rel, link)
    return dest


def visible(title: str, description: str, tags: list[str], markdown: str) -> str:
    """Return what the engine indexes for a document, one field per line."""
    return "\n".join([title, description, " ".join(tags), split_parts(markdown).all])


# --- Choosing the words (run once with --select-words) --------------------------------


def _segment_stats(root: Path, rels: list[str]):
    """Count, per folded 1-4 character word, occurrences and those not emitted as a token."""
    runs: dict[str, list] = defaultdict(list)
    emitted: dict[str, Counter] = defaultdict(Counter)
    for rel in rels:
        doc = parse_file(root / rel, root)
        if isinstance(doc, Skipped):
            continue
        source = rel.split("/")[0]
        text = visible(doc.title, doc.description, doc.tags, doc.body)
        folded, offsets = fold_with_map(text)
        for m in HAN_RUN.finditer(folded):
            tokens, spans, at = SEGMENTER.cut(m.group()), set(), 0
            for tok in tokens:
                spans.add((at, at + len(tok)))
                at += len(tok)
                if len(tok) <= 4:
                    emitted[source][tok] += 1
            original = "".join(text[offsets[i]] for i in range(m.start(), m.end()))
            runs[source].append((doc.id, m.group(), original, tokens, spans))
    return runs, emitted


SEEDS = [
    "简单",
    "处理",
    "降息",
    "马克",
    "立法會",
    "選舉",
    "香港",
    "林鄭",
    "港",
    "美",
    "警",
    "華",
    "车",
    "网",
]


def select_words(root: Path, sample: int, must: list[str]) -> dict:
    """Measure how often jieba hides each frequent word inside another token; pick 40+."""
    runs, emitted = _segment_stats(root, sample_ids(root, sample, must))
    stats: dict[tuple[str, str], dict] = {}
    for source, items in runs.items():
        cands = {w for w, n in emitted[source].items() if n >= 15 and HAN_RUN.fullmatch(w)}
        cands |= {fold(s) for s in SEEDS}
        occ, miss, inside, docs = Counter(), Counter(), Counter(), defaultdict(set)
        forms, covers = defaultdict(Counter), defaultdict(Counter)
        for doc_id, run, original, tokens, spans in items:
            ends = [e for _, e in sorted(spans)]
            for i in range(len(run)):
                for n in range(1, 5):
                    w = run[i : i + n]
                    if len(w) < n or w not in cands:
                        continue
                    occ[w] += 1
                    docs[w].add(doc_id)
                    forms[w][original[i : i + n]] += 1
                    if (i, i + n) not in spans:
                        miss[w] += 1
                        first = next(k for k, e in enumerate(ends) if e > i)
                        last = next(k for k, e in enumerate(ends) if e >= i + n)
                        inside[w] += first == last
                        covers[w]["/".join(tokens[first : last + 1])] += 1
        for w in cands:
            if occ[w]:
                stats[source, w] = {
                    "word": forms[w].most_common(1)[0][0],
                    "source": source,
                    "occurrences": occ[w],
                    "documents": len(docs[w]),
                    "not_token": miss[w],
                    "not_token_share": round(miss[w] / occ[w], 3),
                    "inside_longer_token": inside[w],
                    "jieba_tokens_there": [c for c, _ in covers[w].most_common(3)],
                }
    chosen = [_best(stats, s) for s in SEEDS]
    groups = [  # (source, traditional form wanted, lengths, how many)
        ("hkcnews", True, (2, 3, 4), 14),
        ("digest-hn", False, (2,), 10),
        ("digest-hn", False, (3, 4), 8),
    ]
    for source, trad, lengths, n in groups:
        pool = [
            s
            for (src, w), s in stats.items()
            if src == source
            and len(w) in lengths
            and (s["word"] != w) == trad
            and s["documents"] >= 10
            and 0.25 <= s["not_token_share"] <= 0.9
            and s["inside_longer_token"] >= 0.6 * s["not_token"]
            and all(fold(c["word"]) != w for c in chosen)
        ]
        pool.sort(key=lambda s: -s["not_token_share"] * math.log(s["not_token"]))
        chosen += pool[:n]
    return {
        "about": "Words that jieba (rjieba, on folded text, as the engine cuts it) often"
        " does not emit as a token where they occur; measured by --select-words.",
        "sample": {"seed": SEED, "sources": SOURCES, "sample": sample},
        "words": chosen,
    }


def _best(stats: dict, seed: str) -> dict:
    found = [s for (_, w), s in stats.items() if w == fold(seed)]
    found.sort(key=lambda s: (s["word"] == seed, s["occurrences"]), reverse=True)
    return found[0] if found else {"word": seed, "occurrences": 0}


# --- Recall ----------------------------------------------------------------------------


def recall_rows(ix, words: list[str], texts: dict[str, str]) -> list[dict]:
    """Compare each word's hits with the substring oracle, as written and folded."""
    folded_texts = {i: fold(t) for i, t in texts.items()}
    rows = []
    with ix.view() as view:
        ids = {n: f["id"] for n, f in view.searcher.reader().iter_docs()}
        for word in words:
            raw = {i for i, t in texts.items() if word in t}
            folded = {i for i, t in folded_texts.items() if fold(word) in t}
            oracle = raw | folded
            hits = {ids[n] for n in _docs(view, parse_query(word).query, [])}
            total = search(ix, SearchRequest(q=word, per_page=1)).total
            extra = hits - raw
            rows.append(
                {
                    "word": word,
                    "oracle": len(oracle),
                    "oracle_as_written": len(raw),
                    "oracle_folded": len(folded),
                    "hits": len(hits),
                    "search_total": total,
                    "recall": round(len(hits & oracle) / len(oracle), 4) if oracle else 1.0,
                    "extra": len(extra),
                    "extra_by_folding": len(extra & folded),
                    "extra_unexplained": len(extra - folded),
                    "missed": sorted(oracle - hits)[:10],
                    "written_not_folded": sorted(raw - folded)[:10],
                    "unexplained_examples": sorted(extra - folded)[:5],
                }
            )
    return rows


# --- Known items -----------------------------------------------------------------------


def known_item_rows(ix, naive: NaiveSearcher, items: list[dict]) -> list[dict]:
    """Rank each target (or a verbatim copy of it) among the top 10 of both engines."""
    rows = []
    for item in items:
        wanted = {item["target"], *item.get("copies", [])}
        ours = [h.id for h in search(ix, SearchRequest(q=item["q"], per_page=10)).results]
        try:
            theirs = naive.search(item["q"], limit=10)
        except Exception:  # the naive parser chokes on some input: a miss
            theirs = []
        rows.append(
            {
                "q": item["q"],
                "kind": item["kind"],
                "target": item["target"],
                "ours": _rank(ours, wanted),
                "naive": _rank(theirs, wanted),
            }
        )
    return rows


def _rank(ids: list[str], wanted: set[str]) -> int | None:
    return next((i + 1 for i, d in enumerate(ids) if d in wanted), None)


def ranking_metrics(rows: list[dict], engine: str) -> dict:
    """MRR@10, success@1 and success@3 over the known-item queries."""
    ranks = [r[engine] for r in rows]
    n = len(ranks) or 1
    return {
        "mrr@10": round(sum(1 / r for r in ranks if r) / n, 4),
        "success@1": round(sum(1 for r in ranks if r == 1) / n, 4),
        "success@3": round(sum(1 for r in ranks if r and r <= 3) / n, 4),
        "found@10": sum(1 for r in ranks if r),
        "queries": len(ranks),
    }


# --- Highlights ------------------------------------------------------------------------

HIGHLIGHT_CASES = [  # (text, query, what must be marked, exactly)
    ("马克思主义者买了马克杯", "马克思", ["马克思"]),
    ("立法會選舉今日舉行", "立法会", ["立法會"]),
    ("安装简单，不需要处理器", "简单", ["简单"]),
    ("美联储降息，股市大涨", "美联储降息", ["美联储降息"]),
    ("Rates were cut again", "rate cutting", ["Rates", "cut"]),
    ("ＡＩ模型與AI晶片", "ai", ["ＡＩ", "AI"]),
    ("Bluesky CEO Jay Graber 卸任", "bluesky 卸任", ["Bluesky", "卸任"]),
    ("<b>香港</b> & 港人", "香港", ["香港"]),
    ("无关的内容。" * 50 + "安装简单，处理器很快。", "处理", ["处理"]),  # a snippet
]


def highlight_rows() -> list[dict]:
    """Check that titles mark whole matched words, fold both ways and stay escaped."""
    rows = []
    for text, q, expected in HIGHLIGHT_CASES:
        terms = parse_query(q).highlight
        html = snippet(text, terms)[0] if len(text) > 200 else highlight_title(text, terms)
        marked = re.findall(r"<mark>(.*?)</mark>", html)
        ok = marked == expected and "<b>" not in html
        rows.append({"text": text[-40:], "q": q, "expected": expected, "marked": marked, "ok": ok})
    return rows


# --- The run ---------------------------------------------------------------------------


def _load(path: Path) -> dict | list:
    return json.loads(path.read_text(encoding="utf-8"))


def run(root: Path, sample: int, out: Path) -> dict:
    """Build both indexes over the sample, measure, print the tables, write the report."""
    words = [w["word"] for w in _load(WORDS_FILE)["words"]]
    items = _load(ITEMS_FILE)["items"]
    rels = sample_ids(root, sample, [i["target"] for i in items])
    with tempfile.TemporaryDirectory(prefix="quality-") as tmp:
        corpus = link_corpus(root, rels, Path(tmp) / "corpus")
        started = time.perf_counter()
        with ProcessPoolExecutor(1) as pool:  # the naive build runs beside ours
            naive_job = pool.submit(build_naive, corpus, Path(tmp) / "naive")
            report = rebuild(Settings.resolve(corpus, Path(tmp) / "ours"))
            naive_build = naive_job.result()
        built = time.perf_counter() - started
        ix = open_index(Path(tmp) / "ours")
        naive = NaiveSearcher(Path(tmp) / "naive")
        try:
            with ix.view() as view:
                texts = {
                    f["id"]: visible(
                        f["title"],
                        f.get("description", ""),
                        f.get("tags") or [],
                        f.get("markdown", ""),
                    )
                    for f in view.searcher.reader().all_stored_fields()
                }
            recall = recall_rows(ix, words, texts)
            known = known_item_rows(ix, naive, items)
        finally:
            naive.close()
            ix.close()
    result = {
        "corpus": {
            "root": str(root),
            "sample": sample,
            "seed": SEED,
            "files": len(rels),
            "indexed": report.indexed,
            "naive_indexed": naive_build.documents,
            "build_seconds": round(built, 1),
        },
        "recall": recall,
        "ranking": {e: ranking_metrics(known, e) for e in ("ours", "naive")},
        "known_items": known,
        "highlights": highlight_rows(),
    }
    result["targets_met"] = _verdict(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print_report(result)
    print(f"\nReport written to {out}")
    return result


def _verdict(result: dict) -> dict:
    ours, naive = result["ranking"]["ours"], result["ranking"]["naive"]
    return {
        "recall": all(r["recall"] >= TARGET_RECALL for r in result["recall"]),
        "mrr": ours["mrr@10"] >= TARGET_MRR and ours["mrr@10"] > naive["mrr@10"],
        "highlights": all(h["ok"] for h in result["highlights"]),
    }


def print_report(result: dict) -> None:
    """Print the per-word recall table, the known-item ranks and the summary figures."""
    c = result["corpus"]
    print(
        f"Sample: {c['files']} files (seed {c['seed']}), indexed {c['indexed']} (naive "
        f"{c['naive_indexed']}), both built in {c['build_seconds']} s\n"
    )
    head = ("word", "oracle", "written", "hits", "recall", "extra", "folding", "unexpl.")
    print("{:<6}{:>8}{:>9}{:>7}{:>9}{:>7}{:>9}{:>9}".format(*head))
    for r in result["recall"]:
        flag = "" if r["recall"] >= TARGET_RECALL else "  <-- below target"
        print(
            f"{r['word']:<{6 - _wide(r['word'])}}{r['oracle']:>8}{r['oracle_as_written']:>9}"
            f"{r['hits']:>7}{r['recall']:>9.4f}{r['extra']:>7}{r['extra_by_folding']:>9}"
            f"{r['extra_unexplained']:>9}{flag}"
        )
    worst = min(result["recall"], key=lambda r: r["recall"])
    print(
        f"\n{len(result['recall'])} words; lowest recall {worst['recall']:.4f} ({worst['word']}); "
        f"unexplained extra hits: {sum(r['extra_unexplained'] for r in result['recall'])}"
    )
    print("\nKnown items (rank of the target in the top 10; - = not found)")
    print(f"{'ours':>5}{'naive':>6}  kind   query")
    for r in result["known_items"]:
        print(f"{r['ours'] or '-':>5}{r['naive'] or '-':>6}  {r['kind']:<6} {r['q']}")
    print(f"\n{'engine':<8}{'MRR@10':>8}{'S@1':>7}{'S@3':>7}{'found':>8}")
    for name, m in result["ranking"].items():
        print(
            f"{name:<8}{m['mrr@10']:>8.3f}{m['success@1']:>7.3f}{m['success@3']:>7.3f}"
            f"{m['found@10']:>5}/{m['queries']}"
        )
    print("\nHighlights")
    for h in result["highlights"]:
        print(
            f"  {'ok ' if h['ok'] else 'BAD'} {h['q']!r}: marked {h['marked']} "
            f"(expected {h['expected']}) in {h['text']!r}"
        )
    print(f"\nTargets met: {result['targets_met']}")


def _wide(text: str) -> int:
    return sum(1 for ch in text if HAN_RUN.match(ch))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.quality", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--corpus-root", type=Path, default=HERE.parent.parent / "shared" / "corpus")
    ap.add_argument(
        "--sample",
        type=int,
        default=sum(SOURCES.values()),
        help="documents to sample, split 2:1 between digest-hn and hkcnews; 0: all",
    )
    ap.add_argument("--out", type=Path, default=HERE / "reports" / "quality.json")
    ap.add_argument(
        "--select-words",
        action="store_true",
        help="measure jieba's segmentation and rewrite quality_words.json",
    )
    args = ap.parse_args(argv)
    root = args.corpus_root.resolve()
    if args.select_words:
        must = [i["target"] for i in _load(ITEMS_FILE)["items"]] if ITEMS_FILE.exists() else []
        chosen = select_words(root, args.sample, must)
        WORDS_FILE.write_text(json.dumps(chosen, ensure_ascii=False, indent=1) + "\n", "utf-8")
        print(f"{len(chosen['words'])} words written to {WORDS_FILE}")
        return 0
    run(root, args.sample, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
