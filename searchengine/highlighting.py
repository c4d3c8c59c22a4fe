"""Highlighted titles and snippets: escaped HTML with <mark> around matched words.

Matching works on folded text (width, Traditional/Simplified and case folded)
with a map back to the original characters, so marks land on the text as the
document wrote it. Han terms are found as substrings, which needs no word
segmentation at query time and marks the whole matched word.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence

from searchengine.analysis import word_analyzer
from searchengine.folding import fold_both_with_map, source_end
from searchengine.query import HighlightTerms
from searchengine.settings import setting

SNIPPET_CHARS = setting("snippet_chars")
HEAD_CHARS = setting("highlight_head_chars")
SCAN_CHARS = setting("highlight_scan_chars")
MAX_SPANS = setting("max_snippet_spans")
# The folded forms of texts shown lately: results recur across searches, and folding
# is most of a snippet's cost. A few MB per process.
_fold = functools.lru_cache(maxsize=setting("fold_cache"))(fold_both_with_map)
_WORDS = word_analyzer()  # the index's own analyzer: a word is marked as it was indexed
_SENTENCE_END = re.compile(r"[。！？；!?]|\.(?=\s|$)|\n")


def match_spans(text: str, terms: HighlightTerms) -> list[tuple[int, int]]:
    """Find the spans of ``text`` that match, merged so each run of matches is one span."""
    if not text or not terms:
        return []
    folded, by_char, offsets = _fold(text)  # once, for both searches
    spans = _cjk_spans(text, folded, by_char, offsets, terms) if terms.cjk else []
    if terms.words or terms.prefixes or terms.phrases:
        spans += _word_spans(text, folded, offsets, terms)
    spans.sort()
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and (s <= merged[-1][1] or not text[merged[-1][1] : s].strip()):
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def _cjk_spans(
    text: str, folded: str, by_char: str, offsets: Sequence[int], terms: HighlightTerms
) -> list[tuple[int, int]]:
    """Spans of ``text`` that hold a query's CJK string, compared folded."""
    texts = [folded] if by_char == folded else [folded, by_char]  # same length and offsets
    raw: list[tuple[int, int]] = []
    for needle in terms.cjk:
        for haystack in texts:
            start = haystack.find(needle)
            while start != -1:
                raw.append((start, start + len(needle)))
                start = haystack.find(needle, start + 1)
    return [(offsets[s], source_end(offsets, e - 1, len(text))) for s, e in raw]


def _word_spans(
    text: str, folded: str, offsets: Sequence[int], terms: HighlightTerms
) -> list[tuple[int, int]]:
    """Spans of ``text`` whose words, analyzed as the index analyzes them, are query words.

    A word is matched by its stem or as written (stop words are kept for phrases), and
    by any prefix of the query; Chinese is left to the substring search above. Only the
    words that begin like a query word are analyzed: a stem differs from its word in at
    most its last two letters.
    """
    found = []
    seen: list[tuple[tuple[str, str], int, int]] = []  # analyzed words in order, for phrases
    for start, end in _candidate_words(folded, _word_starts(terms)):
        a, b = offsets[start], source_end(offsets, end - 1, len(text))
        tokens = _WORDS(
            text[a:b], chars=True, keeporiginal=True, removestops=False, cjk=False, start_char=a
        )
        for t in tokens:
            forms = (t.text, t.original)
            seen.append((forms, t.startchar, t.endchar))
            if any(f in terms.words for f in forms) or any(
                f.startswith(p) for f in forms for p in terms.prefixes
            ):
                found.append((t.startchar, t.endchar))
    if terms.phrases:
        found += _phrase_spans(text, seen, terms.phrases)
    return found


def _phrase_spans(
    text: str, seen: list[tuple[tuple[str, str], int, int]], phrases: set[tuple[str, ...]]
) -> list[tuple[int, int]]:
    """Spans where a phrase's words stand side by side, nothing but spaces or marks between."""
    found = []
    for i in range(len(seen)):
        for phrase in phrases:
            run = seen[i : i + len(phrase)]
            if len(run) == len(phrase) and all(
                word in forms for word, (forms, _, _) in zip(phrase, run, strict=True)
            ):
                gaps = (text[run[k][2] : run[k + 1][1]] for k in range(len(run) - 1))
                if not any(_WORD_CHAR.search(gap) for gap in gaps):
                    found.append((run[0][1], run[-1][2]))
    return found


@functools.lru_cache(maxsize=1024)
def _starts_pattern(forms: frozenset[str]) -> re.Pattern:
    heads = sorted({f[: max(1, len(f) - 2)] for f in forms}, key=len, reverse=True)
    return re.compile("|".join(re.escape(h) for h in heads))


