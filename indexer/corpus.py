"""Find the documents of a corpus folder: Markdown files, no hidden ones, no loops.

Nothing outside the corpus is walked. A symlinked folder that leads outside it is
yielded itself (not its contents) so that ``parse_file`` reports it as skipped, and so
is any symlinked file, whatever its target: ``parse_file`` decides whether it may be
read. A file reachable both directly and through a symlink inside the corpus is
yielded once, by its direct path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

SUFFIXES = (".md", ".markdown")


def inside(real: str, real_root: str) -> bool:
    """Tell whether a resolved path lies in the resolved corpus root."""
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _is_markdown(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(SUFFIXES)


def iter_files(root: Path) -> Iterator[Path]:
    """Yield every visible Markdown file below root once, never walking outside it."""
    root = Path(root)
    real_root = os.path.realpath(root)
    walked: set[tuple[int, int]] = set()
    found: list[tuple[Path, str]] = []  # (path, "plain" | "linked" | "outside")
    direct: set[tuple[int, int]] = set()
    linked_dirs: list[Path] = []

    def walk(top: Path, via_link: bool) -> None:
        stack = [top]
        while stack:
            folder = stack.pop()
            try:
                st = os.stat(folder)
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in walked:
                continue  # a symlink back into a folder we have walked
            walked.add((st.st_dev, st.st_ino))
            subdirs = []
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                path = Path(entry.path)
                try:
                    is_link = entry.is_symlink()
                    is_dir = entry.is_dir()  # follows symlinks
                except OSError:
                    is_link, is_dir = True, False
                if is_link and (is_dir or _is_markdown(entry.name)):
                    if not inside(os.path.realpath(path), real_root):
                        found.append((path, "outside"))  # reported by parse_file, never read
                    elif is_dir:
                        linked_dirs.append(path)  # walked last, if not walked by then
                    else:
                        found.append((path, "linked"))
                elif is_dir:
                    subdirs.append(path)
                elif _is_markdown(entry.name):
                    found.append((path, "linked" if via_link else "plain"))
                    if not via_link:
                        direct.add((st.st_dev, entry.inode()))
            stack.extend(reversed(subdirs))

    walk(root, via_link=False)
    while linked_dirs:
        walk(linked_dirs.pop(0), via_link=True)

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
