"""Han word segmentation with jieba (rjieba when installed) and the user dictionary.

One segmenter per process; ``use_user_dict`` loads a site's dictionary once, and its
hash tells an index whether it was built with the dictionary in use now.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os

from searchengine.folding import fold


class _Segmenter:
    """Cut Han text into words with rjieba when present, else jieba."""

    def __init__(self) -> None:
        self.user_dict: str | None = None
        try:
            import rjieba

            self._cut = functools.partial(rjieba.cut, hmm=True)
            self._add_word = lambda w, f: rjieba.add_word(w, f, None)
            self.engine = "rjieba"
        except ImportError:  # pragma: no cover - exercised where rjieba is absent
            import jieba

            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            self._cut = lambda text: list(jieba.cut(text, HMM=True))
            self._add_word = lambda w, f: jieba.add_word(w, f)
            self.engine = "jieba"

    def cut(self, text: str) -> list[str]:
        return self._cut(text)

    def load_user_dict(self, path: str | os.PathLike) -> int:
        """Add the words of a jieba-format dictionary: ``word [freq] [tag]`` lines."""
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