def _word_starts(terms: HighlightTerms) -> re.Pattern:
    phrase_words = {w for phrase in terms.phrases for w in phrase}
    return _starts_pattern(frozenset(terms.words) | frozenset(terms.prefixes) | phrase_words)


_WORD_CHAR = re.compile(r"[^\W_]|['’&](?=[^\W_])")


def _candidate_words(folded: str, starts: re.Pattern) -> list[tuple[int, int]]:
    """The (start, end) of each whole word of folded text that holds a query word's head."""
    words: list[tuple[int, int]] = []
    for m in starts.finditer(folded):
        if words and m.start() < words[-1][1]:
            continue  # inside the word just taken
        start = m.start()
        while start > 0 and _WORD_CHAR.match(folded, start - 1):
            start -= 1
        end = m.end()
        while end < len(folded) and _WORD_CHAR.match(folded, end):
            end += 1
        words.append((start, end))
    return words


def render(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    """Escape text[start:end] and wrap the spans inside it in <mark>."""
    end = len(text) if end is None else end
    out: list[str] = []
    pos = start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        out.append(html.escape(text[pos:s], quote=True))
        out.append("<mark>" + html.escape(text[s:e], quote=True) + "</mark>")
        pos = e
    out.append(html.escape(text[pos:end], quote=True))
    return "".join(out)


def highlight_title(title: str, terms: HighlightTerms) -> str:
    """Return the whole title, escaped, with its matches marked."""
    return render(title, match_spans(title, terms))


def _window(text: str, spans: list[tuple[int, int]], size: int) -> tuple[int, int]:
    if not spans:
        return 0, min(len(text), size)
    best, best_score = spans[0], -1
    for s, _ in spans:
        inside = [sp for sp in spans if s <= sp[0] and sp[1] <= s + size]
        score = sum(len(t) for t in {text[a:b].lower() for a, b in inside}) * 10 + len(inside)
        if score > best_score:
            best, best_score = (s, _), score
    anchor = best[0]
    # Start at the beginning of the sentence that holds the chosen passage, if near.
    lead = max(0, anchor - size // 3)
    boundaries = [m.end() for m in _SENTENCE_END.finditer(text, lead, anchor)]
    if boundaries:
        start = boundaries[-1]
    elif lead == 0:
        start = 0
    else:
        space = text.find(" ", lead, anchor)
        start = space + 1 if space != -1 and anchor - space < size // 3 else lead
    while start < anchor and text[start].isspace():
        start += 1
    end = min(len(text), start + size)
    if end < len(text):
        covered = [e for s, e in spans if start <= s and e <= end]
        floor = max([start + size // 2, *covered])
        ends = [m.end() for m in _SENTENCE_END.finditer(text, floor, end)]
        if ends:
            end = ends[-1]
        else:
            space = text.rfind(" ", floor, end)
            if space != -1:
                end = space
    end = max(end, best[1])
    return start, end


def snippet(text: str, terms: HighlightTerms, size: int = SNIPPET_CHARS) -> tuple[str, int]:
    """Cut the passage with the most distinct matches; return its HTML and match count.

    Matches are sought in the first HEAD_CHARS characters, and up to SCAN_CHARS
    only when the head has none.
    """
    spans = match_spans(text[:HEAD_CHARS], terms)
    if not spans and len(text) > HEAD_CHARS:
        spans = match_spans(text[:SCAN_CHARS], terms)
    start, end = _window(text, spans[:MAX_SPANS], size)
    body = render(text, spans, start, end).replace("\n", " ")
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    inside = sum(1 for s, e in spans if s < end and e > start)
    return f"{prefix}{body.strip()}{suffix}", inside


def snippets(zh: str, en: str, terms: HighlightTerms, prefer_zh: bool) -> tuple[str, str, str]:
    """Pick the part to show; return its language, its snippet and the other part's.

    The part in the query's language wins while it has a match (a synonym may match the
    other part more often); else the part with a match; else the query's, if it has text.
    """
    cut = {
        "zh": snippet(zh, terms) if zh else ("", 0),
        "en": snippet(en, terms) if en else ("", 0),
    }  # language -> (snippet HTML, matches in it)
    first, second = ("zh", "en") if prefer_zh else ("en", "zh")
    shows_first = cut[first][0] and (cut[first][1] or not cut[second][1])
    lang = first if shows_first else second
    other = "en" if lang == "zh" else "zh"
    return lang, cut[lang][0], cut[other][0]
