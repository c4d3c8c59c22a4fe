"""Web fixtures: apps and clients over the sample index and a hostile corpus, and a server.

The sample index and its server come from tests/conftest.py (shared with the browser tests).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import frontmatter
import pytest
from hostile_corpus import HOSTILE_FILES, ODD_FILES, write_hostile_corpus

from indexer.corpus import SAMPLE_CORPUS
from indexer.rebuild import rebuild
from searchengine.config import Settings
from web import create_app

# Files of the sample corpus the indexer must skip (see its ODDITIES.txt).
SKIPPED = {"odd/broken-yaml.md"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- The sample corpus as a reader sees it (read here, independently of the indexer) ---


@dataclass(frozen=True)
class SampleDoc:
    """One sample digest: its id, folded tags, author and UTC date."""

    id: str
    title: str
    tags: tuple[str, ...]
    author: str
    date: dt.datetime | None

    @property
    def month(self) -> str | None:
        return self.date.strftime("%Y-%m") if self.date else None


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gbk")
    return _CONTROL.sub("", text)


def _utc(value) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, str):
        for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%B %d, %Y"):
            try:
                return dt.datetime.strptime(value, fmt).replace(tzinfo=dt.UTC)
            except ValueError:
                continue
    return None


def _tags(value) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else str(value).split(",")
    folded = (" ".join(str(t).split()).casefold() for t in items)
    return tuple(dict.fromkeys(t for t in folded if t))


def read_corpus(root: Path) -> dict[str, SampleDoc]:
    """Read every visible Markdown file the indexer should index, keyed by document id."""
    docs = {}
    for path in sorted(root.rglob("*.md")):
        rel = path.relative_to(root).as_posix()
        if rel in SKIPPED or any(part.startswith(".") for part in rel.split("/")):
            continue
        post = frontmatter.loads(_read_text(path))
        meta = post.metadata
        title = str(meta.get("title") or "")
        doc_id = rel[: -len(".md")]
        docs[doc_id] = SampleDoc(
            doc_id,
            title,
            _tags(meta.get("tags")),
            str(meta.get("author") or ""),
            _utc(meta.get("date")),
        )
    return docs


@pytest.fixture(scope="session")
def sample_docs() -> dict[str, SampleDoc]:
    """What the sample corpus holds, read with python-frontmatter."""
    return read_corpus(SAMPLE_CORPUS)


def _make_app(index_dir: Path):
    app = create_app({"INDEX": str(index_dir), "TESTING": True})
    yield app
    app.extensions["digest_index"].close()


@pytest.fixture(scope="session")
def app(sample_index):
    """The app over the sample index (one per session: opening an index is the slow part)."""
    yield from _make_app(sample_index)


@pytest.fixture
def client(app):
    """A fresh test client (fresh cookies) for each test."""
    return app.test_client()


# --- A hostile corpus ---------------------------------------------------------------


@pytest.fixture(scope="session")
def hostile_index(tmp_path_factory) -> Path:
    """Index the hostile corpus once per session."""
    corpus = write_hostile_corpus(tmp_path_factory.mktemp("hostile_corpus"))
    index_dir = tmp_path_factory.mktemp("hostile_index")
    report = rebuild(Settings.resolve(corpus, index_dir), jobs=1)
    assert report.indexed == len(HOSTILE_FILES) + len(ODD_FILES) + 1, report.skipped
    return index_dir


@pytest.fixture(scope="session")
def hostile_app(hostile_index):
    """The app over the hostile index."""
    yield from _make_app(hostile_index)


@pytest.fixture
def hostile_client(hostile_app):
    return hostile_app.test_client()


# --- A real server ------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(sample_server):
    """`searchengine serve` (gunicorn) over the sample index: the session's one server."""
    return sample_server
