"""Full rebuild: worker processes each write one segment of a fresh generation.

Whoosh spends most of a build in pure-Python posting work, so the work is split
at the segment level: each worker parses its share of the files, analyzes them
and writes a complete segment; the parent then commits one table of contents
that lists every segment. Workers die with their parent and drop the inherited
writer lock, so a killed rebuild leaves nothing running and nothing locked.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import multiprocessing
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import SegmentWriter

from indexer.corpus import doc_id, iter_files, relative
from indexer.parsing import Skipped, parse_file
from indexer.report import Report
from searchengine import synonyms
from searchengine.analysis import SEGMENTER, use_user_dict
from searchengine.chars import CharIndexWriter
from searchengine.config import Settings
from searchengine.errors import SearchEngineError
from searchengine.schema import SCHEMA_VERSION, build_schema, char_text_of_fields, document_fields
from searchengine.schema import codec as schema_codec
from searchengine.store import IndexMeta, IndexStore, forget_inherited_locks, now_iso
from searchengine.synonyms import SynonymTable

MANIFEST = "manifest.json"
WRITER_LIMIT_MB = 192

Progress = Callable[[int], None]


class CorpusError(SearchEngineError):
    """The corpus folder is missing or holds no document."""

    code = "corpus_error"


@dataclass
class Batch:
    """What one worker did: its segment (None if empty), skips, notes, manifest rows."""

    segment: object = None
    seconds: float = 0.0  # the worker's whole time
    char_seconds: float = 0.0  # of which on the character index
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)


# --- In the worker processes --------------------------------------------------------

_COUNTER = None


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:
            os._exit(1)


def _init_worker(user_dict: str | None, counter) -> None:
    global _COUNTER
    _die_with_parent()
    forget_inherited_locks()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl+C
    # A stop signal ends a worker at once, wherever it waits (a Python handler
    # inherited from the command could be left waiting on the pool's queue lock).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    _COUNTER = counter
    use_user_dict(user_dict)


def _tick() -> None:
    if _COUNTER is not None:
        with _COUNTER.get_lock():
            _COUNTER.value += 1


def write_documents(
    writer, paths: list[Path], root: Path, batch: Batch, chars: CharIndexWriter | None = None
) -> None:
    """Parse, analyze and add each file; a file that fails is skipped with its reason.

    With ``chars``, each added document's CJK text goes to the segment's character index.
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
        _tick()


def build_segment(index_dir: str, paths: list[str], root: str) -> Batch:
    """Write one segment of the index from a share of the corpus (runs in a worker).

    Segments stay as separate files: Whoosh reads a compound segment by copying
    each part into memory, which cost a 25,000-digest server 650 MB.
    """
    storage = _WorkerStorage(index_dir)
    ix = storage.open_index()
    writer = SegmentWriter(
        ix, _lk=False, limitmb=WRITER_LIMIT_MB, compound=False, codec=schema_codec()
    )
    # Whoosh looks up each posting's field length to note block bounds that only its
    # own top-N pruning reads; the search ranks with whole arrays, so skip them.
    add_postings = writer.fieldwriter.add_postings
    writer.fieldwriter.add_postings = lambda schema, lengths, items: add_postings(
        schema, None, items
    )
    started = time.perf_counter()
    batch = Batch()
    chars = CharIndexWriter()
    try:
        write_documents(writer, [Path(p) for p in paths], Path(root), batch, chars)
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


# --- In the parent -------------------------------------------------------------------


def check_corpus(corpus: Path) -> list[Path]:
    """List the corpus's files, or explain why there is nothing to index."""
    if not corpus.is_dir():
        raise CorpusError(f"Corpus folder not found: {corpus}")
    files = list(iter_files(corpus))
    if not files:
        raise CorpusError(f"No Markdown documents (*.md, *.markdown) in {corpus}")
    return files


def unique_ids(files: list[Path], corpus: Path, report: Report) -> list[Path]:
    """Keep the first file of each id (a.md and a.markdown would share one)."""
    seen: dict[str, Path] = {}
    kept = []
    for path in files:
        did = doc_id(path, corpus)
        if did in seen:
            rel = relative(path, corpus)
            report.skipped.append((rel, f"same id as {relative(seen[did], corpus)}"))
            continue
        seen[did] = path
        kept.append(path)
    return kept


