"""The character index: which documents hold each CJK character and character pair.

Chinese is found as typed: any run of Han (or kana, Hangul) characters, cut
anywhere, must find every document that contains it, whatever jieba made of
either side. Word terms cannot promise that, so beside Whoosh's word fields
every index segment gets a character index of its own, written as flat arrays
next to the segment's files and memory-mapped by readers:

- for each character and each pair of adjacent characters (a *key*), the
  sorted local numbers of the documents holding it (no positions, no counts:
  a posting is four bytes, written by numpy instead of Whoosh's per-posting
  Python writer);
- each document's folded CJK text (its runs, the title's first), so that a
  run of three or more characters is verified as a substring of the
  candidates its pairs leave.

A run of one or two characters is answered exactly by one key; a longer run
intersects its pairs, then keeps the candidates whose text contains it.
Segments are immutable in Whoosh, so a segment's character index is written
once: by the rebuild worker that wrote the segment, or, for segments that an
update writes or merges, from the segment's stored fields.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import secrets
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from cachetools import LRUCache

from searchengine.folding import CJK_RUN_RE, fold, fold_chars
from searchengine.settings import setting

FOLDER = "chars"
RUN_SEP = "\x1f"  # between runs: a query run never spans two of them
TITLE_END = "\x1e"  # the title's runs come first, then every run of the document
_PAIR_BASE = 0x110000  # keys below it are characters, above it pairs
_CACHE_BYTES = setting("run_cache_bytes")


def char_text(
    title: str, description: str, tags: Iterable[str], visible: str, extra: str = ""
) -> str:
    """The folded CJK runs of a document as the character index stores them.

    ``extra`` holds what a reader sees elsewhere (author, category, labels).
    """
    everything = "\n".join([title, description, " ".join(tags), visible, extra])
    title_runs = _runs(title)
    return RUN_SEP.join(title_runs) + TITLE_END + RUN_SEP.join(_runs(everything))


def _runs(text: str) -> list[str]:
    """CJK runs of the folded text, plus runs that fold otherwise character by character."""
    if not text:
        return []
    folded = fold(text)
    runs = CJK_RUN_RE.findall(folded)
    if runs:
        by_char = fold_chars(text)
        if by_char != folded:  # OpenCC folded a phrase (瞭解 -> 了解): keep 瞭 findable too
            runs += [
                m.group()
                for m in CJK_RUN_RE.finditer(by_char)
                if folded[m.start() : m.end()] != m.group()
            ]
    return runs


def run_keys(run: str) -> list[int]:
    """The keys whose documents must all be intersected to find ``run``."""
    if len(run) == 1:
        return [ord(run)]
    return list(dict.fromkeys(_pair(run[i], run[i + 1]) for i in range(len(run) - 1)))


def _pair(a: str, b: str) -> int:
    return ord(a) * _PAIR_BASE + ord(b) + _PAIR_BASE


def _doc_keys(text: str) -> np.ndarray:
    """The distinct character and pair keys of one document's stored text."""
    if not text:
        return np.empty(0, np.int64)
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    sep = (cps == ord(RUN_SEP)) | (cps == ord(TITLE_END))
    chars = cps[~sep]
    ok = ~(sep[:-1] | sep[1:])
    pairs = cps[:-1][ok] * _PAIR_BASE + cps[1:][ok] + _PAIR_BASE
    return np.unique(np.concatenate([chars, pairs]))


# --- Writing -----------------------------------------------------------------------


class CharIndexWriter:
    """Collect documents in local document order, then write one segment's arrays."""

    def __init__(self) -> None:
        self._keys: list[np.ndarray] = []
        self._texts: list[bytes] = []

    def add(self, text: str) -> None:
        """Add the next document of the segment (local numbers count from 0)."""
        self._keys.append(_doc_keys(text))
        self._texts.append(text.encode("utf-8"))

    def __len__(self) -> int:
        return len(self._texts)

    def _sorted_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._keys:
            return np.empty(0, np.int64), np.empty(0, np.uint32)
        keys, self._keys = self._keys, []  # freed as they are packed
        return _pack_sort(keys)

    def write(self, gen: str | os.PathLike, segment_id: str) -> None:
        """Write the arrays of a finished segment into the generation's ``chars`` folder."""
        folder = Path(gen) / FOLDER
        folder.mkdir(exist_ok=True)
        keys, docs = self._sorted_pairs()
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else []
        unique = keys[starts] if len(keys) else keys
        offsets = np.append(np.asarray(starts, np.uint32), len(keys)).astype(np.uint32)
        sizes = np.fromiter((len(t) for t in self._texts), np.int64, len(self._texts))
        text_offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        base = folder / segment_id
        _save(f"{base}.keys.npy", unique.astype(np.int64))
        _save(f"{base}.offsets.npy", offsets)
        small = len(self._keys) <= 1 << 16  # a rebuild's segments are: half the bytes
        _save(f"{base}.docs.npy", docs.astype(np.uint16 if small else np.uint32))
        _save(f"{base}.toffsets.npy", text_offsets)
        tmp = f"{base}.text.{os.getpid()}.{secrets.token_hex(3)}.tmp"
        with open(tmp, "wb") as f:
            for t in self._texts:
                f.write(t)
        os.replace(tmp, f"{base}.text")


