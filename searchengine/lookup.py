"""Fetch one stored document by id, for the document page and /api/doc."""

from __future__ import annotations

from dataclasses import dataclass, field

from searchengine.errors import DocumentNotFound
from searchengine.index import Index
from searchengine.related import RelatedDocument, related
from searchengine.results import DocumentFields
from searchengine.schema import body_parts

MAX_ID_CHARS = 1024


@dataclass(frozen=True)
class StoredDocument(DocumentFields):
    """A document as indexed: its fields, its Markdown and the documents related to it."""

    body: str = ""
    extra: dict = field(default_factory=dict)
    related: list[RelatedDocument] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            **self.fields_dict(),
            "category": self.category,
            "extra": self.extra,
            "body": self.body,
            "related": [r.to_dict() for r in self.related],
        }


def get_document(index: Index, doc_id: str, with_related: bool = True) -> StoredDocument:
    """Look a document up by its exact id in the index (never on the file system)."""
    if not doc_id or len(doc_id) > MAX_ID_CHARS or "\x00" in doc_id:
        raise DocumentNotFound(f"No document with id {doc_id[:80]!r}")
    try:
        return _get_document(index, doc_id, with_related)
    except (OSError, TypeError, KeyError, ValueError, EOFError):
        # A segment merged away under a snapshot opened just before: read the new one.
        if not index.reopen_if_stale():
            raise
        return _get_document(index, doc_id, with_related)


def _get_document(index: Index, doc_id: str, with_related: bool) -> StoredDocument:
    with index.view() as view:
        with view.lock:
            docnum = view.searcher.document_number(id=doc_id)
            stored = view.searcher.stored_fields(docnum) if docnum is not None else None
        if stored is None:
            raise DocumentNotFound(f"No document with id {doc_id[:80]!r}")
        fields = DocumentFields.read(stored)
        markdown, zh, en = body_parts(stored)
        title, description = fields["title"], fields["description"]
        others = related(view, docnum, title, description, (zh, en)) if with_related else []
    return StoredDocument(
        **fields, body=markdown, extra=dict(stored.get("extra") or {}), related=others
    )
