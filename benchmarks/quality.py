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


SEEDS = ["简单", "处理", "降息", "马克", "立法會", "選舉", "香港", "林鄭", "港", "美", "警", "華", "车", "网"]


def select_words(root: Path, sample: int) -> dict:
    """Measure how often jieba hides each frequent word inside another token; pick 40+."""
    runs, emitted = _segment_stats(root, sample_ids(root, sample, []))
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
    chosen = [_best(stats, fold(s)) for s in SEEDS]
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


def _best(stats: dict, folded: str) -> dict:
    found = [s for (_, w), s in stats.items() if w == folded]
    return max(found, key=lambda s: s["occurrences"]) if found else {"word": folded}


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
