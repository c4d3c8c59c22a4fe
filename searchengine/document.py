"""The document model that the indexer produces and the index stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Starts the note of a document whose body was cut to a bounded size, so that a page can
# say that only the first part is shown.
BODY_CAPPED_NOTE = "long document: only the first part is indexed and shown"


@dataclass
class Document:
    """One digest, read from one file, ready to be indexed."""

    id: str
    path: str
    title: str
    body: str
    date: datetime | None = None
    description: str = ""
    tags: list[str] = field(default_factory=list)
    author: str = ""
    category: str = ""
    url: str = ""
    extra: dict = field(default_factory=dict)
    mtime: float = 0.0
    size: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def capped(self) -> bool:
        """Tell whether only the first part of the file was indexed (see BODY_CAPPED_NOTE)."""
        return any(note.startswith(BODY_CAPPED_NOTE) for note in self.notes)
