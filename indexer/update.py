"""Incremental update of the live generation: only new, changed and deleted files."""

from __future__ import annotations

import os
import pickle
import struct
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filetables import FileFormatError

from indexer.batch import Batch, write_documents
from indexer.corpus import doc_id, file_paths, files_by_id, is_markdown, relative
from indexer.errors import CorpusError
from indexer.generation import apply_synonyms, load_manifest, save_manifest, unchanged
from indexer.report import Report
from searchengine import chars, synonyms
from searchengine.config import Settings
from searchengine.errors import IndexIncompatible
from searchengine.schema import SCHEMA_VERSION
from searchengine.schema import codec as schema_codec
from searchengine.segmenter import use_user_dict
from searchengine.store import IndexMeta, IndexStore, check_schema, now_iso

# What Whoosh raises on files cut short or overwritten: the index must be rebuilt.
_DAMAGED = (FileFormatError, pickle.UnpicklingError, EOFError, struct.error, IndexError)


def live_index(store: IndexStore, corpus: Path | None) -> tuple[Path, Path, IndexMeta]:
    """The live generation, the corpus it follows (unless ``corpus`` names another) and its
    metadata, or a clear error when either is missing."""
    gen = store.require_current()
    meta = IndexMeta.load(gen)
    check_schema(meta, SCHEMA_VERSION)
    folder = (corpus or Path(meta.corpus)).absolute()
    if not folder.is_dir():
        raise CorpusError(f"Corpus folder not found: {folder}")
    return gen, folder, meta


def update(
    settings: Settings,
    corpus: Path | None = None,
    on_wait: Callable[[], None] | None = None,
    wait: float = 600.0,
    paths: Iterable[str | os.PathLike] | None = None,
) -> Report:
    """Re-index what changed since the last build, comparing each file's time and size.

    The corpus is the one the index was built from unless ``corpus`` names another.
    ``paths`` (from a file watcher) limits the work to those files, when it can tell
    their fate without walking the corpus; the result is what a full walk would give.
    """
    started = time.perf_counter()
    store = IndexStore(settings.index)
    report = Report("update", index=str(store.root))
    with store.writer_lock(wait=wait, on_wait=on_wait):
        gen, corpus, meta = live_index(store, corpus)
        use_user_dict(meta.user_dict)
        manifest = load_manifest(gen)
        changed, deleted = _find_changes(corpus, manifest, paths, report)
        _refresh_synonyms(corpus, gen, meta, report)
        if changed or deleted:
            _write_changes(gen, corpus, manifest, changed, deleted, report)
            meta.documents = len(manifest)
            meta.updated_at = now_iso()
            meta.save(gen)
        report.generation = gen.name
    report.seconds = time.perf_counter() - started
    return report


def _find_changes(
    corpus: Path, manifest: dict, paths: Iterable[str | os.PathLike] | None, report: Report
) -> tuple[list[Path], list[str]]:
    """Sort the corpus into files to (re)index and ids to drop; count the unchanged files.

    Only ``paths`` are looked at when ``targeted`` can tell their fate; else the corpus
    is walked and each file's time and size compared with the manifest.
    """
    targets = None if paths is None else targeted(paths, corpus, manifest)
    files = file_paths(corpus) if targets is None else targets[0]
    present = files_by_id(files, corpus, report)
    changed: list[Path] = []
    for document_id, path in present.items():
        if unchanged(manifest.get(document_id), path, relative(path, corpus)):
            report.unchanged += 1
        else:
            changed.append(Path(path))
    if targets is not None:
        return changed, targets[1]
    return changed, [document_id for document_id in manifest if document_id not in present]


def _refresh_synonyms(corpus: Path, gen: Path, meta: IndexMeta, report: Report) -> None:
    """Store an edited synonyms.txt in the live generation: it takes effect at once."""
    if synonyms.read_file(corpus).digest != meta.synonyms_hash:
        table = apply_synonyms(corpus, gen, report)
        meta.synonyms_hash, meta.synonyms_groups = table.digest, len(table.groups)
        meta.updated_at = now_iso()
        meta.save(gen)


