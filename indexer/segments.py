"""Whoosh segments written by hand: one per worker, then one table of contents for all.

Whoosh spends most of a build in pure-Python posting work, so a rebuild splits the
work at the segment level: each worker parses its share of the files, analyzes them
and writes a complete segment; the parent then commits one table of contents that
lists every segment. This reaches into Whoosh's writer internals, all of it here.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import PostingPool, SegmentWriter

from indexer.batch import Batch, write_documents
from indexer.workers import count_file
from searchengine.chars import CharIndexWriter
from searchengine.schema import build_schema
from searchengine.schema import codec as schema_codec

# Postings a worker sorts in memory before spilling a sorted run to disk (about 200 bytes
# each): a 15,000-document rebuild never spills, a larger one spills every 3 million.
POOL_ITEMS = 3_000_000


def create_index(folder: Path):
    """Start an empty index in ``folder`` for workers to add their segments to."""
    return whoosh_index.create_in(str(folder), build_schema())


def build_segment(index_dir: str, paths: list[str], root: str) -> Batch:
    """Write one segment of the index from a share of the corpus (runs in a worker).

    Segments stay as separate files: Whoosh reads a compound segment by copying
    each part into memory, which cost a 25,000-digest server 650 MB.
    """
    storage = _WorkerStorage(index_dir)
    writer = _segment_writer(storage.open_index())
    started = time.perf_counter()
    batch = Batch()
    chars = CharIndexWriter()
    try:
        write_documents(writer, [Path(p) for p in paths], Path(root), batch, chars, count_file)
    except BaseException:
        writer.cancel()
        raise
    if batch.manifest:
        batch.segment = writer._finalize_segment()
        written = time.perf_counter()
        chars.write(index_dir, batch.segment.segment_id())
        batch.char_seconds += time.perf_counter() - written
    else:
        writer.cancel()
    batch.seconds = time.perf_counter() - started
    for temp in storage.temps:
        shutil.rmtree(temp, ignore_errors=True)
    return batch


def _segment_writer(ix) -> SegmentWriter:
    """A writer of one separate-files segment, without the index lock the parent holds."""
    writer = SegmentWriter(ix, _lk=False, compound=False, codec=schema_codec())
    writer.pool = _CountingPool(writer._tempstorage, writer.newsegment, POOL_ITEMS)
    # Whoosh looks up each posting's field length to note block bounds that only its
    # own top-N pruning reads; the search ranks with whole arrays, so skip them.
    add_postings = writer.fieldwriter.add_postings
    writer.fieldwriter.add_postings = lambda schema, lengths, items: add_postings(
        schema, None, items
    )
    return writer


def commit_segments(ix, segments: list) -> None:
    """Commit one table of contents listing the segments the workers wrote."""
    writer = ix.writer()
    writer._close_segment()
    writer._commit_toc(segments)
    writer._finish()
    ix.close()


class _CountingPool(PostingPool):
    """Whoosh's posting pool, bounded by a count of postings rather than estimated bytes.

    Whoosh sizes each posting in Python as it comes and spills a run at 128 MB, then
    merges the runs back one unmarshalled posting at a time: on Chinese text that was a
    third of a worker's time. Here a posting is appended, and a run spills only past
    ``limit`` postings.
    """

    def __init__(self, tempstore, segment, limit: int) -> None:
        super().__init__(tempstore, segment)
        self.max_items = limit

    def add(self, item) -> None:
        current = self.current
        current.append(item)
        if len(current) >= self.max_items:
            self.save()


class _WorkerStorage(FileStorage):
    """A folder storage whose scratch folders are this process's own.

    Whoosh names a writer's scratch folder after the index (``MAIN.tmp``), so
    workers writing segments side by side would share one and could delete
    each other's spill files.
    """

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.temps: list[str] = []

    def temp_storage(self, name=None):
        name = f"{name or 'scratch'}.{os.getpid()}"
        self.temps.append(os.path.join(self.folder, name))
        return super().temp_storage(name)
