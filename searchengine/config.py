"""Settings in one place: flags override the environment, which overrides defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_CORPUS = "DIGEST_CORPUS"
ENV_INDEX = "DIGEST_INDEX"
ENV_USER_DICT = "DIGEST_USER_DICT"

# The sample corpus ships inside the indexer package; found by path so that the
# library does not import the indexer.
SAMPLE_CORPUS = Path(__file__).resolve().parent.parent / "indexer" / "sample_corpus"
DEFAULT_INDEX = Path("index_data")
USER_DICT_NAME = "userdict.txt"


@dataclass(frozen=True)
class Settings:
    """Where the corpus, the index and the user dictionary live."""

    corpus: Path = SAMPLE_CORPUS
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
        corpus_path = Path(corpus or os.environ.get(ENV_CORPUS) or SAMPLE_CORPUS)
        index_path = Path(index or os.environ.get(ENV_INDEX) or DEFAULT_INDEX)
        ud = user_dict or os.environ.get(ENV_USER_DICT)
        if not ud and (corpus_path / USER_DICT_NAME).is_file():
            ud = corpus_path / USER_DICT_NAME
        return cls(corpus_path, index_path, Path(ud) if ud else None)