def _run_workers(
    building: Path,
    shares: list[list[str]],
    corpus: Path,
    user_dict: str | None,
    progress: Progress | None,
) -> list[Batch]:
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("q", 0)
    with ctx.Pool(len(shares), initializer=_init_worker, initargs=(user_dict, counter)) as pool:
        pending = pool.starmap_async(
            build_segment, [(str(building), s, str(corpus)) for s in shares]
        )
        shown = 0
        while not pending.ready():
            pending.wait(0.2)
            if progress and counter.value > shown:
                progress(counter.value - shown)
                shown = counter.value
        batches = pending.get()
        pool.close()  # let the idle workers leave on their own rather than be killed
        pool.join()
    if progress and counter.value > shown:
        progress(counter.value - shown)
    return batches


def apply_synonyms(corpus: Path, gen: Path, report: Report) -> SynonymTable:
    """Store the corpus's synonyms in the generation; report malformed lines."""
    table = synonyms.read_file(corpus)
    synonyms.save(table, gen)
    for line, reason in table.errors:
        report.notes.append((synonyms.FILE_NAME, f"line {line}: {reason}; skipped"))
    if table.digest:
        report.synonyms = table.summary()
    return table


def save_manifest(gen: Path, manifest: dict) -> None:
    """Remember each document's file, time and size, so updates need only a stat."""
    tmp = gen / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, gen / MANIFEST)


def load_manifest(gen: Path) -> dict:
    """Read the manifest of a generation (empty if absent)."""
    try:
        return json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def rebuild(
    settings: Settings,
    jobs: int | None = None,
    progress_factory: Callable[[int], Progress] | None = None,
    on_wait: Callable[[], None] | None = None,
    wait: float = 600.0,
) -> Report:
    """Build into a fresh directory so readers keep the old index until the switch."""
    started = time.perf_counter()
    corpus = settings.corpus.absolute()
    user_dict = str(settings.user_dict.absolute()) if settings.user_dict else None
    store = IndexStore(settings.index)
    report = Report("rebuild", index=str(store.root))
    files = unique_ids(check_corpus(corpus), corpus, report)
    dict_hash = use_user_dict(user_dict)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files) // 50 or 1))
    with store.writer_lock(wait=wait, on_wait=on_wait):
        store.cleanup()
        building = store.new_building_dir()
        try:
            ix = whoosh_index.create_in(str(building), build_schema())
            progress = progress_factory(len(files)) if progress_factory else None
            if jobs == 1:
                batches = [build_segment(str(building), [str(p) for p in files], str(corpus))]
                if progress:
                    progress(len(files))
            else:
                shares = [[str(p) for p in files[i::jobs]] for i in range(jobs)]
                batches = _run_workers(building, shares, corpus, user_dict, progress)
            manifest: dict = {}
            for batch in batches:
                report.skipped.extend(batch.skipped)
                report.notes.extend(batch.notes)
                manifest.update(batch.manifest)
            report.indexed = len(manifest)
            if not report.indexed:
                raise CorpusError(f"No document in {corpus} could be indexed")
            writer = ix.writer()
            writer._close_segment()
            writer._commit_toc([b.segment for b in batches if b.segment is not None])
            writer._finish()
            ix.close()
            save_manifest(building, manifest)
            table = apply_synonyms(corpus, building, report)
            report.seconds = time.perf_counter() - started
            IndexMeta(
                schema_version=SCHEMA_VERSION,
                built_at=now_iso(),
                corpus=str(corpus),
                documents=report.indexed,
                skipped=len(report.skipped),
                seconds=round(report.seconds, 3),
                segmenter=SEGMENTER.engine,
                user_dict=user_dict,
                user_dict_hash=dict_hash,
                synonyms_hash=table.digest,
                synonyms_groups=len(table.groups),
                build={
                    "worker_seconds": round(sum(b.seconds for b in batches), 2),
                    "char_index_seconds": round(sum(b.char_seconds for b in batches), 2),
                },
            ).save(building)
            gen = store.publish(building)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        report.generation = gen.name
        store.cleanup()
    report.skipped.sort()
    report.notes.sort()
    report.seconds = time.perf_counter() - started
    return report
