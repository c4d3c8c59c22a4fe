"""Read an index generation through memory maps: a read is a slice, not a seek and a call.

Whoosh's FileStorage reads every term-table entry and posting block with a seek and a
read on a buffered file; a search makes hundreds. Mapped, they are memory copies, and
the pages are shared by every server process. A generation is never written once
published, so the maps stay valid (even past a merge that deletes the files).
"""

from __future__ import annotations

import mmap
import os

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile


def release(maps: list[mmap.mmap]) -> None:
    """Drop the pages of read-only maps from this process (they stay in the page cache).

    A later read faults them back in from memory, for a fraction of a microsecond a page;
    meanwhile the process's resident size holds only what recent searches touched.
    """
    for m in maps:
        try:
            m.madvise(mmap.MADV_DONTNEED)
        except (ValueError, OSError):  # closed with its segment, or not supported here
            pass


class MappedFile(StructFile):
    """A StructFile over a read-only memory map."""

    def __init__(self, path: str, name: str | None = None, onclose=None) -> None:
        with open(path, "rb") as f:
            super().__init__(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), name, onclose)

    def get(self, position: int, length: int) -> bytes:
        return self.file[position : position + length]


class MappedStorage(FileStorage):
    """A read-only FileStorage whose files are memory-mapped (empty ones read as usual)."""

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__(str(path), readonly=True)
        self.maps: list[mmap.mmap] = []  # every map opened, for ``release``

    def open_file(self, name: str, **kwargs) -> StructFile:
        path = self._fpath(name)
        if os.path.getsize(path) == 0:
            return super().open_file(name, **kwargs)
        mapped = MappedFile(path, name=name, **kwargs)
        self.maps[:] = [m for m in self.maps if not m.closed] + [mapped.file]  # one list, shared
        return mapped
