"""Find the documents of a corpus folder: Markdown files, no hidden ones, no loops."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

SUFFIXES = (".md", ".markdown")


def iter_files(root: Path) -> Iterator[Path]:
    """Yield every visible Markdown file below root, following each folder once."""
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        try:
            st = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:
            dirnames[:] = []  # a symlink back into a folder we have walked
            continue
        seen.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or not name.lower().endswith(SUFFIXES):
                continue
            yield Path(dirpath) / name


def relative(path: Path, root: Path) -> str:
    """The path below the corpus root, '/'-separated (string work: updates call it a lot)."""
    text, base = str(path), str(root).rstrip(os.sep) + os.sep
    if text.startswith(base):
        return text[len(base) :].replace(os.sep, "/")
    return path.relative_to(root).as_posix()


def doc_id(path: Path, root: Path) -> str:
    """Name a document by its path below the corpus root, without the extension."""
    rel = relative(path, root)
    for suffix in SUFFIXES:
        if rel.lower().endswith(suffix):
            return rel[: -len(suffix)]
    return rel
