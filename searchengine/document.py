"""The document model that the indexer produces and the index stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
