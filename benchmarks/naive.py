"""The naive baseline: Whoosh + jieba's bundled ChineseAnalyzer, default settings.

This is the setup a first attempt would use, built in the same run as ours so
that every figure is a ratio measured on the same machine at the same time.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import frontmatter
from whoosh import fields, index
from whoosh.qparser import MultifieldParser, OrGroup  # noqa: F401  (OrGroup kept for experiments)

from indexer.corpus import iter_files


def naive_schema() -> fields.Schema:
    """Title, description, tags and body analyzed by jieba's ChineseAnalyzer, all stored."""
    import jieba
    from jieba.analyse import ChineseAnalyzer

    jieba.setLogLevel(logging.WARNING)
    ana = ChineseAnalyzer()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=fields.TEXT(stored=True, analyzer=ana),
        description=fields.TEXT(stored=True, analyzer=ana),
        tags=fields.KEYWORD(stored=True, commas=True, lowercase=True),
        author=fields.ID(stored=True),
        date=fields.DATETIME(stored=True),
        body=fields.TEXT(stored=True, analyzer=ana),
    )


@dataclass
class NaiveBuild:
    seconds: float
    documents: int
    size_bytes: int


def build_naive(corpus: Path, index_dir: Path, procs: int = 1) -> NaiveBuild:
    """Index a corpus the straightforward way: read, parse, add, commit."""
    index_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    ix = index.create_in(str(index_dir), naive_schema())
    writer = ix.writer(procs=procs) if procs > 1 else ix.writer()
    count = 0
    for path in iter_files(corpus):
        try:
            post = frontmatter.loads(path.read_text(encoding="utf-8"))
        except Exception:
            continue
        meta = post.metadata if isinstance(post.metadata, dict) else {}
        tags = meta.get("tags") or []
        if isinstance(tags, str):
            tags = [tags]
        writer.add_document(
            id=path.relative_to(corpus).with_suffix("").as_posix(),
            title=str(meta.get("title") or ""),
            description=str(meta.get("description") or ""),
            tags=",".join(str(t) for t in tags if t is not None),
            author=str(meta.get("author") or ""),
            body=post.content,
        )
        count += 1
    writer.commit()
    seconds = time.perf_counter() - started
    size = sum(f.stat().st_size for f in index_dir.iterdir() if f.is_file())
    return NaiveBuild(seconds, count, size)


class NaiveSearcher:
    """Query the naive index with Whoosh's MultifieldParser (AND of words) and its highlighter."""

    def __init__(self, index_dir: Path):
        self.ix = index.open_dir(str(index_dir))
        self.searcher = self.ix.searcher()
        self.parser = MultifieldParser(["title", "description", "tags", "body"], self.ix.schema)

    def search(self, q: str, limit: int = 10, highlight: bool = False) -> list[str]:
        query = self.parser.parse(q)
        hits = self.searcher.search(query, limit=limit)
        if highlight:
            for hit in hits:
                hit.highlights("body")
        return [hit["id"] for hit in hits]

    def close(self) -> None:
        self.searcher.close()


def cpu_count() -> int:
    """Cores this process may use."""
    return (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
