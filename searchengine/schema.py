"""The Whoosh schema: what is searchable, what is displayed, what is faceted."""

from __future__ import annotations

import json
import zlib
from typing import NamedTuple

from whoosh import columns, fields, formats
from whoosh.codec.whoosh3 import W3Codec, W3TermInfo
from whoosh.matching.mcore import ListMatcher

from searchengine import analysis, dates
from searchengine.chars import char_text
from searchengine.document import Document
from searchengine.facets import COLUMN, encode_record
from searchengine.related import story_data
from searchengine.settings import setting
from searchengine.text import hidden_labels, split_parts

# Bump when the analysis or the fields change: an index of another version is
# refused with a message asking for a rebuild instead of giving wrong answers.
SCHEMA_VERSION = 9

# The word fields and their BM25F weights.
WORD_FIELDS: dict[str, float] = setting("field_weights")


# Whoosh's postings writer calls ``set_inline`` but the term info names it
# ``set_inlined``, so any inline limit above 1 crashes. With the name fixed, a
# term found in a few documents keeps its postings in the term table instead of
# a block of its own: a fifth faster to write and smaller on disk.
if not hasattr(W3TermInfo, "set_inline"):
    W3TermInfo.set_inline = W3TermInfo.set_inlined
INLINE_LIMIT = setting("inline_limit")

# An inlined posting list of a format without values (tags, authors, spelling words)
# answers '' (text) for a value where Whoosh's segment merge writes bytes; the
# fifth small update's merge then failed. Answer b'' as the block reader does.
_list_value = ListMatcher.value


def _bytes_value(self):
    value = _list_value(self)
    return b"" if isinstance(value, str) else value


ListMatcher.value = _bytes_value


def codec() -> W3Codec:
    """The codec the writers use: Whoosh's own, inlining rare terms' postings."""
    return W3Codec(inlinelimit=INLINE_LIMIT)


class KEY(fields.FieldType):
    """An exact, unscored, multi-valued keyword (a tag or an author)."""

    def __init__(self):
        self.format = formats.Existence()
        self.analyzer = analysis.key_analyzer()
        self.scorable = False
        self.stored = False
        self.unique = False
        self.vector = None
        self.column_type = None


def build_schema() -> fields.Schema:
    """Declare the fields once, for the rebuild and for the reader."""
    word = analysis.word_analyzer()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        path=fields.STORED(),
        title=fields.TEXT(analyzer=word, stored=True, field_boost=WORD_FIELDS["title"]),
        description=fields.TEXT(analyzer=word, stored=True, field_boost=WORD_FIELDS["description"]),
        tags_text=fields.TEXT(analyzer=word, field_boost=WORD_FIELDS["tags_text"]),
        body=fields.TEXT(analyzer=word),
        spell=fields.FieldType(formats.Existence(), analyzer=analysis.spell_analyzer()),
        tag=KEY(),
        author_key=KEY(),
        date=fields.DATETIME(stored=True, sortable=True),
        facets=fields.COLUMN(columns.VarBytesColumn()),  # facets.COLUMN: encode_record's records
        tags=fields.STORED(),
        author=fields.STORED(),
        category=fields.STORED(),
        url=fields.STORED(),
        body_parts=fields.STORED(),  # the Markdown and its zh and en parts, compressed
        extra=fields.STORED(),
        mtime=fields.STORED(),
        size=fields.STORED(),
        notes=fields.STORED(),
    )


def document_fields(doc: Document) -> dict:
    """Map a document to the writer's fields; Whoosh runs each field's analyzer on them."""
    parts = split_parts(doc.body, doc.title)
    visible = parts.all
    tags_joined = " ".join(doc.tags)
    everything = "\n".join([doc.title, doc.description, tags_joined, visible])
    when = dates.to_index(doc.date)
    story = story_data(doc.url, visible)
    values = {
        "id": doc.id,
        "path": doc.path,
        "title": doc.title,
        "description": doc.description,
        "tags_text": tags_joined,
        "body": visible,
        "spell": everything,
        "tag": [analysis.facet_key(t) for t in doc.tags],
        "author_key": [analysis.facet_key(doc.author)] if doc.author else [],
        COLUMN: encode_record(doc.id, doc.tags, doc.author, when, story),
        "tags": list(doc.tags),
        "author": doc.author,
        "category": doc.category,
        "url": doc.url,
        "body_parts": pack_body_parts(doc.body, parts.zh, parts.en),
        "extra": doc.extra,
        "mtime": doc.mtime,
        "size": doc.size,
        "notes": list(doc.notes),
    }
    if when is not None:
        values["date"] = when
    return values


def char_text_of_fields(values: dict, markdown: str) -> str:
    """The folded CJK text the character index holds for a document (from ``document_fields``)."""
    extra = _extra(values.get("author"), values.get("category"), markdown)
    return char_text(values["title"], values["description"], values["tags"], values["body"], extra)


def char_text_of_stored(stored: dict) -> str:
    """The same text, rebuilt from a document's stored fields (for updated segments)."""
    markdown, zh, en = body_parts(stored)
    visible = "\n\n".join(p for p in (zh, en) if p)
    extra = _extra(stored.get("author"), stored.get("category"), markdown)
    return char_text(
        stored.get("title", ""),
        stored.get("description", ""),
        stored.get("tags") or [],
        visible,
        extra,
    )


def _extra(author: str | None, category: str | None, markdown: str) -> str:
    return "\n".join(p for p in (author or "", category or "", hidden_labels(markdown)) if p)


class BodyParts(NamedTuple):
    """A document's body as written and the visible text of its two language parts."""

    markdown: str
    zh: str
    en: str


def pack_body_parts(markdown: str, zh: str, en: str) -> bytes:
    """Compress the texts shown on demand (the body, the two snippet sources) into one value."""
    return zlib.compress(json.dumps([markdown, zh, en], ensure_ascii=False).encode("utf-8"), 6)


def body_parts(stored: dict) -> BodyParts:
    """Read a stored document's body and its two language parts."""
    raw = stored.get("body_parts")
    if not raw:
        return BodyParts("", "", "")
    return BodyParts(*json.loads(zlib.decompress(raw)))
