"""Settings in one place: flags override the environment, which overrides defaults."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

ENV_CORPUS = "DIGEST_CORPUS"
ENV_INDEX = "DIGEST_INDEX"
ENV_USER_DICT = "DIGEST_USER_DICT"
ENV_MAX_FILE_SIZE = "DIGEST_MAX_FILE_SIZE"

# Larger files are skipped unread: a digest is a few KB, so 16 MB is an accident
# (a log, a dump) rather than a document.
DEFAULT_MAX_FILE_SIZE = 16 * 1024 * 1024
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*", re.I)

DEFAULT_INDEX = Path("index_data")
USER_DICT_NAME = "userdict.txt"


@dataclass(frozen=True)
class Settings:
    """Where the corpus, the index and the user dictionary live.

    The corpus has no default here: the indexer, which ships a sample corpus, supplies it.
    """

    corpus: Path | None = None
    index: Path = DEFAULT_INDEX
    user_dict: Path | None = None

    @classmethod
    def resolve(
        cls,
        corpus: str | os.PathLike | None = None,
        index: str | os.PathLike | None = None,
        user_dict: str | os.PathLike | None = None,
    ) -> Settings:
        """Apply flag > environment > default for each setting."""
        corpus_dir = corpus or os.environ.get(ENV_CORPUS)
        corpus_path = Path(corpus_dir) if corpus_dir else None
        index_path = Path(index or os.environ.get(ENV_INDEX) or DEFAULT_INDEX)
        dict_path = user_dict or os.environ.get(ENV_USER_DICT)
        if not dict_path and corpus_path and (corpus_path / USER_DICT_NAME).is_file():
            dict_path = corpus_path / USER_DICT_NAME
        return cls(corpus_path, index_path, Path(dict_path) if dict_path else None)


def parse_size(text: str | int) -> int:
    """Read a byte count written as `16MB`, `500KB`, `1.5 GiB` or plain bytes (K = 1024).

    >>> parse_size("16MB"), parse_size("500kb"), parse_size("1024")
    (16777216, 512000, 1024)
    """
    if isinstance(text, int):
        return text
    match = _SIZE.fullmatch(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (write e.g. 16MB, 500KB or a number of bytes)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def max_file_size() -> int:
    """The size above which a corpus file is skipped: $DIGEST_MAX_FILE_SIZE, else 16 MB."""
    raw = os.environ.get(ENV_MAX_FILE_SIZE)
    if raw:
        try:
            return parse_size(raw)
        except ValueError:
            pass  # the CLI reports a bad value; the library keeps the default
    return DEFAULT_MAX_FILE_SIZE
