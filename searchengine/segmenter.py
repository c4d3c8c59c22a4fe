"""Han word segmentation with jieba (rjieba when installed) and the user dictionary.

One segmenter per process; ``use_user_dict`` loads a site's dictionary once, and its
hash tells an index whether it was built with the dictionary in use now.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import os
import threading
from collections.abc import Callable

from searchengine.folding import fold


class _Segmenter:
    """Cut Han text into words with rjieba when present, else jieba.

    The dictionary (about 35 MB) loads at the first cut, so a process that never
    segments (the server's master, a status check) never holds it.
    """

    def __init__(self) -> None:
        self.user_dict: str | None = None
        self._lock = threading.Lock()
        self._cut: Callable[[str], list[str]] | None = None
        self._add_word: Callable[[str, int | None], None] | None = None

    @property
    def engine(self) -> str:
        """Which segmenter this process uses, without loading its dictionary."""
        return "rjieba" if importlib.util.find_spec("rjieba") else "jieba"

    def _load(self) -> None:
        with self._lock:
            if self._cut is not None:
                return
            try:
                import rjieba

                self._add_word = lambda w, f: rjieba.add_word(w, f, None)
                self._cut = functools.partial(rjieba.cut, hmm=True)
            except ImportError:  # pragma: no cover - exercised where rjieba is absent
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                self._add_word = lambda w, f: jieba.add_word(w, f)
                self._cut = lambda text: list(jieba.cut(text, HMM=True))

    def cut(self, text: str) -> list[str]:
        if self._cut is None:
            self._load()
        return self._cut(text)

    def load_user_dict(self, path: str | os.PathLike) -> int:
        """Add the words of a jieba-format dictionary: ``word [freq] [tag]`` lines."""
        self._load()
        count = 0
        with open(path, encoding="utf-8-sig") as f:
            for line in f:
                parts = line.strip().split()
                if not parts or parts[0].startswith("#"):
                    continue
                word = fold(parts[0])
                freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                self._add_word(word, freq)
                count += 1
        self.user_dict = str(path)
        return count


SEGMENTER = _Segmenter()


def use_user_dict(path: str | os.PathLike | None) -> str | None:
    """Load a user dictionary once per process; return its content hash."""
    if not path:
        return None
    digest = user_dict_hash(path)
    if SEGMENTER.user_dict != str(path):
        SEGMENTER.load_user_dict(path)
    return digest


def user_dict_hash(path: str | os.PathLike | None) -> str | None:
    """Hash the dictionary so an index can tell when it was built with another."""
    if not path or not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]
