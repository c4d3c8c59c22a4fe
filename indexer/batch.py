"""Add parsed files to a Whoosh writer, noting what a batch indexed, skipped and fell back on."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from indexer.parsing import Skipped, parse_file
from searchengine.chars import CharIndexWriter
from searchengine.schema import char_text_of_fields, document_fields


@dataclass
class Batch:
    """What one writer did: its segment (None if empty), skips, notes, manifest rows."""

    segment: object = None
    seconds: float = 0.0  # the worker's whole time
    char_seconds: float = 0.0  # of which on the character index
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)


def write_documents(
    writer,
    paths: list[Path],
    root: Path,
    batch: Batch,
    chars: CharIndexWriter | None = None,
    on_file: Callable[[], None] | None = None,
) -> None:
    """Parse, analyze and add each file; a file that fails is skipped with its reason.

    With ``chars``, each added document's CJK text goes to the segment's character index;
    ``on_file`` is called after each file, done or skipped.
    """
    for path in paths:
        doc = parse_file(path, root)
        if isinstance(doc, Skipped):
            batch.skipped.append((doc.path, doc.reason))
        else:
            try:
                values = document_fields(doc)
            except Exception as exc:  # one odd document must not lose the others
                batch.skipped.append((doc.path, f"could not be analyzed ({type(exc).__name__})"))
            else:
                writer.add_document(**values)
                if chars is not None:
                    started = time.perf_counter()
                    chars.add(char_text_of_fields(values, doc.body))
                    batch.char_seconds += time.perf_counter() - started
                batch.manifest[doc.id] = [doc.path, doc.mtime, doc.size]
                batch.notes.extend((doc.path, n) for n in doc.notes)
        if on_file is not None:
            on_file()
