"""Is the user dictionary an index was built with still the one a rebuild would use?"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from searchengine.config import USER_DICT_NAME
from searchengine.segmenter import user_dict_hash

if TYPE_CHECKING:
    from searchengine.store import IndexMeta


def dictionary_change(meta: IndexMeta) -> str | None:
    """Say why a rebuild is due for the user dictionary, or None when it is current.

    The one place that answers this, for `indexer status` and `/healthz`: a dictionary
    edited or removed since the build, or a `userdict.txt` that appeared at the corpus
    root of an index built without one, changes how words are cut.
    """
    if meta.user_dict:
        current = user_dict_hash(meta.user_dict)
        if current is None:
            return f"the user dictionary {meta.user_dict} is gone since this index was built"
        if current != meta.user_dict_hash:
            return f"the user dictionary {meta.user_dict} changed since this index was built"
        return None
    if meta.corpus:
        added = Path(meta.corpus) / USER_DICT_NAME
        if added.is_file():
            return f"{added} was added after this index was built without a user dictionary"
    return None
