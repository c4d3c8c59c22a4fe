"""Read one file into a Document, or say why it was skipped."""

from __future__ import annotations

import codecs
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import frontmatter
from dateutil import parser as dateparser

from indexer.corpus import doc_id
from searchengine.analysis import facet_key
from searchengine.document import Document

KNOWN = {"title", "date", "description", "tags", "author", "category", "url", "original_url"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.M)
_SOURCE = re.compile(
    r"\[(?:原文链接|原文鏈接|Source Link)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", re.I
)
_TAG_SPLIT = re.compile(r"[,，、;；]")
_DATE_FORMATS = ("%Y/%m/%d", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y.%m.%d", "%Y年%m月%d日")


@dataclass(frozen=True)
class Skipped:
    """A file that could not be indexed, and why, in words a site owner can act on."""

    path: str
    reason: str


class BrokenFile(Exception):
    """The file cannot become a document."""


def decode(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030/GBK."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise BrokenFile("not valid UTF-8 or GB18030 text") from None


def parse_date(value) -> dt.datetime | None:
    """Read the many date shapes of real archives; return UTC, or None if unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        result = value
    elif isinstance(value, dt.date):
        result = dt.datetime.combine(value, dt.time.min)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if not 1e8 < value < 1e11:
            return None
        return dt.datetime.fromtimestamp(value, dt.UTC)
    else:
        result = _parse_date_text(str(value).strip())
        if result is None:
            return None
    if result.tzinfo is None:
        return result.replace(tzinfo=dt.UTC)
    return result.astimezone(dt.UTC)


def _parse_date_text(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    if not re.search(r"\d{4}", text):
        return None
    try:
        # Missing parts default to January 1st, never to today's month or day.
        return dateparser.parse(text, default=dt.datetime(2000, 1, 1))
    except (ValueError, OverflowError, TypeError):
        return None


def normalize_tags(value) -> list[str]:
    """Accept a list, a comma-separated string, one string, empty or null."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple, set)) else [value]
    out: dict[str, str] = {}
    for item in items:
        if item is None or isinstance(item, (dict, list)):
            continue
        for piece in _TAG_SPLIT.split(str(item)):
            display = " ".join(piece.split())
            key = facet_key(display)
            if key and key not in out:
                out[key] = display
    return list(out.values())


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value if v is not None)
    return " ".join(str(value).split())


def _safe_url(url: str) -> str:
    url = url.strip()
    return url if re.match(r"https?://", url, re.I) else ""


def _json_safe(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def parse_file(path: Path, root: Path) -> Document | Skipped:
    """Turn one file into a Document; a broken file becomes Skipped with its reason."""
    rel = path.relative_to(root).as_posix()
    try:
        st = path.stat()
        data = path.read_bytes()
        return parse_text(decode(data), path, root, st.st_mtime, st.st_size)
    except BrokenFile as exc:
        return Skipped(rel, str(exc))
    except OSError as exc:
        return Skipped(rel, f"cannot read the file ({exc.strerror or exc})")


def parse_text(text: str, path: Path, root: Path, mtime: float = 0.0, size: int = 0) -> Document:
    """Parse decoded text: front matter, fallbacks for what is missing, the source link."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise BrokenFile("the file is empty")
    try:
        post = frontmatter.loads(text)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BrokenFile(f"invalid front matter: {first}") from None
    meta = post.metadata
    if not isinstance(meta, dict):
        raise BrokenFile("front matter is not a set of fields")
    body = post.content
    if not body.strip() and not meta:
        raise BrokenFile("the file has no content")
    notes: list[str] = []
    title = _text(meta.get("title"))
    if not title:
        heading = _HEADING.search(body)
        if heading:
            title = " ".join(heading.group(1).replace("*", "").split())
            notes.append("no title: used the first heading")
        else:
            title = path.stem
            notes.append("no title: used the file name")
    date = parse_date(meta.get("date"))
    if date is None:
        raw = meta.get("date")
        notes.append(
            f"unreadable date {str(raw)[:40]!r}: indexed without a date"
            if raw not in (None, "")
            else "no date"
        )
    source = _SOURCE.search(body)
    url = _safe_url(source.group(1)) if source else ""
    url = url or _safe_url(_text(meta.get("url"))) or _safe_url(_text(meta.get("original_url")))
    extra = {str(k): _json_safe(v) for k, v in meta.items() if k not in KNOWN}
    if meta.get("url") and meta.get("original_url"):
        extra.setdefault("original_url", _text(meta.get("original_url")))
    return Document(
        id=doc_id(path, root),
        path=path.relative_to(root).as_posix(),
        title=title,
        body=body,
        date=date,
        description=_text(meta.get("description")),
        tags=normalize_tags(meta.get("tags")),
        author=_text(meta.get("author")),
        category=_text(meta.get("category")),
        url=url,
        extra=extra,
        mtime=mtime,
        size=size,
        notes=notes,
    )
