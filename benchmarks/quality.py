"""Search quality: Chinese substring recall, known-item ranking and highlights.

    python -m benchmarks.quality [--corpus-root ../shared/corpus] [--sample N] [--out FILE]
    python -m benchmarks.quality --select-words    # re-measure and rewrite quality_words.json

The corpus is a seeded sample of digest-hn and hkcnews (plus every known-item
target), linked into a temporary folder that keeps relative paths, so document
ids match the full corpus. Our index and the naive baseline (Whoosh + jieba's
ChineseAnalyzer) are built from it in the same run, side by side.

Recall: for each word of quality_words.json the oracle is every document whose
visible text (title, description, tags, split_parts(body).all) holds the word as
a substring, as written or after fold() on both sides. Extra hits are split into
those the folded oracle explains (Traditional/Simplified, width) and the rest.

Ranking: known_items.json holds queries written the way a reader remembers a
story, each with its target (and verbatim republished copies that count as it);
MRR@10, success@1 and success@3 are reported for both engines.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import re
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import jieba

from benchmarks.naive import NaiveSearcher, build_naive
from indexer.corpus import iter_files
from indexer.parsing import Skipped, parse_file
from indexer.rebuild import rebuild
from searchengine import SearchRequest, Settings, open_index, search
from searchengine.folding import HAN, fold, fold_chars, fold_with_map
from searchengine.highlighting import highlight_title, snippet
from searchengine.matching import Matcher
from searchengine.query import parse_query
from searchengine.schema import body_parts
from searchengine.segmenter import SEGMENTER
from searchengine.text import hidden_labels, split_parts

HERE = Path(__file__).resolve().parent
WORDS_FILE = HERE / "quality_words.json"
ITEMS_FILE = HERE / "known_items.json"
SOURCES = {"digest-hn": 3000, "hkcnews": 1500}
SAMPLE = sum(SOURCES.values())
SEED = 2024
HAN_RUN = re.compile(f"[{HAN}]+")
TARGET_RECALL, TARGET_MRR, TARGET_FRAGMENTS = 0.995, 0.9, 0.999
FRAGMENTS = 300  # random runs cut from the sample's documents, ignoring word boundaries
ROW = "{:<{}}{:>8}{:>9}{:>7}{:>9.4f}{:>7}{:>9}{:>9}{}"
# Named in the issue or picked by hand (1-character words), measured like the rest.
SEEDS = ["简单", "处理", "降息", "马克", "立法會", "選舉", "香港", "林鄭", *"港美警華车网"]
GROUPS = [  # (source, Traditional form, lengths, how many) picked by measurement
    ("hkcnews", True, (2, 3, 4), 14),
    ("digest-hn", False, (2,), 10),
    ("digest-hn", False, (3, 4), 8),
]


# --- The sample corpus ------------------------------------------------------------------


def sample_ids(root: Path, sample: int, must: list[str]) -> list[str]:
    """Pick a seeded sample of each source (``sample`` 0: all), plus the ``must`` ids."""
    picked: set[str] = set()
    for source, share in SOURCES.items():
        rels = sorted(p.relative_to(root).as_posix() for p in iter_files(root / source))
        n = len(rels) if sample == 0 else min(len(rels), share * sample // SAMPLE)
        picked.update(random.Random(f"{SEED}-{source}").sample(rels, n))
    return sorted(picked | {m + ".md" for m in must})


def link_corpus(root: Path, rels: list[str], dest: Path) -> Path:
    """Copy the sampled files into ``dest``, keeping their paths relative to ``root``.

    Copies, not symlinks: the indexer never reads through a link that leaves the corpus.
    """
    for rel in rels:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, dest / rel)
    return dest


def visible(doc: dict) -> str:
    """Return what a reader sees of a document (stored fields), one field per line: title,
    description, tags, body, and author, category and the labels snippets leave out."""
    markdown = body_parts(doc)[0] or doc.get("body") or ""
    body = split_parts(markdown).all
    fields = [doc["title"], doc.get("description", ""), " ".join(doc["tags"] or []), body]
    fields += [doc.get("author") or "", doc.get("category") or "", hidden_labels(markdown)]
    return "\n".join(fields)


# --- Choosing the words (run once with --select-words) ----------------------------------


def _measure(root: Path, rels: list[str]):
    """Cut every Han run as the engine does; note where folding in context loses a char."""
    runs, emitted = defaultdict(list), defaultdict(Counter)
    written, lost = defaultdict(Counter), defaultdict(dict)
    for rel in rels:
        doc = parse_file(root / rel, root)
        if isinstance(doc, Skipped):
            continue
        source = rel.split("/")[0]
        text = visible(vars(doc))
        folded, offsets = fold_with_map(text)
        for ch in {c for c in text if HAN_RUN.match(c)}:
            written[source][ch] += 1
            if fold(ch) not in folded:  # the character folds otherwise in every phrase here
                i = text.index(ch)
                near = text[max(0, i - 2) : i + 3]
                lost[source].setdefault(ch, []).append(f"{near}→{fold(near)}")
        for m in HAN_RUN.finditer(folded):
            tokens, spans, at = SEGMENTER.cut(m.group()), set(), 0
            for tok in tokens:
                spans.add((at, at + len(tok)))
                at += len(tok)
                emitted[source][tok] += len(tok) <= 4
            original = "".join(text[offsets[i]] for i in range(m.start(), m.end()))
            runs[source].append((doc.id, m.group(), original, tokens, spans))
    return runs, emitted, written, lost


def _word_stats(items: list, cands: set[str], source: str) -> dict[str, dict]:
    """Count each candidate's occurrences and those where jieba emitted no such token."""
    occ, miss, inside, docs = Counter(), Counter(), Counter(), defaultdict(set)
    forms, covers = defaultdict(Counter), defaultdict(Counter)
    for doc_id, run, original, tokens, spans in items:
        ends = [e for _, e in sorted(spans)]
        for i in range(len(run)):
            for n in range(1, min(4, len(run) - i) + 1):
                w = run[i : i + n]
                if w not in cands:
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
    return {
        w: {
            "word": forms[w].most_common(1)[0][0],
            "source": source,
            "occurrences": occ[w],
            "documents": len(docs[w]),
            "not_token": miss[w],
            "not_token_share": round(miss[w] / occ[w], 3),
            "inside_longer_token": inside[w],
            "jieba_tokens_there": [c for c, _ in covers[w].most_common(3)],
        }
        for w in cands
        if occ[w]
    }


