"""Find the documents of a corpus folder: Markdown files, no hidden ones, no loops.

Nothing outside the corpus is walked. A symlinked folder that leads outside it is
yielded itself (not its contents) so that ``parse_file`` reports it as skipped, and so
is any symlinked file, whatever its target: ``parse_file`` decides whether it may be
read. A file reachable both directly and through a symlink inside the corpus is
yielded once, by its direct path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from indexer.report import Report

SUFFIXES = (".md", ".markdown")

FilePath = TypeVar("FilePath", str, Path)

# The corpus shipped with the project: what `indexer rebuild` indexes when told no other.
SAMPLE_CORPUS = Path(__file__).resolve().parent / "sample_corpus"


def inside(real: str, real_root: str) -> bool:
    """Tell whether a resolved path lies in the resolved corpus root."""
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def is_markdown(name: str) -> bool:
    """Tell whether a file name is a document's: visible and ending in .md or .markdown."""
    return not name.startswith(".") and name.lower().endswith(SUFFIXES)


def iter_files(root: Path) -> Iterator[Path]:
    """Yield every visible Markdown file below root once, never walking outside it."""
    return map(Path, file_paths(root))


def file_paths(root: Path) -> Iterator[str]:
    """The files of ``iter_files`` as strings, cheaper when most are only compared."""
    walk = _Walk(os.path.realpath(root))
    walk.tree(str(Path(root)), via_link=False)
    while walk.linked_dirs:
        walk.tree(walk.linked_dirs.pop(0), via_link=True)
    yield from _each_file_once(walk.found, walk.direct)


class _Walk:
    """What a walk has met: folders walked, files found, folders reached through symlinks."""

    def __init__(self, real_root: str) -> None:
        self.real_root = real_root
        self.walked: set[tuple[int, int]] = set()
        self.found: list[tuple[str, str]] = []  # (path, "plain" | "linked" | "outside")
        self.direct: set[tuple[int, int]] = set()  # files found by their direct path
        self.linked_dirs: list[str] = []

    def tree(self, top: str, via_link: bool) -> None:
        """Walk one folder tree depth-first in name order, entering each folder once."""
        stack = [top]
        while stack:
            folder = stack.pop()
            try:
                st = os.stat(folder)
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in self.walked:
                continue  # a symlink back into a folder we have walked
            self.walked.add((st.st_dev, st.st_ino))
            subdirs = [self._entry(entry, st.st_dev, via_link) for entry in entries]
            stack.extend(reversed([path for path in subdirs if path is not None]))

    def _entry(self, entry: os.DirEntry, dev: int, via_link: bool) -> str | None:
        """Note one folder entry; return it when it is a plain subfolder to walk."""
        if entry.name.startswith("."):
            return None
        path = entry.path
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir()  # follows symlinks
        except OSError:
            is_link, is_dir = True, False
        if is_link and (is_dir or is_markdown(entry.name)):
            if not inside(os.path.realpath(path), self.real_root):
                self.found.append((path, "outside"))  # reported by parse_file, never read
            elif is_dir:
                self.linked_dirs.append(path)  # walked last, if not walked by then
            else:
                self.found.append((path, "linked"))
        elif is_dir:
            return path
        elif is_markdown(entry.name):
            self.found.append((path, "linked" if via_link else "plain"))
            if not via_link:
                self.direct.add((dev, entry.inode()))
        return None


def _each_file_once(found: list[tuple[str, str]], direct: set[tuple[int, int]]) -> Iterator[str]:
    """Yield the files found, dropping a symlinked one already reached by another name."""
    yielded: set[tuple[int, int]] = set()
    for path, kind in found:
        if kind == "linked":
            try:
                st = os.stat(path)
            except OSError:
                yield path  # a broken symlink or a loop: parse_file says which
                continue
            key = (st.st_dev, st.st_ino)
            if key in direct or key in yielded:
                continue  # the same file by another name
            yielded.add(key)
        yield path


def relative(path: str | Path, root: Path) -> str:
    """The path below the corpus root, '/'-separated (string work: updates call it a lot)."""
    text, base = str(path), str(root).rstrip(os.sep) + os.sep
    if text.startswith(base):
        return text[len(base) :].replace(os.sep, "/")
    return Path(path).relative_to(root).as_posix()


def doc_id(path: str | Path, root: Path) -> str:
    """Name a document by its path below the corpus root, without the extension."""
    return id_of(relative(path, root))


def id_of(rel: str) -> str:
    """The document id of a '/'-separated path below the corpus root."""
    for suffix in SUFFIXES:
        if rel.lower().endswith(suffix):
            return rel[: -len(suffix)]
    return rel


def files_by_id(files: Iterable[FilePath], corpus: Path, report: Report) -> dict[str, FilePath]:
    """Name each file by its document id; of files sharing one (a.md, a.markdown), keep the
    first and report the others as skipped."""
    by_id: dict[str, FilePath] = {}
    for path in files:
        rel = relative(path, corpus)
        document_id = id_of(rel)
        if document_id in by_id:
            first = relative(by_id[document_id], corpus)
            report.skipped.append((rel, f"same id as {first}"))
            continue
        by_id[document_id] = path
    return by_id