def _pack_sort(keys: list) -> tuple[np.ndarray, np.ndarray]:
    """Every (key, local document) pair, sorted by key then document, in little memory.

    Key and document number are packed into one int64 and sorted in place: no argsort
    array and no permuted copies, which halves a rebuild worker's peak at the end.
    """
    bits = max(1, len(keys).bit_length())
    top = max((int(k[-1]) for k in keys if len(k)), default=0)  # each doc's keys are sorted
    if top.bit_length() + bits > 62:  # too wide to pack: sort the slow way
        counts = np.fromiter((len(k) for k in keys), np.int64, len(keys))
        flat = np.concatenate(keys)
        docs = np.repeat(np.arange(len(keys), dtype=np.uint32), counts)
        order = np.argsort(flat, kind="stable")  # documents stay ascending within a key
        return flat[order], docs[order]
    packed = np.empty(sum(len(k) for k in keys), np.int64)
    at = 0
    for doc in range(len(keys)):
        k, keys[doc] = keys[doc], None  # each document's array is freed once packed
        packed[at : at + len(k)] = (k << bits) | doc
        at += len(k)
    packed.sort()
    docs = (packed & ((1 << bits) - 1)).astype(np.uint32)
    packed >>= bits
    return packed, docs


def _save(path: str, array: np.ndarray) -> None:
    tmp = f"{path}.{os.getpid()}.{secrets.token_hex(3)}.tmp.npy"  # a reader may write it too
    np.save(tmp, array)
    os.replace(tmp, path)


def segment_files(gen: str | os.PathLike, segment_id: str) -> list[Path]:
    """The files of one segment's character index."""
    base = Path(gen) / FOLDER / segment_id
    return [
        Path(f"{base}.{ext}")
        for ext in ("keys.npy", "offsets.npy", "docs.npy", "toffsets.npy", "text")
    ]


def has_segment(gen: str | os.PathLike, segment_id: str) -> bool:
    """Tell whether a segment's character index is on disk."""
    return all(p.exists() for p in segment_files(gen, segment_id))


def remove_unlisted(gen: str | os.PathLike, segment_ids: Iterable[str]) -> None:
    """Delete the character indexes of segments an update merged away."""
    keep = set(segment_ids)
    folder = Path(gen) / FOLDER
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.name.split(".", 1)[0] not in keep:
            with contextlib.suppress(OSError):
                path.unlink()


# --- Reading -----------------------------------------------------------------------


class _Segment:
    """One segment's character index, memory-mapped."""

    def __init__(self, gen: Path, segment_id: str, offset: int) -> None:
        base = gen / FOLDER / segment_id
        self.offset = offset
        self.keys = np.load(f"{base}.keys.npy", mmap_mode="r")
        self.offsets = np.load(f"{base}.offsets.npy", mmap_mode="r")
        self.docs = np.load(f"{base}.docs.npy", mmap_mode="r")
        self.toffsets = np.load(f"{base}.toffsets.npy", mmap_mode="r")
        with open(f"{base}.text", "rb") as f:
            size = os.fstat(f.fileno()).st_size
            self.text = mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ) if size else b""

    def maps(self) -> list[mmap.mmap]:
        arrays = (self.keys, self.offsets, self.docs, self.toffsets)
        found = [a._mmap for a in arrays if getattr(a, "_mmap", None) is not None]
        return found + ([self.text] if isinstance(self.text, mmap.mmap) else [])

    def postings(self, key: int) -> np.ndarray:
        i = int(np.searchsorted(self.keys, key))
        if i >= len(self.keys) or self.keys[i] != key:
            return np.empty(0, np.int64)
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.docs[lo:hi].astype(np.int64) + self.offset

    def doc_text(self, local: int) -> str:
        return self.text[self.toffsets[local] : self.toffsets[local + 1]].decode("utf-8")


