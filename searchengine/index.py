"""The live index as readers see it: one searcher per generation, reopened on change."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.searching import Searcher

from searchengine.analysis import use_user_dict
from searchengine.chars import CharIndex, open_char_index
from searchengine.dictionary import dictionary_change
from searchengine.errors import IndexIncompatible
from searchengine.facets import FacetTable
from searchengine.postings import Postings
from searchengine.schema import SCHEMA_VERSION
from searchengine.store import IndexMeta, IndexStore, check_schema

RECHECK_SECONDS = 0.25


@dataclass
class View:
    """A consistent snapshot: a searcher, its facet table and its metadata."""

    generation: Path
    searcher: Searcher
    facets: FacetTable
    meta: IndexMeta
    token: tuple
    postings: Postings
    chars: CharIndex
    cache: OrderedDict = field(default_factory=OrderedDict)  # answers within this snapshot
    rankings: OrderedDict = field(default_factory=OrderedDict)  # whole orders, for paging


class Index:
    """Open the live generation once; reopen when a rebuild or an update lands."""

    def __init__(self, root: str | Path):
        self.store = IndexStore(root)
        self._lock = threading.RLock()
        self._view: View | None = None
        self._hold: int | None = None
        self._checked = 0.0
        self.generation_changes = 0

    def _open(self) -> View:
        gen = self.store.require_current()
        meta = IndexMeta.load(gen)
        check_schema(meta, SCHEMA_VERSION)
        if meta.user_dict:
            with contextlib.suppress(OSError):
                use_user_dict(meta.user_dict)
        hold = self.store.hold(gen)
        try:
            ix = whoosh_index.open_dir(str(gen))
            searcher = ix.searcher()
        except Exception as exc:
            self.store.release(hold)
            raise IndexIncompatible(
                f"The index at {gen} cannot be read ({exc}). Run: indexer rebuild"
            ) from exc
        try:
            reader = searcher.reader()
            view = View(
                gen,
                searcher,
                FacetTable(reader),
                meta,
                self._token(gen, searcher),
                Postings(reader),
                open_char_index(gen, reader),
            )
        except Exception as exc:
            searcher.close()
            self.store.release(hold)
            raise IndexIncompatible(
                f"The index at {gen} cannot be read ({exc}). Run: indexer rebuild"
            ) from exc
        old_hold, self._hold = self._hold, hold
        if self._view is not None:
            with contextlib.suppress(Exception):
                self._view.searcher.close()
            self.generation_changes += 1
        if old_hold is not None:
            self.store.release(old_hold)
            self.store.try_cleanup()
        self._view = view
        return view

    def _token(self, gen: Path, searcher: Searcher) -> tuple:
        return (gen.name, self.store.pointer_stamp(), searcher.reader().generation())

    def _stale(self, view: View) -> bool:
        if self.store.pointer_stamp() != view.token[1]:
            return True
        try:
            return not view.searcher.up_to_date()
        except Exception:
            return True

    @contextlib.contextmanager
    def view(self) -> Iterator[View]:
        """Hand out the current snapshot; searches hold the lock while they read."""
        with self._lock:
            now = time.monotonic()
            if self._view is None:
                self._open()
            elif now - self._checked >= RECHECK_SECONDS:
                self._checked = now
                if self._stale(self._view):
                    try:
                        self._open()
                    except Exception:
                        # A half-visible switch: keep serving the old snapshot.
                        pass
            yield self._view

    def meta(self) -> IndexMeta:
        """Describe the live generation (documents, when built, from what)."""
        with self.view() as v:
            return v.meta

    def health(self) -> dict:
        """Summarise the live index for /healthz and `indexer status`."""
        with self.view() as v:
            meta = v.meta
            documents = v.searcher.doc_count()
            generation = v.generation.name
        return {
            "status": "ok",
            "documents": documents,
            "built_at": meta.built_at,
            "updated_at": meta.updated_at,
            "generation": generation,
            "corpus": meta.corpus,
            "user_dict": meta.user_dict,
            "user_dict_changed": dictionary_change(meta) is not None,
        }

    def close(self) -> None:
        """Release the searcher and the generation it holds."""
        with self._lock:
            if self._view is not None:
                with contextlib.suppress(Exception):
                    self._view.searcher.close()
                self._view = None
            if self._hold is not None:
                self.store.release(self._hold)
                self._hold = None


def open_index(root: str | Path) -> Index:
    """Open the index at ``root`` (its live generation is read on first use)."""
    return Index(root)
