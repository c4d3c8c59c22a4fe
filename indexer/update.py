"""Incremental update of the live generation: only new, changed and deleted files."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from whoosh import index as whoosh_index

from indexer.corpus import doc_id, iter_files
from indexer.rebuild import (
    Batch,
    CorpusError,
    load_manifest,
    save_manifest,
    unique_ids,
    write_documents,
)
from indexer.report import Report
from searchengine import chars
from searchengine.analysis import use_user_dict
from searchengine.config import Settings
from searchengine.schema import SCHEMA_VERSION
from searchengine.schema import codec as schema_codec
from searchengine.store import IndexMeta, IndexStore, check_schema, now_iso


def update(
    settings: Settings,
    corpus: Path | None = None,
    on_wait: Callable[[], None] | None = None,
    wait: float = 600.0,
) -> Report:
    """Re-index what changed since the last build, comparing each file's time and size.

    The corpus is the one the index was built from unless ``corpus`` names another.
    """
    started = time.perf_counter()
    store = IndexStore(settings.index)
    report = Report("update", index=str(store.root))
    with store.writer_lock(wait=wait, on_wait=on_wait):
        gen = store.require_current()
        meta = IndexMeta.load(gen)
        check_schema(meta, SCHEMA_VERSION)
        corpus = (corpus or Path(meta.corpus)).absolute()
        if not corpus.is_dir():
            raise CorpusError(f"Corpus folder not found: {corpus}")
        user_dict = meta.user_dict
        use_user_dict(user_dict)
        manifest = load_manifest(gen)
        present: dict[str, Path] = {}
        changed: list[Path] = []
        for path in unique_ids(list(iter_files(corpus)), corpus, report):
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
        deleted = [did for did in manifest if did not in present]
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
