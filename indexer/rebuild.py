"""Full rebuild: parse the corpus in worker processes into a fresh generation, then switch.

Each worker writes one segment of the new generation (see ``indexer.segments``); the
parent commits them as one index, stores the manifest, synonyms and metadata beside
it and only then makes it the live generation, so readers never see a partial index.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from indexer.batch import Batch
from indexer.corpus import files_by_id, iter_files
from indexer.errors import CorpusError
from indexer.generation import apply_synonyms, save_manifest
from indexer.report import Report
from indexer.segments import build_segment, commit_segments, create_index
from indexer.workers import Progress, run_in_workers
from searchengine.config import Settings
from searchengine.schema import SCHEMA_VERSION
from searchengine.segmenter import SEGMENTER, use_user_dict
from searchengine.store import IndexMeta, IndexStore, now_iso
from searchengine.synonyms import SynonymTable

__all__ = ["CorpusError", "check_corpus", "rebuild"]


def check_corpus(corpus: Path) -> list[Path]:
    """List the corpus's files, or explain why there is nothing to index."""
    if not corpus.is_dir():
        raise CorpusError(f"Corpus folder not found: {corpus}")
    files = list(iter_files(corpus))
    if not files:
        raise CorpusError(f"No Markdown documents (*.md, *.markdown) in {corpus}")
    return files


def rebuild(
    settings: Settings,
    jobs: int | None = None,
    progress_factory: Callable[[int], Progress] | None = None,
    on_wait: Callable[[], None] | None = None,
    wait: float = 600.0,
) -> Report:
    """Build into a fresh directory so readers keep the old index until the switch."""
    started = time.perf_counter()
    if settings.corpus is None:
        raise CorpusError("No corpus folder given (--corpus or $DIGEST_CORPUS)")
    corpus = settings.corpus.absolute()
    user_dict = str(settings.user_dict.absolute()) if settings.user_dict else None
    store = IndexStore(settings.index)
    report = Report("rebuild", index=str(store.root))
    files = list(files_by_id(check_corpus(corpus), corpus, report).values())
    dict_hash = use_user_dict(user_dict)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files) // 50 or 1))
    with store.writer_lock(wait=wait, on_wait=on_wait):
        store.cleanup()
        building = store.new_building_dir()
        try:
            ix = create_index(building)
            progress = progress_factory(len(files)) if progress_factory else None
            batches = _write_segments(building, files, corpus, jobs, user_dict, progress)
            manifest = _gather(batches, report)
            if not report.indexed:
                raise CorpusError(f"No document in {corpus} could be indexed")
            commit_segments(ix, [b.segment for b in batches if b.segment is not None])
            save_manifest(building, manifest)
            table = apply_synonyms(corpus, building, report)
            report.seconds = time.perf_counter() - started
            meta = _metadata(report, corpus, user_dict, dict_hash, table, batches)
            meta.save(building)
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


def _write_segments(
    building: Path,
    files: list[Path],
    corpus: Path,
    jobs: int,
    user_dict: str | None,
    progress: Progress | None,
) -> list[Batch]:
    """Write the files as ``jobs`` segments: in this process for one, else in workers."""
    if jobs == 1:
        batches = [build_segment(str(building), [str(p) for p in files], str(corpus))]
        if progress:
            progress(len(files))
        return batches
    shares = [[str(p) for p in files[i::jobs]] for i in range(jobs)]
    tasks = [(str(building), share, str(corpus)) for share in shares]
    return run_in_workers(build_segment, tasks, user_dict, progress)


def _gather(batches: list[Batch], report: Report) -> dict:
    """Add the workers' skips and notes to the report; return the whole manifest."""
    manifest: dict = {}
    for batch in batches:
        report.skipped.extend(batch.skipped)
        report.notes.extend(batch.notes)
        manifest.update(batch.manifest)
    report.indexed = len(manifest)
    return manifest


def _metadata(
    report: Report,
    corpus: Path,
    user_dict: str | None,
    dict_hash: str | None,
    table: SynonymTable,
    batches: list[Batch],
) -> IndexMeta:
    """Describe the new generation: what it was built from, with what, and how fast."""
    return IndexMeta(
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
    )