def select_words(root: Path, sample: int, must: list[str]) -> dict:
    """Pick 40+ words that jieba often leaves inside other tokens, with the evidence."""
    runs, emitted, written, lost = _measure(root, sample_ids(root, sample, must))
    stats: dict[tuple[str, str], dict] = {}
    for source, items in runs.items():
        cands = {w for w, n in emitted[source].items() if n >= 15 and HAN_RUN.fullmatch(w)}
        found = _word_stats(items, cands | {fold(s) for s in SEEDS}, source)
        stats.update(((source, w), s) for w, s in found.items())
    chosen = []
    for seed in SEEDS:
        same = sorted(
            (s for (_, w), s in stats.items() if w == fold(seed)),
            key=lambda s: (s["word"] == seed, s["occurrences"]),
            reverse=True,
        )
        chosen.append({**(same[0] if same else {"word": seed, "occurrences": 0}), "group": "seed"})
    for source, trad, lengths, n in GROUPS:
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
        chosen += [{**s, "group": "segmentation"} for s in pool[:n]]
    lost_docs = [(len(w), ch, src, w) for src, by in lost.items() for ch, w in by.items()]
    for n, ch, source, where in sorted(lost_docs, reverse=True)[:5]:  # OpenCC, in phrases
        e = {"word": ch, "source": source, "group": "folding", "documents": written[source][ch]}
        chosen.append(e | {"folded_otherwise_in": n, "examples": sorted(set(where))[:3]})
    return {
        "about": "Measured by --select-words: jieba (rjieba, on folded text, as the engine"
        " cuts it) often does not emit these words as tokens where they occur; the folding"
        " group are characters that OpenCC converts otherwise inside a phrase.",
        "sample": {"seed": SEED, "sources": SOURCES, "sample": sample},
        "words": chosen,
    }


# --- Measurements ---------------------------------------------------------------------


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
            hits = {ids[n] for n in match_set(view, word)}
            extra = hits - raw
            rows.append(
                {
                    "word": word,
                    "oracle": len(oracle),
                    "oracle_as_written": len(raw),
                    "oracle_folded": len(folded),
                    "hits": len(hits),
                    "recall": round(len(hits & oracle) / len(oracle), 4) if oracle else 1.0,
                    "extra": len(extra),
                    "extra_by_folding": len(extra & folded),
                    "extra_unexplained": len(extra - folded),
                    "missed": sorted(oracle - hits)[:10],
                    "unexplained_examples": sorted(extra - folded)[:5],
                }
            )
    return rows


def match_set(view, q: str) -> list[int]:
    """Every document number the engine matches for ``q`` (the whole set, not a page)."""
    root = parse_query(q).root
    if root is None:
        return []
    return Matcher(view).mask(root).nonzero()[0].tolist()


