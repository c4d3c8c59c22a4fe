"""The live index as readers see it: one searcher per generation, reopened on change."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from whoosh.searching import Searcher

from searchengine import synonyms
from searchengine.chars import CharIndex, open_char_index
from searchengine.dictionary import dictionary_change
from searchengine.errors import IndexIncompatible
from searchengine.facets import FacetTable
from searchengine.mapped import MappedStorage, release
from searchengine.postings import Postings
from searchengine.schema import SCHEMA_VERSION
from searchengine.segmenter import use_user_dict
from searchengine.settings import setting
from searchengine.store import IndexMeta, IndexStore, check_schema
from searchengine.synonyms import SynonymTable

log = logging.getLogger("digest.index")

RECHECK_SECONDS = setting("recheck_seconds")
RELEASE_SECONDS = setting("release_seconds")
OPEN_ATTEMPTS = 3  # reads of a snapshot before an unreadable index is reported


@dataclass
class View:
    """A consistent snapshot: a searcher, its facet table and its metadata."""

    generation: Path
    searcher: Searcher
    facets: FacetTable
    meta: IndexMeta
    # What this snapshot was opened from: the pointer's and the synonyms' stamps, which
    # tell when to reopen, and the Whoosh generation (a feed's ETag names the snapshot).
    stamps: tuple
    whoosh_generation: int
    postings: Postings
    chars: CharIndex
    synonyms: SynonymTable = field(default_factory=SynonymTable)
    hold: int | None = None  # the shared lock that keeps this generation on disk
    cache: OrderedDict = field(default_factory=OrderedDict)  # answers within this snapshot
    rankings: OrderedDict = field(default_factory=OrderedDict)  # whole orders, for paging
    # Searches of one process run side by side; Whoosh's readers and the caches are
    # touched under this lock, the array work runs outside it.
    lock: threading.RLock = field(default_factory=threading.RLock)
    users: int = 0
    retired: bool = False
    maps: list = field(default_factory=list)  # the memory maps behind the snapshot

    def release_pages(self) -> None:
        """Hand the snapshot's mapped pages back to the page cache (see mapped.release)."""
        release(self.maps + self.chars.maps())

    def close(self) -> None:
        """Close the searcher and let the generation go (once no search uses it)."""
        with contextlib.suppress(Exception):
            self.searcher.close()
        if self.hold is not None:
            IndexStore.release(self.hold)
            self.hold = None


class Index:
    """Open the live generation once; reopen when a rebuild or an update lands."""

    def __init__(self, root: str | Path):
        self.store = IndexStore(root)
        self._lock = threading.RLock()
        self._view: View | None = None
        self._checked = 0.0
        self._release_timer: threading.Timer | None = None
        self._failed: tuple[Path, str] | None = None  # the generation that would not open

    def _open(self) -> View:
        # Stamp before reading: a switch that lands while this snapshot opens then
        # shows as stale at the next check, instead of being taken for this one.
        pointer = self.store.pointer_stamp()
        gen = self.store.require_current()
        stamps = (pointer, synonyms.stamp(gen))
        meta = IndexMeta.load(gen)
        check_schema(meta, SCHEMA_VERSION)
        if meta.user_dict:
            with contextlib.suppress(OSError):
                use_user_dict(meta.user_dict)
        try:
            view = self._read_view(gen, meta, stamps)
        except IndexIncompatible as exc:
            self._failed = (gen, str(exc))
            raise
        self._failed = None
        old, self._view = self._view, view
        if old is not None:
            old.retired = True
            if not old.users:
                old.close()
                self.store.try_cleanup()
        return view

    def _read_view(self, gen: Path, meta: IndexMeta, stamps: tuple) -> View:
        """Open a snapshot of the generation, trying again if an update lands meanwhile.

        An update commits into the live generation; a snapshot read in the same moment can
        find a segment it lists merged away. A second read sees the committed state.
        """
        for attempt in range(1, OPEN_ATTEMPTS + 1):
            hold = self.store.hold(gen)
            try:
                return self._snapshot(gen, meta, stamps, hold)
            except Exception as exc:
                self.store.release(hold)
                if attempt == OPEN_ATTEMPTS:
                    raise IndexIncompatible.unreadable(gen, exc) from exc
                time.sleep(0.05)

    @staticmethod
    def _snapshot(gen: Path, meta: IndexMeta, stamps: tuple, hold: int) -> View:
        storage = MappedStorage(gen)
        searcher = storage.open_index().searcher()
        try:
            reader = searcher.reader()
            lock = threading.RLock()
            return View(
                gen,
                searcher,
                FacetTable(reader),
                meta,
                stamps,
                reader.generation(),
                Postings(reader, lock),
                open_char_index(gen, reader, lock=lock),
                synonyms=synonyms.load(gen),
                hold=hold,
                lock=lock,
                maps=storage.maps,
            )
        except Exception:
            searcher.close()
            raise

    def _stale(self, view: View) -> bool:
        if (self.store.pointer_stamp(), synonyms.stamp(view.generation)) != view.stamps:
            return True
        try:
            return not view.searcher.up_to_date()
        except Exception:
            return True

    @contextlib.contextmanager
    def view(self) -> Iterator[View]:
        """Hand out the current snapshot; a switch waits for no search, closing it after."""
        with self._lock:
            now = time.monotonic()
            if self._view is None:
                self._open()
            elif now - self._checked >= RECHECK_SECONDS:
                self._checked = now
                if self._stale(self._view):
                    try:
                        self._open()
                    except Exception as exc:
                        # A half-visible switch: keep serving the old snapshot, and say so.
                        log.warning("could not open the new index generation yet: %s", exc)
            view = self._view
            view.users += 1
        try:
            yield view
        finally:
            with self._lock:
                view.users -= 1
                if view.retired and not view.users:
                    view.close()
                    self.store.try_cleanup()
                if self._release_timer is None:
                    self._release_timer = threading.Timer(RELEASE_SECONDS, self._release_pages)
                    self._release_timer.daemon = True
                    self._release_timer.start()

    def _release_pages(self) -> None:
        """Drop the mapped pages that the searches since the last release touched.

        Timed rather than run by a request, so an idle server lets go of them too.
        """
        with self._lock:
            self._release_timer = None
            view = self._view
        if view is not None and not view.retired:
            view.release_pages()

    def reopen_if_stale(self) -> bool:
        """Open the live generation again if it changed; say whether it did.

        An update merges small segments and deletes their files: a snapshot opened a
        moment before can find a file gone. The search that hits this retries once.
        """
        with self._lock:
            if self._view is None or not self._stale(self._view):
                return False
            self._checked = time.monotonic()
            self._open()
            return True

    def failure(self, gen: Path) -> str | None:
        """Why this process could not open ``gen``, if it tried and failed (for /healthz)."""
        failed = self._failed
        return failed[1] if failed is not None and failed[0] == gen else None

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
            if self._release_timer is not None:
                self._release_timer.cancel()
                self._release_timer = None
            if self._view is not None:
                self._view.retired = True
                if not self._view.users:
                    self._view.close()
                self._view = None


def open_index(root: str | Path) -> Index:
    """Open the index at ``root`` (its live generation is read on first use)."""
    return Index(root)