def _write_changes(
    gen: Path,
    corpus: Path,
    manifest: dict,
    changed: list[Path],
    deleted: list[str],
    report: Report,
) -> None:
    """Drop the deleted and changed documents, add the changed files again, commit."""
    try:
        ix = whoosh_index.open_dir(str(gen))
        writer = ix.writer(compound=False, codec=schema_codec())
    except _DAMAGED as exc:  # a damaged table of contents or segment list
        raise IndexIncompatible.unreadable(gen, exc) from exc
    try:
        for document_id in deleted:
            writer.delete_by_term("id", document_id)
            manifest.pop(document_id, None)
            report.removed += 1
        for path in changed:
            writer.delete_by_term("id", doc_id(path, corpus))
        batch = Batch()
        write_documents(writer, changed, corpus, batch)
        _account(batch, corpus, manifest, report)
        writer.commit()
    except _DAMAGED as exc:  # a segment the commit merges cannot be read
        writer.cancel()
        raise IndexIncompatible.unreadable(gen, exc) from exc
    except BaseException:
        writer.cancel()
        raise
    chars.missing_segments(gen, ix)
    ix.close()
    save_manifest(gen, manifest)


def _account(batch: Batch, corpus: Path, manifest: dict, report: Report) -> None:
    """Bring the manifest and report up to date; a skipped file loses its old version."""
    for rel, reason in batch.skipped:
        report.skipped.append((rel, reason))
        if manifest.pop(doc_id(corpus / rel, corpus), None) is not None:
            report.removed += 1
            report.notes.append((rel, "its previous version was removed from the index"))
    manifest.update(batch.manifest)
    report.indexed = len(batch.manifest)
    report.notes.extend(batch.notes)


def targeted(
    paths: Iterable[str | os.PathLike], corpus: Path, manifest: dict
) -> tuple[list[Path], list[str]] | None:
    """Sort changed paths into files to read and ids to drop; None when only a walk can tell.

    A walk is needed for folders (moved, created or deleted whole), for anything reached
    through a symlink (the walk reads each file once, by its direct path) and for two
    files that share an id (``a.md`` and ``a.markdown``). Hidden and non-Markdown paths
    are not documents and change nothing.
    """
    base = str(corpus).rstrip(os.sep) + os.sep
    files: list[Path] = []
    deleted: list[str] = []
    ids: set[str] = set()
    folders: set[str] | None = None
    listings: dict[str, Counter[str]] = {}  # ids of the Markdown files in a folder
    for raw in dict.fromkeys(os.path.abspath(p) for p in paths):
        if not raw.startswith(base):
            continue  # not in the corpus
        path = Path(raw)
        parts = raw[len(base) :].split(os.sep)
        if any(part.startswith(".") for part in parts):
            continue
        if _through_a_symlink(base, parts) or os.path.isdir(path):
            return None
        rel = relative(path, corpus)
        if not is_markdown(parts[-1]):
            if folders is None:
                folders = _document_folders(manifest)
            if rel in folders:
                return None  # a folder of documents was removed
            continue
        document_id = doc_id(path, corpus)
        old = manifest.get(document_id)
        in_folder = _ids_in_folder(path.parent, corpus, listings)
        if document_id in ids or in_folder[document_id] > 1 or (old and old[0] != rel):
            return None  # two files with one id: the walk decides which one counts
        ids.add(document_id)
        if os.path.islink(path):
            return None
        if os.path.lexists(path):
            files.append(path)
        elif old:
            deleted.append(document_id)
    return files, deleted


def _through_a_symlink(base: str, parts: list[str]) -> bool:
    """Tell whether a path below the corpus passes through a symlinked folder."""
    return any(os.path.islink(base + os.sep.join(parts[:i])) for i in range(1, len(parts)))


def _document_folders(manifest: dict) -> set[str]:
    """Every folder that holds a document, to notice one removed whole."""
    return {r.rsplit("/", n)[0] for r, *_ in manifest.values() for n in range(1, r.count("/") + 1)}


def _ids_in_folder(folder: Path, corpus: Path, listings: dict[str, Counter[str]]) -> Counter:
    """Count the ids of a folder's Markdown files, listing each folder once."""
    key = str(folder)
    if key not in listings:
        try:
            names = [n for n in os.listdir(folder) if is_markdown(n)]
        except OSError:
            names = []
        listings[key] = Counter(doc_id(folder / n, corpus) for n in names)
    return listings[key]
