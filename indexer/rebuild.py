"""Full rebuild: parse and analyze in worker processes, write one fresh generation."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from whoosh import index as whoosh_index

from indexer.corpus import iter_files
from indexer.parsing import Skipped, parse_file
from indexer.report import Report
from searchengine.analysis import SEGMENTER, use_user_dict
from searchengine.config import Settings
from searchengine.errors import SearchEngineError
from searchengine.schema import SCHEMA_VERSION, build_schema, document_fields
from searchengine.store import IndexMeta, IndexStore, now_iso

MANIFEST = "manifest.json"
WRITER_LIMIT_MB = 256
CHUNK = 16

Progress = Callable[[int], None]


class CorpusError(SearchEngineError):
    """The corpus folder is missing or holds no document."""

    code = "corpus_error"


# --- Work done in worker processes --------------------------------------------------

_ROOT: Path | None = None


def _init_worker(root: str, user_dict: str | None) -> None:
    global _ROOT
    _ROOT = Path(root)
    use_user_dict(user_dict)


def prepare(path: Path) -> tuple[str, object, object]:
    """Parse and analyze one file: ('ok', fields, notes) or ('skip', path, reason)."""
    doc = parse_file(path, _ROOT)
    if isinstance(doc, Skipped):
        return ("skip", doc.path, doc.reason)
    try:
        return ("ok", document_fields(doc), doc.notes)
    except Exception as exc:  # analysis must never lose the other documents
        return ("skip", doc.path, f"could not be analyzed ({type(exc).__name__}: {exc})")


def prepared(
    paths: list[Path], root: Path, user_dict: str | None, jobs: int
) -> Iterator[tuple[str, object, object]]:
    """Prepare files in a pool of processes (or here, with one job), in order."""
    if jobs <= 1 or len(paths) < 64:
        _init_worker(str(root), user_dict)
        yield from map(prepare, paths)
        return
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs, initializer=_init_worker, initargs=(str(root), user_dict)) as pool:
        yield from pool.imap(prepare, paths, chunksize=CHUNK)


# --- The writer ----------------------------------------------------------------------


def check_corpus(corpus: Path) -> list[Path]:
    """List the corpus's files, or explain why there is nothing to index."""
    if not corpus.is_dir():
        raise CorpusError(f"Corpus folder not found: {corpus}")
    files = list(iter_files(corpus))
    if not files:
        raise CorpusError(f"No Markdown documents (*.md, *.markdown) in {corpus}")
    return files


def add_all(writer, results: Iterable, report: Report, progress: Progress | None,
            manifest: dict, update: bool = False) -> None:
    """Feed prepared documents to the writer, recording skips, notes and the manifest."""
    for kind, a, b in results:
        if kind == "skip":
            report.skipped.append((a, b))
        else:
            doc_id = a["id"]
            if not update and doc_id in manifest:
                report.skipped.append((a["path"], f"same id as {manifest[doc_id][0]}"))
            else:
                (writer.update_document if update else writer.add_document)(**a)
                manifest[doc_id] = [a["path"], a["mtime"], a["size"]]
                report.indexed += 1
                report.notes.extend((a["path"], n) for n in b)
        if progress:
            progress(1)


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
    files = check_corpus(corpus)
    user_dict = str(settings.user_dict.absolute()) if settings.user_dict else None
    dict_hash = use_user_dict(user_dict)
    store = IndexStore(settings.index)
    jobs = jobs or os.cpu_count() or 1
    report = Report("rebuild", index=str(store.root))
    with store.writer_lock(wait=wait, on_wait=on_wait):
        store.cleanup()
        building = store.new_building_dir()
        try:
            ix = whoosh_index.create_in(str(building), build_schema())
            writer = ix.writer(limitmb=WRITER_LIMIT_MB)
            manifest: dict = {}
            progress = progress_factory(len(files)) if progress_factory else None
            try:
                add_all(writer, prepared(files, corpus, user_dict, jobs), report, progress, manifest)
            except BaseException:
                writer.cancel()
                raise
            if report.indexed == 0:
                writer.cancel()
                raise CorpusError(f"No document in {corpus} could be indexed")
            writer.commit()
            ix.close()
            save_manifest(building, manifest)
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
            ).save(building)
            gen = store.publish(building)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        report.generation = gen.name
        store.cleanup()
    report.seconds = time.perf_counter() - started
    return report