def cut_fragments(texts: dict[str, str], n: int, seed: int = SEED) -> list[str]:
    """Cut ``n`` runs of 1-6 Han characters from random documents at random places."""
    rng = random.Random(f"{seed}-fragments")
    ids = sorted(texts)
    out: list[str] = []
    while len(out) < n:
        runs = HAN_RUN.findall(texts[rng.choice(ids)])
        length = rng.choice((1, 2, 2, 3, 3, 4, 4, 5, 6))
        runs = [r for r in runs if len(r) >= length]
        if runs:
            run = rng.choice(runs)
            start = rng.randrange(len(run) - length + 1)
            out.append(run[start : start + length])
    return out


def fragment_rows(ix, fragments: list[str], texts: dict[str, str]) -> list[dict]:
    """Compare each fragment's matches, unquoted and quoted, with the folded substring oracle."""
    folded = {i: fold(t) for i, t in texts.items()}
    by_char = {i: fold_chars(t) for i, t in texts.items()}
    rows = []
    with ix.view() as view:
        ids = {n: f["id"] for n, f in view.searcher.reader().iter_docs()}
        for frag in fragments:
            # As written, or after folding (OpenCC folds some characters only in context).
            oracle = {i for i, t in texts.items() if frag in t}
            oracle |= {i for i, t in folded.items() if fold(frag) in t}
            oracle |= {i for i, t in by_char.items() if fold_chars(frag) in t}
            started = time.perf_counter()
            hits = {ids[n] for n in match_set(view, frag)}
            quoted = {ids[n] for n in match_set(view, f'"{frag}"')}
            ms = (time.perf_counter() - started) * 1000
            rows.append(
                {
                    "fragment": frag,
                    "oracle": len(oracle),
                    "hits": len(hits),
                    "found": len(hits & oracle),
                    "quoted_hits": len(quoted),
                    "quoted_exact": quoted == oracle,
                    "ms": round(ms, 2),
                    "missed": sorted(oracle - hits)[:5],
                }
            )
    return rows


