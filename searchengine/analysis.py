"""Bilingual analysis: the one chain used when indexing and when querying.

The word analyzer folds the text (NFKC, Traditional to Simplified, lower case),
splits it into runs of Han text, Latin words and numbers, segments Han runs
into words with jieba (rjieba, jieba's algorithm in Rust, when installed), then
drops English stop words and stems English words::

    >>> [t.text for t in word_analyzer()("美聯儲降息 Rates cutting ＡＩ 7%")]
    ['美联储', '降息', 'rate', 'cut', 'ai', '7%']

Positions count words, not characters, so phrase queries work; character
offsets (``chars=True``) point into the original, unfolded text.

Jieba's choice of words depends on the surrounding text, so a word can hide
inside a longer one (简单 inside 安装简单): ``chars.py`` finds such runs as
written, beside these word terms.

Whoosh pickles these objects into the index: keep this module's path and class
names stable and bump ``schema.SCHEMA_VERSION`` when their output changes.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from whoosh.analysis import STOP_WORDS, Composable, Token, Tokenizer
from whoosh.lang.porter2 import stem

from searchengine.folding import CJK, HAN_RE, fold, fold_with_map, source_end
from searchengine.segmenter import SEGMENTER

_TOKEN_RE = re.compile(
    rf"(?P<cjk>[{CJK}]+)"
    rf"|(?P<num>\d+(?:[.,]\d+)*%?)"
    rf"|(?P<word>[^\W\d_{CJK}](?:[^\W_{CJK}]|[&'’](?=[^\W\d_{CJK}]))*)"
)
_SPELL_RE = re.compile(r"[a-z]{3,}")


# --- Tokenizers ---------------------------------------------------------------


class BilingualTokenizer(Tokenizer):
    """Split folded text into Han words (via jieba), Latin words and numbers.

    >>> [t.text for t in BilingualTokenizer()("S&P 500 漲了 3.5%")]
    ['s&p', '500', '涨', '了', '3.5%']
    """

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        cjk=True,
        folded=None,
        **kwargs,
    ):
        # Highlighting passes cjk=False (it finds CJK as substrings) and ``folded``, the
        # (text, offsets) of fold_with_map(value) it has already computed.
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if folded is not None:
            text, offsets = folded
        elif chars:
            text, offsets = fold_with_map(value)
        else:
            text, offsets = fold(value), None
        plurals = _acronym_plurals(value)
        pos = start_pos
        for m in _TOKEN_RE.finditer(text):
            kind = m.lastgroup
            if kind == "cjk" and not cjk:
                continue
            if kind == "cjk" and HAN_RE.match(m.group()):
                pieces = _han_words(m.group(), m.start())
            elif kind == "num":
                pieces = [(m.group().replace(",", ""), m.start(), m.end())]
            else:
                word = m.group().replace("’", "'")
                end = m.end()
                if word.endswith("'s") and len(word) > 2:  # China's -> china
                    word, end = word[:-2], end - 2
                elif word in plurals:  # GPUs -> gpu: the stemmer leaves "gpus" alone
                    word = word[:-1]
                pieces = [(word, m.start(), end)]
            for word, s, e in pieces:
                t.text = word
                t.boost = 1.0
                t.stopped = False
                if keeporiginal:
                    t.original = word
                if positions:
                    t.pos = pos
                if chars:
                    t.startchar = start_char + offsets[s]
                    t.endchar = start_char + source_end(offsets, e - 1, len(value))
                pos += 1
                yield t


_ACRONYM_PLURAL = re.compile(r"(?<![A-Za-z0-9])([A-Z][A-Z0-9]*[A-Z])s(?![A-Za-z0-9])")


_FULL_WIDTH_CAPS = re.compile("[\uff21-\uff3a]")


def _acronym_plurals(value: str) -> frozenset[str]:
    """Folded plurals of capitalised acronyms in the text (GPUs, LLMs, APIs).

    >>> sorted(_acronym_plurals("GPUs and LLMs, not Bus"))
    ['gpus', 'llms']
    """
    if "s" not in value:
        return frozenset()
    if _FULL_WIDTH_CAPS.search(value):  # ＧＰＵs too; most text needs no normalising
        value = unicodedata.normalize("NFKC", value)
    return frozenset(m.group(1).lower() + "s" for m in _ACRONYM_PLURAL.finditer(value))


def _han_words(run: str, base: int) -> list[tuple[str, int, int]]:
    """Segment a run of CJK text; non-Han characters in it stay as one token."""
    out = []
    for chunk in re.finditer(f"[{CJK}]+", run):
        s0 = base + chunk.start()
        if not HAN_RE.match(chunk.group()):
            out.append((chunk.group(), s0, s0 + len(chunk.group())))
            continue
        offset = s0
        for word in SEGMENTER.cut(chunk.group()):
            out.append((word, offset, offset + len(word)))
            offset += len(word)
    return out


class KeyTokenizer(Tokenizer):
    """Turn each value of a list (tags, authors) into one folded, exact term.

    >>> [t.text for t in KeyTokenizer()(["AI ", "立法會"])]
    ['ai', '立法会']
    """

    def __call__(self, value, positions=False, chars=False, start_pos=0, mode="", **kw):
        t = Token(positions, chars, mode=mode, **kw)
        values = [value] if isinstance(value, str) else value
        for i, v in enumerate(values):
            key = facet_key(v)
            if key:
                t.text = key
                t.boost = 1.0
                t.stopped = False
                if positions:
                    t.pos = start_pos + i
                yield t


class SpellTokenizer(Tokenizer):
    """Yield unstemmed English words of three letters or more, for spelling suggestions."""

    def __call__(self, value, positions=False, chars=False, start_pos=0, mode="", **kw):
        t = Token(positions, chars, mode=mode, **kw)
        for i, m in enumerate(_SPELL_RE.finditer(fold(value))):
            t.text = m.group()
            t.boost = 1.0
            t.stopped = False
            if positions:
                t.pos = start_pos + i
            yield t


def facet_key(value: str) -> str:
    """Fold a tag or author so that AI, ai and ＡＩ, 立法會 and 立法会 are one facet."""
    return " ".join(fold(str(value)).split())


# --- Filters -------------------------------------------------------------------


class EnglishStopFilter(Composable):
    """Drop English stop words and renumber positions so phrases stay contiguous.

    >>> [(t.text, t.pos) for t in EnglishStopFilter()(BilingualTokenizer()("the rate of 降息", positions=True))]
    [('rate', 0), ('降息', 1)]
    """

    def __eq__(self, other):
        return type(other) is type(self)

    def __call__(self, tokens):
        pos = None
        for t in tokens:
            if t.positions and pos is None:
                pos = t.pos  # renumber from where the stream started
            if t.text in STOP_WORDS:
                if not t.removestops:
                    t.stopped = True
                    yield t
                continue
            if t.positions:
                t.pos = pos
                pos += 1
            yield t


class LatinStemFilter(Composable):
    """Stem English words (Snowball English); leave Han, Hangul, numbers and symbols alone.

    >>> [t.text for t in LatinStemFilter()(BilingualTokenizer()("rates cutting 降息"))]
    ['rate', 'cut', '降息']
    """

    def __eq__(self, other):
        return type(other) is type(self)

    def __call__(self, tokens):
        for t in tokens:
            text = t.text
            if text.isascii() and text.isalpha() and not t.stopped:
                t.text = _stem(text)
            yield t


@functools.lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    return stem(word)


# --- Analyzers -----------------------------------------------------------------


def word_analyzer():
    """Analyze prose in any mix of Chinese, English and other scripts into words."""
    return BilingualTokenizer() | EnglishStopFilter() | LatinStemFilter()


def key_analyzer():
    """Keep each tag or author whole and folded, for exact filters and facets."""
    return KeyTokenizer()


def spell_analyzer():
    """Collect plain English words as the vocabulary for spelling suggestions."""
    return SpellTokenizer()


def analyze(text: str) -> list[str]:
    """Return the terms the index stores for ``text`` (for tests and tools)."""
    return [t.text for t in _WORD(text)]


_WORD = word_analyzer()
