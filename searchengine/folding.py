"""Character folding shared by indexing, querying and highlighting.

Folding makes equivalent spellings one term: NFKC turns full-width ``ＡＩ`` into
``AI``, OpenCC turns Traditional ``立法會`` into Simplified ``立法会``, and
lower-casing joins ``Rate`` and ``rate``. ``fold_with_map`` also returns, for
every folded character, the offset of the original character it came from, so
that highlights can mark the text exactly as the document wrote it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import opencc

# Scripts written without spaces between words. Han is segmented into words by
# jieba; all of them are also indexed as character n-grams for substring recall.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
KANA = "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
HANGUL = "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
SE_ASIAN = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"  # Thai, Lao, Myanmar, Khmer
CJK = HAN + KANA + HANGUL + SE_ASIAN

HAN_RE = re.compile(f"[{HAN}]")
CJK_RUN_RE = re.compile(f"[{CJK}]+")


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Convert Traditional to Simplified, keeping one character per character."""
    if not HAN_RE.search(text):
        return text
    converted = _t2s().convert(text)
    if len(converted) == len(text):
        return converted
    # OpenCC's phrase tables almost never change the length; when they do,
    # convert character by character so offsets stay aligned.
    return "".join(_convert_char(ch) for ch in text)


@functools.lru_cache(maxsize=65536)
def _convert_char(ch: str) -> str:
    out = _t2s().convert(ch)
    return out if len(out) == 1 else ch


def fold(text: str) -> str:
    """Fold width, compatibility forms, Traditional characters and case.

    İ lowers to i and a combining dot; folding writes a plain i, so case keeps length.
    """
    return to_simplified(unicodedata.normalize("NFKC", text)).replace("İ", "i").lower()


class _CharTable(dict):
    """A str.translate table filled on first use of each character."""

    def __init__(self, convert):
        super().__init__()
        self.convert = convert
        self.changing: list[int] = []  # characters seen whose form is not one character

    def __missing__(self, code: int) -> str:
        value = self[code] = self.convert(chr(code))
        if len(value) != 1:
            self.changing.append(code)
        return value


class _CodeMap:
    """A _CharTable as arrays over the Basic Multilingual Plane: a text maps in a few numpy
    calls instead of a dictionary lookup per character."""

    def __init__(self, table: _CharTable) -> None:
        self.table = table
        self.known = np.zeros(0x10000, bool)
        self.single = np.zeros(0x10000, np.uint32)  # the one character a code maps to
        self.other = np.zeros(0x10000, bool)  # maps to no character, or to several

    def translate(self, text: str) -> str:
        """``text.translate(table)``, fast when every character maps to one in the plane."""
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
        if len(codes) and codes.max() > 0xFFFF:
            return text.translate(self.table)
        fresh = codes[~self.known[codes]]
        for code in np.unique(fresh).tolist():
            value = self.table[code]
            self.known[code] = True
            if len(value) == 1 and ord(value) <= 0xFFFF:
                self.single[code] = ord(value)
            else:
                self.other[code] = True
        if self.other[codes].any():
            return text.translate(self.table)
        return self.single[codes].tobytes().decode("utf-32-le", "surrogatepass")


_NFKC_CHAR = _CharTable(lambda ch: unicodedata.normalize("NFKC", ch))
_T2S_CHAR = _CharTable(lambda ch: _convert_char(ch) if HAN_RE.match(ch) else ch)
_NFKC_CODES = _CodeMap(_NFKC_CHAR)
_T2S_CODES = _CodeMap(_T2S_CHAR)
_COMBINING = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u3099\u309a]"
)


def fold_chars(text: str) -> str:
    """Fold like ``fold`` but convert each Han character on its own, out of context.

    OpenCC converts by phrase: 瞭 stays 瞭 alone but 瞭解 becomes 了解, 覆 stays but
    回覆 becomes 回复. Indexing and querying this form too keeps every character
    findable. It has the same length as ``fold(text)``.
    """
    normal = unicodedata.normalize("NFKC", text)
    return _T2S_CODES.translate(normal).replace("İ", "i").lower()


def _expanded_offsets(text: str) -> list[int]:
    """Source offsets of ``text.translate(_NFKC_CHAR)`` when some characters change length."""
    offsets: list[int] = []
    done = 0
    for m in _changing_pattern(len(_NFKC_CHAR.changing)).finditer(text):
        i = m.start()
        offsets.extend(range(done, i))
        offsets.extend([i] * len(_NFKC_CHAR[ord(text[i])]))
        done = i + 1
    offsets.extend(range(done, len(text)))
    return offsets


@functools.lru_cache(maxsize=4)
def _changing_pattern(known: int) -> re.Pattern:
    """The characters seen so far whose NFKC form is not one character (``known`` of them)."""
    changing = "".join(chr(c) for c in _NFKC_CHAR.changing[:known])
    return re.compile(f"[{re.escape(changing)}]" if changing else "(?!)")


def _normalize_with_map(text: str) -> tuple[str, Sequence[int]]:
    if unicodedata.is_normalized("NFKC", text):
        return text, range(len(text))  # the identity map, without a list
    if not _COMBINING.search(text):
        normal = _NFKC_CODES.translate(text)
        if len(normal) == len(text):  # every character became one character
            return normal, range(len(text))
        if normal == unicodedata.normalize("NFKC", text):  # some expand (… → ...), none compose
            return normal, _expanded_offsets(text)
    parts: list[str] = []
    offsets: list[int] = []
    start = 0
    # Normalise each base character together with the combining marks after it,
    # so decomposed accents compose exactly as fold() composes them.
    for i in range(1, len(text) + 1):
        if i < len(text) and unicodedata.combining(text[i]):
            continue
        n = unicodedata.normalize("NFKC", text[start:i])
        parts.append(n)
        offsets.extend([start] * len(n))
        start = i
    return "".join(parts), offsets


def fold_with_map(text: str, by_char: bool = False) -> tuple[str, Sequence[int]]:
    """Fold ``text`` and map every folded character back to its source offset.

    With ``by_char``, Han characters are converted one by one (see ``fold_chars``).
    """
    normal, offsets = _normalize_with_map(text)
    converted = _T2S_CODES.translate(normal) if by_char else to_simplified(normal)
    return _lower(converted), offsets


def fold_both_with_map(text: str) -> tuple[str, str, Sequence[int]]:
    """Fold ``text`` both ways (by phrase, by character) with one offset map, normalising once."""
    normal, offsets = _normalize_with_map(text)
    folded = _lower(to_simplified(normal))
    by_char = _lower(_T2S_CODES.translate(normal)) if HAN_RE.search(normal) else folded
    return folded, by_char, offsets


def _lower(text: str) -> str:
    if "İ" in text:
        text = text.replace("İ", "i")
    lowered = text.lower()
    if len(lowered) != len(text):  # a handful of letters lower to two
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return lowered


def source_end(offsets: Sequence[int], last: int, text_len: int) -> int:
    """Where, in the original text, the character that folded to position ``last`` ends."""
    start = offsets[last]
    for k in range(last + 1, len(offsets)):
        if offsets[k] != start:
            return offsets[k]
    return text_len


def has_cjk(text: str) -> bool:
    """Tell whether text holds any character of a script written without spaces."""
    return CJK_RUN_RE.search(text) is not None