class CharIndex:
    """The character indexes of every segment of one reader, in global document numbers."""

    def __init__(
        self, gen: Path, segments: list[tuple[str, int]], size: int, lock: threading.RLock
    ) -> None:
        self.size = size
        self.lock = lock  # guards the cache; the arrays are read-only
        self._segments = [_Segment(gen, sid, off) for sid, off in segments]
        self._starts = np.array([s.offset for s in self._segments], np.int64)
        self._cache: LRUCache[tuple[str, bool], np.ndarray] = LRUCache(
            _CACHE_BYTES, getsizeof=lambda docs: docs.nbytes + 256
        )

    def maps(self) -> list[mmap.mmap]:
        """The memory maps behind this index (see ``mapped.release``)."""
        return [m for s in self._segments for m in s.maps()]

    def key_docs(self, key: int) -> np.ndarray:
        """Global numbers of the documents holding one key, ascending."""
        parts = [s.postings(key) for s in self._segments]
        parts = [p for p in parts if len(p)]
        if not parts:
            return np.empty(0, np.int64)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def text(self, docnum: int) -> str:
        """The stored folded CJK text of a document."""
        i = int(np.searchsorted(self._starts, docnum, side="right")) - 1
        seg = self._segments[i]
        return seg.doc_text(docnum - seg.offset)

    def containing(self, run: str, title: bool = False) -> np.ndarray:
        """Every document whose folded text (or title) holds ``run`` contiguously."""
        cache_key = (run, title)
        with self.lock:
            hit = self._cache.get(cache_key)
            if hit is not None:
                return hit
        docs = self._candidates(run)
        if len(docs) and (len(run) > 2 or title):
            docs = self._verify(docs, run, title)
        with self.lock, contextlib.suppress(ValueError):  # larger than the cache: not kept
            self._cache[cache_key] = docs
        return docs

    def _candidates(self, run: str) -> np.ndarray:
        lists = sorted((self.key_docs(k) for k in run_keys(run)), key=len)
        docs = lists[0]
        for other in lists[1:]:
            if not len(docs):
                break
            docs = np.intersect1d(docs, other, assume_unique=True)
        return docs

    def _verify(self, docs: np.ndarray, run: str, title: bool) -> np.ndarray:
        keep = np.zeros(len(docs), bool)
        text = self.text
        for i, d in enumerate(docs.tolist()):
            t = text(d)
            if title:
                t = t[: t.find(TITLE_END)]
            keep[i] = run in t
        return docs[keep]


def open_char_index(
    gen: Path, reader, build_missing: bool = True, lock: threading.RLock | None = None
) -> CharIndex:
    """Open the character index of every segment of a Whoosh reader.

    A segment without one (an index written by an older update, or a file lost
    in a race with a merge) gets one built from its stored fields.
    """
    segments = []
    for sub, offset in _leaves(reader):
        sid = sub.segment().segment_id()
        if not has_segment(gen, sid) and build_missing:
            build_from_stored(gen, sub, sid)
        segments.append((sid, offset))
    return CharIndex(gen, segments, reader.doc_count_all(), lock or threading.RLock())


def _leaves(reader) -> list[tuple[object, int]]:
    return list(reader.leaf_readers())


def build_from_stored(gen: Path, segment_reader, segment_id: str) -> None:
    """Write a segment's character index from the documents stored in it."""
    from searchengine.schema import char_text_of_stored  # the schema knows the stored fields

    writer = CharIndexWriter()
    for docnum in range(segment_reader.doc_count_all()):
        if segment_reader.is_deleted(docnum):
            writer.add("")
            continue
        writer.add(char_text_of_stored(segment_reader.stored_fields(docnum)))
    writer.write(gen, segment_id)


def missing_segments(gen: Path, ix) -> None:
    """After an update's commit: index new or merged segments, drop merged-away ones."""
    with ix.reader() as reader:
        ids = []
        for sub, _ in _leaves(reader):
            sid = sub.segment().segment_id()
            ids.append(sid)
            if not has_segment(gen, sid):
                build_from_stored(gen, sub, sid)
    remove_unlisted(gen, ids)
