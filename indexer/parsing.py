"""Read one file into a Document, or say why it was skipped."""

from __future__ import annotations

import codecs
import datetime as dt
import errno
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import frontmatter
import yaml
from dateutil import parser as dateparser
from frontmatter.default_handlers import JSONHandler, TOMLHandler, YAMLHandler

from indexer.corpus import doc_id, inside
from searchengine.analysis import facet_key
from searchengine.config import max_file_size
from searchengine.document import BODY_CAPPED_NOTE, Document
from searchengine.text import SOURCE_LABELS

KNOWN = {"title", "date", "description", "tags", "author", "category", "url", "original_url"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
# No nested quantifiers: a 250 KB line of '#' must not take minutes (trailing #s are
# stripped in code, not by the pattern).
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(\S.*)$", re.M)
# Possessive and bounded, so that 100,000 unclosed "[原文链接](" cannot backtrack for minutes.
_SOURCE = re.compile(
    rf"\[(?:{SOURCE_LABELS})\]\(\s*+<?([^)\s>\[]{{1,2048}}+)>?"
    r"(?:\s++\"[^\"]*\")?\s*+\)",
    re.I,
)
_TAG_SPLIT = re.compile(r"[,，、;；]")
_DATE_FORMATS = ("%Y/%m/%d", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y.%m.%d", "%Y年%m月%d日")
_NAME_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# A date outside these years is a placeholder (0001-01-01, 9999-12-31) or a typo, not
# when a digest was written; such a document is indexed without a date. The upper bound
# is next year so that time zones and scheduled posts never lose a real date.
MIN_YEAR = 1900


def max_year() -> int:
    """The latest plausible year of a digest: next year."""
    return dt.datetime.now(dt.UTC).year + 1


# The indexed and stored body is capped so that a search hitting a 20 MB file costs
# about what a normal digest costs: snippets are found by scanning the stored body, and
# a hit on a 1,000,000-character body took 100-180 ms against 7-10 ms for a digest,
# on 100,000 characters 17-33 ms. The longest real digests hold about 35,000.
MAX_BODY_CHARS = 100_000
# Fields shown in every result line; a 250 KB heading must not become a title.
MAX_TITLE_CHARS = 300
MAX_FIELD_CHARS = 2_000
# Front matter is a handful of fields; parsing megabytes of YAML is never worth it.
MAX_FRONT_MATTER_CHARS = 256 * 1024


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
    result = _read_date(value)
    return result if result is not None and plausible(result) else None


def plausible(date: dt.datetime) -> bool:
    """Tell a real publication date from a placeholder such as 0001-01-01 or 9999-12-31."""
    return MIN_YEAR <= date.year <= max_year()


def _read_date(value) -> dt.datetime | None:
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
    try:
        return result.astimezone(dt.UTC)
    except (OverflowError, ValueError):  # 9999-12-31T23:00-05:00 has no UTC form
        return None


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


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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


# --- Reading a file safely ----------------------------------------------------------


def _printable(rel: str) -> str:
    """Show a path on one line and in valid UTF-8, whatever bytes its name holds."""
    shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _NAME_CONTROL.sub(lambda m: repr(m.group())[1:-1], shown)


def _check_name(rel: str) -> None:
    if "\n" in rel or "\r" in rel:
        raise BrokenFile("file name contains a line break")
    if _NAME_CONTROL.search(rel):
        raise BrokenFile("file name contains a control character")
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        raise BrokenFile("file name is not valid UTF-8") from None


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _size(n: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= factor:
            return f"{n / factor:.3g} {unit}"
    return f"{n} bytes"


def _too_big(size: int, limit: int) -> BrokenFile:
    return BrokenFile(
        f"larger than the {_size(limit)} limit ({_size(size)}); raise it with --max-file-size"
    )


def _target(path: Path, root: Path) -> str:
    """Resolve a file's real path, refusing anything that leads outside the corpus."""
    try:
        link = stat.S_ISLNK(os.lstat(path).st_mode)
        real = os.path.realpath(path, strict=True)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise BrokenFile("symlink loop") from None
        if exc.errno == errno.ENOENT and os.path.islink(path):
            raise BrokenFile("broken symlink (its target does not exist)") from None
        raise
    if not inside(real, os.path.realpath(root)):
        mode = os.stat(real).st_mode
        what = "a file" if stat.S_ISREG(mode) else _kind(mode)
        if link:
            raise BrokenFile(f"symlink to {what} outside the corpus (not followed)")
        raise BrokenFile(f"reached through a symlink to {what} outside the corpus")
    return real


def read_source(path: Path, root: Path, max_bytes: int) -> tuple[bytes, os.stat_result]:
    """Read a regular file inside the corpus, at most max_bytes, without ever blocking.

    Symlinks leading outside the corpus, devices, FIFOs and sockets are refused before
    anything is opened; the opened descriptor is checked again, so a file swapped for a
    FIFO between the check and the open cannot hang the indexer.
    """
    real = _target(path, root)
    st = os.stat(real)
    if not stat.S_ISREG(st.st_mode):
        raise BrokenFile(f"cannot read: {_kind(st.st_mode)}, not a regular file")
    if st.st_size > max_bytes:
        raise _too_big(st.st_size, max_bytes)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC
    fd = os.open(real, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise BrokenFile(f"cannot read: {_kind(st.st_mode)}, not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # it grew after the stat
        raise _too_big(len(data), max_bytes)
    return data, st


def parse_file(path: Path, root: Path, max_bytes: int | None = None) -> Document | Skipped:
    """Turn one file into a Document; a broken or unsafe file becomes Skipped with its reason.

    ``max_bytes`` defaults to $DIGEST_MAX_FILE_SIZE, else 16 MB (see ``max_file_size``).
    """
    rel = path.relative_to(root).as_posix()
    try:
        _check_name(rel)
        data, st = read_source(path, root, max_file_size() if max_bytes is None else max_bytes)
        return parse_text(decode(data), path, root, st.st_mtime, st.st_size)
    except BrokenFile as exc:
        return Skipped(_printable(rel), str(exc))
    except OSError as exc:
        return Skipped(_printable(rel), f"cannot read the file ({exc.strerror or exc})")


# --- Front matter ----------------------------------------------------------------------


def _timestamp_or_text(loader, node):
    """A YAML timestamp, or its text when it names no real moment (2025-02-30, hour 25):
    the date is then reported unreadable and the document kept, as a quoted one is."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when installed
    """The safe loader, with impossible timestamps read as text."""


_FastLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)
_FAST_LOADER = _FastLoader


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without aliases: `*name` can expand a 551-byte file into gigabytes."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise BrokenFile(ALIASES_REFUSED)
        return super().compose_node(parent, index)


ALIASES_REFUSED = "YAML front matter uses aliases (*name), which are refused"
_NoAliasLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def _load_yaml(fm: str):
    """Load YAML with libyaml's speed, refusing aliases (checked on its event stream)."""
    if not hasattr(yaml, "CSafeLoader"):
        return yaml.load(fm, Loader=_NoAliasLoader)  # noqa: S506 (a SafeLoader subclass)
    if "*" in fm and any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(fm, _FAST_LOADER)):
        raise BrokenFile(ALIASES_REFUSED)
    return yaml.load(fm, Loader=_FAST_LOADER)  # noqa: S506 (a safe loader)


class _BoundedYAML(YAMLHandler):
    def load(self, fm: str, **kwargs: object):
        _check_front_matter_size(fm)
        return _load_yaml(fm)


class _BoundedTOML(TOMLHandler):
    def load(self, fm: str, **kwargs: object):
        _check_front_matter_size(fm)
        return super().load(fm, **kwargs)


class _BoundedJSON(JSONHandler):
    def load(self, fm: str, **kwargs: object):
        _check_front_matter_size(fm)
        return super().load(fm, **kwargs)


_HANDLERS = [_BoundedYAML(), _BoundedJSON(), _BoundedTOML()]


def _check_front_matter_size(fm: str) -> None:
    if len(fm) > MAX_FRONT_MATTER_CHARS:
        raise BrokenFile(
            f"front matter is larger than {_size(MAX_FRONT_MATTER_CHARS)} ({_size(len(fm))})"
        )


def split_front_matter(text: str) -> tuple[dict, str]:
    """Split front matter from the body with bounded work: no YAML aliases, no huge headers."""
    handler = frontmatter.detect_format(text, _HANDLERS)
    try:
        meta, body = frontmatter.parse(text, handler=handler)
    except BrokenFile:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BrokenFile(f"invalid front matter: {first}") from None
    return meta, body


def _first_heading(body: str) -> str:
    for match in _HEADING.finditer(body):
        title = " ".join(match.group(1).rstrip().rstrip("#").replace("*", "").split())
        if title:
            return title
    return ""


def _cap(body: str) -> tuple[str, str | None]:
    """Keep the first MAX_BODY_CHARS of a huge body, cut at a line end when one is near."""
    if len(body) <= MAX_BODY_CHARS:
        return body, None
    cut = body.rfind("\n", MAX_BODY_CHARS * 9 // 10, MAX_BODY_CHARS)
    capped = body[: cut if cut > 0 else MAX_BODY_CHARS]
    note = f"{BODY_CAPPED_NOTE} ({len(capped):,} of {len(body):,} characters)"
    return capped, note


# --- One document ----------------------------------------------------------------------


def parse_text(text: str, path: Path, root: Path, mtime: float = 0.0, size: int = 0) -> Document:
    """Parse decoded text: front matter, fallbacks for what is missing, the source link."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise BrokenFile("the file is empty")
    meta, body = split_front_matter(text)
    if not isinstance(meta, dict):
        raise BrokenFile("front matter is not a set of fields")
    if not body.strip() and not meta:
        raise BrokenFile("the file has no content")
    notes: list[str] = []
    body, capped = _cap(body)
    if capped:
        notes.append(capped)
    title = _title(meta, body, path, notes)
    date = _date(meta.get("date"), notes)
    extra = {str(k): _json_safe(v) for k, v in meta.items() if k not in KNOWN}
    if meta.get("url") and meta.get("original_url"):
        extra.setdefault("original_url", _text(meta.get("original_url")))
    return Document(
        id=doc_id(path, root),
        path=path.relative_to(root).as_posix(),
        title=title,
        body=body,
        date=date,
        description=_clip(_text(meta.get("description")), MAX_FIELD_CHARS),
        tags=normalize_tags(meta.get("tags")),
        author=_clip(_text(meta.get("author")), MAX_TITLE_CHARS),
        category=_clip(_text(meta.get("category")), MAX_TITLE_CHARS),
        url=_source_url(body, meta),
        extra=extra,
        mtime=mtime,
        size=size,
        notes=notes,
    )


def _title(meta: dict, body: str, path: Path, notes: list[str]) -> str:
    """The front matter's title, else the first heading, else the file name (noted)."""
    title = _clip(_text(meta.get("title")), MAX_TITLE_CHARS)
    if title:
        return title
    title = _clip(_first_heading(body), MAX_TITLE_CHARS)
    if title:
        notes.append("no title: used the first heading")
        return title
    notes.append("no title: used the file name")
    return path.stem


def _date(raw: object, notes: list[str]) -> dt.datetime | None:
    """The front matter's date in UTC, or None with a note saying why."""
    read = _read_date(raw)
    date = read if read is not None and plausible(read) else None
    if read is not None and date is None:
        notes.append(
            f"implausible date {str(raw)[:40]!r} (outside {MIN_YEAR}–{max_year()}): "
            "indexed without a date"
        )
    elif date is None:
        notes.append(
            f"unreadable date {str(raw)[:40]!r}: indexed without a date"
            if raw not in (None, "")
            else "no date"
        )
    return date


def _source_url(body: str, meta: dict) -> str:
    """The first source link of the body, else the front matter's url or original_url."""
    source = _SOURCE.search(body)
    url = _safe_url(source.group(1)) if source else ""
    return url or _safe_url(_text(meta.get("url"))) or _safe_url(_text(meta.get("original_url")))
