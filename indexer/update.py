"""Incremental update of the live generation: only new, changed and deleted files."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from whoosh import index as whoosh_index

from indexer.corpus import SUFFIXES, doc_id, iter_files, relative
from indexer.rebuild import (
    Batch,
    CorpusError,
    apply_synonyms,
    load_manifest,
    save_manifest,
    unique_ids,
    write_documents,
)
from indexer.report import Report
from searchengine import chars, synonyms
from searchengine.analysis import use_user_dict
from searchengine.config import Settings
from searchengine.schema import SCHEMA_VERSION
from searchengine.schema import codec as schema_codec
from searchengine.store import IndexMeta, IndexStore, check_schema, now_iso


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
        user_dict = meta.user_dict
        use_user_dict(user_dict)
        manifest = load_manifest(gen)
        targets = None if paths is None else targeted(paths, corpus, manifest)
        files = list(iter_files(corpus)) if targets is None else targets[0]
        present: dict[str, Path] = {}
        changed: list[Path] = []
        for path in unique_ids(files, corpus, report):
            did = doc_id(path, corpus)
            present[did] = path
            try:
                st = path.stat()
            except OSError:
                changed.append(path)
                continue
            old = manifest.get(did)
            if (
                old
                and old[0] == path.relative_to(corpus).as_posix()
                and old[1] == st.st_mtime
                and old[2] == st.st_size
            ):
                report.unchanged += 1
            else:
                changed.append(path)
        deleted = [did for did in manifest if did not in present] if targets is None else targets[1]
        if synonyms.read_file(corpus).digest != meta.synonyms_hash:
            table = apply_synonyms(corpus, gen, report)  # takes effect at once: no rebuild
            meta.synonyms_hash, meta.synonyms_groups = table.digest, len(table.groups)
            meta.updated_at = now_iso()
            meta.save(gen)
        if not changed and not deleted:
            report.seconds = time.perf_counter() - started
            report.generation = gen.name
            return report
        ix = whoosh_index.open_dir(str(gen))
        writer = ix.writer(compound=False, codec=schema_codec())
        try:
            for did in deleted:
                writer.delete_by_term("id", did)
                manifest.pop(did, None)
                report.removed += 1
            for path in changed:
                writer.delete_by_term("id", doc_id(path, corpus))
            batch = Batch()
            write_documents(writer, changed, corpus, batch)
            for rel, reason in batch.skipped:
                report.skipped.append((rel, reason))
                did = doc_id(corpus / rel, corpus)
                if manifest.pop(did, None) is not None:
                    report.removed += 1
                    report.notes.append((rel, "its previous version was removed from the index"))
            manifest.update(batch.manifest)
            report.indexed = len(batch.manifest)
            report.notes.extend(batch.notes)
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        chars.missing_segments(gen, ix)
        ix.close()
        save_manifest(gen, manifest)
        meta.documents = len(manifest)
        meta.updated_at = now_iso()
        meta.save(gen)
        report.generation = gen.name
    report.seconds = time.perf_counter() - started
    return report


def _document_name(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(SUFFIXES)


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
        if any(os.path.islink(base + os.sep.join(parts[:i])) for i in range(1, len(parts))):
            return None
        if os.path.isdir(path):
            return None
        rel = relative(path, corpus)
        if not _document_name(parts[-1]):
            if folders is None:  # every folder that holds a document, to notice one removed
                folders = {
                    r.rsplit("/", n)[0]
                    for r, *_ in manifest.values()
                    for n in range(1, r.count("/") + 1)
                }
            if rel in folders:
                return None
            continue
        did = doc_id(path, corpus)
        parent = str(path.parent)
        if parent not in listings:
            try:
                names = [n for n in os.listdir(parent) if _document_name(n)]
            except OSError:
                names = []
            listings[parent] = Counter(doc_id(path.parent / n, corpus) for n in names)
        old = manifest.get(did)
        if did in ids or listings[parent][did] > 1 or (old and old[0] != rel):
            return None  # two files with one id: the walk decides which one counts
        ids.add(did)
        if os.path.islink(path):
            return None
        if os.path.lexists(path):
            files.append(path)
        elif old:
            deleted.append(did)
    return files, deleted