def fragment_summary(rows: list[dict]) -> dict:
    """Recall over all fragment occurrences (micro) and per fragment (macro)."""
    oracle = sum(r["oracle"] for r in rows)
    found = sum(r["found"] for r in rows)
    return {
        "fragments": len(rows),
        "recall": round(found / oracle, 4) if oracle else 1.0,
        "mean_recall": round(
            sum(r["found"] / r["oracle"] if r["oracle"] else 1.0 for r in rows) / len(rows), 4
        ),
        "fragments_fully_found": sum(r["found"] == r["oracle"] for r in rows),
        "quoted_exact": sum(r["quoted_exact"] for r in rows),
        "median_ms": sorted(r["ms"] for r in rows)[len(rows) // 2],
        "max_ms": max(r["ms"] for r in rows),
    }


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
        rows.append({**item, "ours": _rank(ours, wanted), "naive": _rank(theirs, wanted)})
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


HIGHLIGHT_CASES = [  # (text, query, exactly what must be marked)
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
    """Check that marks cover whole matched words, fold both ways and stay escaped."""
    rows = []
    for text, q, expected in HIGHLIGHT_CASES:
        terms = parse_query(q).highlight
        html = snippet(text, terms)[0] if len(text) > 200 else highlight_title(text, terms)
        marked = re.findall(r"<mark>(.*?)</mark>", html)
        ok = marked == expected and "<b>" not in html
        rows.append({"text": text[-40:], "q": q, "expected": expected, "marked": marked, "ok": ok})
    return rows


# --- The run ----------------------------------------------------------------------------


def _load(path: Path):
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
        built = round(time.perf_counter() - started, 1)
        ix, naive = open_index(Path(tmp) / "ours"), NaiveSearcher(Path(tmp) / "naive")
        try:
            with ix.view() as view:
                texts = {f["id"]: visible(f) for f in view.searcher.reader().all_stored_fields()}
            recall, known = recall_rows(ix, words, texts), known_item_rows(ix, naive, items)
            fragments = fragment_rows(ix, cut_fragments(texts, FRAGMENTS), texts)
        finally:
            naive.close()
            ix.close()
    ranking = {e: ranking_metrics(known, e) for e in ("ours", "naive")}
    highlights = highlight_rows()
    corpus = {"root": str(root), "sample": sample, "seed": SEED, "files": len(rels)}
    corpus.update(indexed=report.indexed, naive_indexed=naive_build.documents, build_seconds=built)
    met = {
        "recall": all(r["recall"] >= TARGET_RECALL for r in recall),
        "mrr": ranking["ours"]["mrr@10"] >= max(TARGET_MRR, ranking["naive"]["mrr@10"]),
        "highlights": all(h["ok"] for h in highlights),
        "fragments": fragment_summary(fragments)["mean_recall"] >= TARGET_FRAGMENTS,
    }
    result = {"corpus": corpus, "targets_met": met, "recall": recall, "ranking": ranking}
    result.update(fragments=fragment_summary(fragments), fragment_rows=fragments)
    result.update(known_items=known, highlights=highlights)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print_report(result)
    print(f"\nReport written to {out}")
    return result


def print_report(result: dict) -> None:
    """Print the per-word recall table, the known-item ranks and the summary figures."""
    c = result["corpus"]
    print(
        f"Sample: {c['files']} files (seed {c['seed']}), indexed {c['indexed']} "
        f"(naive {c['naive_indexed']}), both built in {c['build_seconds']} s\n"
    )
    print("word    oracle  written   hits   recall  extra  folding  unexpl.")
    for r in result["recall"]:
        keys = ("oracle", "oracle_as_written", "hits", "recall", "extra", "extra_by_folding")
        low = "" if r["recall"] >= TARGET_RECALL else f"  <-- below target, e.g. {r['missed'][:2]}"
        width = 6 - len(r["word"])  # a Han character prints two columns wide
        print(ROW.format(r["word"], width, *(r[k] for k in keys), r["extra_unexplained"], low))
    worst = min(result["recall"], key=lambda r: r["recall"])
    print(
        f"\n{len(result['recall'])} words; lowest recall {worst['recall']:.4f} ({worst['word']}); "
        f"unexplained extra hits: {sum(r['extra_unexplained'] for r in result['recall'])}"
    )
    f = result["fragments"]
    print("\nFragments cut at random (unquoted: recall; quoted: exactly the oracle's set)")
    print("fragment  oracle    hits   found  quoted  ms")
    for r in result["fragment_rows"]:
        flag = "" if r["found"] == r["oracle"] and r["quoted_exact"] else "  <-- missed"
        width = 8 - 2 * len(r["fragment"])
        print(
            f"{r['fragment']}{' ' * max(1, width)}{r['oracle']:>7}{r['hits']:>8}{r['found']:>8}"
            f"{'ok' if r['quoted_exact'] else 'BAD':>8}{r['ms']:>6}{flag}"
        )
    print(
        f"\n{f['fragments']} fragments: recall {f['recall']:.4f} over all holders, mean "
        f"{f['mean_recall']:.4f} per fragment, {f['fragments_fully_found']} fully found, quoted "
        f"exact {f['quoted_exact']}/{f['fragments']}, median {f['median_ms']} ms, max {f['max_ms']} ms"
    )
    print("\nKnown items: rank of the target in the top 10 (- = not found)")
    print(f"{'ours':>5}{'naive':>6}  kind   query")
    for r in result["known_items"]:
        print(f"{r['ours'] or '-':>5}{r['naive'] or '-':>6}  {r['kind']:<6} {r['q']}")
    print(f"\n{'engine':<8}{'MRR@10':>8}{'S@1':>7}{'S@3':>7}{'found':>8}")
    for name, m in result["ranking"].items():
        print("{:<8}{:>8.3f}{:>7.3f}{:>7.3f}{:>5}/{}".format(name, *m.values()))
    print("\nHighlights")
    for h in result["highlights"]:
        print(f"  {'ok ' if h['ok'] else 'BAD'} {h['q']!r} marked {h['marked']} in {h['text']!r}")
    print(f"\nTargets met: {result['targets_met']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser("python -m benchmarks.quality", description=__doc__)
    ap.formatter_class = argparse.RawDescriptionHelpFormatter
    ap.add_argument("--corpus-root", type=Path, default=HERE.parent.parent / "shared" / "corpus")
    ap.add_argument("--sample", type=int, default=SAMPLE, help="documents (2:1 hn:hk); 0: all")
    ap.add_argument("--out", type=Path, default=HERE / "reports" / "quality.json")
    ap.add_argument("--select-words", action="store_true", help="rewrite quality_words.json")
    args = ap.parse_args(argv)
    jieba.setLogLevel(logging.WARNING)
    root = args.corpus_root.resolve()
    if args.select_words:
        must = [i["target"] for i in _load(ITEMS_FILE)["items"]]
        chosen = select_words(root, args.sample, must)
        WORDS_FILE.write_text(json.dumps(chosen, ensure_ascii=False, indent=1) + "\n", "utf-8")
        print(f"{len(chosen['words'])} words written to {WORDS_FILE}")
        return 0
    run(root, args.sample, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
