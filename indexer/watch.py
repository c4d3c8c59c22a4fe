"""`indexer watch`: keep the live index current while the corpus folder changes.

watchfiles (inotify on Linux) reports file-system events. A batch closes ``STEP_MS``
after the last event, or at most ``DEBOUNCE_MS`` after its first, so an editor's save
(a temp file renamed over the original) is one change and a `git pull` of hundreds of
files is one batch. Each batch is one ``update()`` limited to the paths it touched: the
writer lock is held only while that batch is written, so an `indexer update` or
`rebuild` from another shell waits a moment at most, and each batch goes to whichever
generation is live when it is written.

The first Ctrl-C (or SIGTERM, SIGHUP) stops after the current batch; a second one
abandons it, which cancels the Whoosh writer so the index keeps its last complete state.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import watchfiles

from indexer.errors import CorpusError
from indexer.report import Report
from indexer.update import live_index, update
from searchengine.analysis import analyze
from searchengine.config import USER_DICT_NAME, Settings
from searchengine.dictionary import dictionary_change
from searchengine.errors import IndexBusy
from searchengine.store import IndexMeta, IndexStore
from searchengine.synonyms import FILE_NAME as SYNONYMS_NAME

STEP_MS = 250  # a batch closes this long after its last event...
DEBOUNCE_MS = 1000  # ...or this long after its first, whichever comes first
IDLE_MS = 500  # how often an idle watcher wakes (to notice a stop request)
BUSY_RETRY_S = 0.2  # how often a batch tries again while another indexer writes

Say = Callable[[str], None]


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Abandoned(KeyboardInterrupt):
    """A second stop signal arrived during a batch: unwind so the writer is cancelled."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@dataclass
class Changes:
    """One batch of events, sorted by what each asks for."""

    paths: set[str] = field(default_factory=set)
    user_dict: bool = False
    synonyms: bool = False


def sort_events(events: Iterable[tuple[object, str]], corpus: Path) -> Changes:
    """Split events into document paths and the two files at the corpus root."""
    changes = Changes()
    for _, raw in events:
        if raw == str(corpus / USER_DICT_NAME):
            changes.user_dict = True
        elif raw == str(corpus / SYNONYMS_NAME):
            changes.synonyms = True
        else:
            changes.paths.add(raw)
    return changes


def event_filter(corpus: Path, index_root: Path) -> Callable[[object, str], bool]:
    """Drop events the index can never care about: hidden paths and the index's own files."""
    base = str(corpus).rstrip("/") + "/"
    index_base = str(index_root).rstrip("/") + "/"

    def keep(_change: object, raw: str) -> bool:
        if raw.startswith(index_base) or not raw.startswith(base):
            return False
        return not any(part.startswith(".") for part in raw[len(base) :].split("/"))

    return keep


class _StopRequest:
    """What the stop signals asked for; a signal handler, so it only sets flags."""

    def __init__(self, say: Say) -> None:
        self.event = threading.Event()
        self.busy = False  # a batch is being applied
        self.say = say

    def __call__(self, signum: int, frame: object) -> None:
        if self.busy and self.event.is_set():
            raise Abandoned(signum)
        if self.busy:
            self.say("stopping after the current batch (send the signal again to abandon it)…")
        self.event.set()


@contextlib.contextmanager
def _stop_signals(say: Say) -> Iterator[_StopRequest]:
    """Turn SIGINT, SIGTERM and SIGHUP into a stop request for the watch loop."""
    stop = _StopRequest(say)
    signums = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    previous = {s: signal.signal(s, stop) for s in signums}
    try:
        yield stop
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def check(store: IndexStore, corpus: Path | None) -> tuple[Path, IndexMeta]:
    """Refuse to start without a live index and a corpus folder, as `indexer update` does."""
    _, folder, meta = live_index(store, corpus)
    return folder, meta


def batch_line(report: Report, changes: Changes | None = None) -> str:
    """Say in one line what a batch did to the index."""
    parts = [f"{report.indexed} indexed", f"{report.removed} removed"]
    if report.skipped:
        parts.append(f"{len(report.skipped)} skipped")
    if report.synonyms is not None:
        parts.append(f"{SYNONYMS_NAME} applied ({report.synonyms['groups']} groups)")
    elif changes is not None and changes.synonyms:
        parts.append(f"{SYNONYMS_NAME} changed")
    return "updated: " + ", ".join(parts) + f" in {report.seconds:.1f} s"


class _Watcher:
    """The state of one watch run: where to write, what was said, what is due."""

    def __init__(self, settings: Settings, corpus: Path, say: Say, stop: _StopRequest):
        self.settings = settings
        self.corpus = corpus
        self.say = say
        self.stop = stop
        self.shown: dict[str, str] = {}  # skipped path -> reason already said
        self.walk_due = True  # the first batch, and any after a failed one, walks the corpus

    def apply(self, changes: Changes) -> None:
        """Write one batch, waiting (but not for ever) while another indexer writes."""
        paths = None if self.walk_due else changes.paths  # update() rereads synonyms.txt anyway
        for raw in changes.paths:
            with contextlib.suppress(ValueError):
                self.shown.pop(Path(raw).relative_to(self.corpus).as_posix(), None)
        told = False
        self.stop.busy = True
        try:
            while True:
                try:
                    report = update(self.settings, corpus=self.corpus, wait=0, paths=paths)
                    break
                except IndexBusy:
                    if not told:
                        self.say("another indexer is writing to the index; waiting for it…")
                        told = True
                    if self.stop.event.is_set():
                        return  # nothing was written; the next start catches up
                    time.sleep(BUSY_RETRY_S)
                except OSError as exc:
                    where = f" ({exc.filename})" if exc.filename else ""
                    self.say(f"error: this batch failed{where}: {exc.strerror or exc}; retrying")
                    self.walk_due = True
                    return
        finally:
            self.stop.busy = False
        self.walk_due = False
        self._tell(report, changes)

    def _tell(self, report: Report, changes: Changes) -> None:
        new_skips = [(p, r) for p, r in report.skipped if self.shown.get(p) != r]
        if report.indexed or report.removed or new_skips or changes.synonyms:
            self.say(batch_line(report, changes))
        for path, reason in new_skips:
            self.shown[path] = reason
            self.say(f"skipped: {path}: {reason}")
        for path, note in report.notes:
            self.say(f"note: {path}: {note}")

    def dictionary(self, when: str) -> None:
        """Say that a changed user dictionary needs a rebuild, which an update cannot do."""
        store = IndexStore(self.settings.index)
        change = dictionary_change(IndexMeta.load(store.require_current()))
        if change:
            self.say(
                f"rebuild due ({when}): {change}; it changes how words are cut, which only "
                "a rebuild applies. Run: "
                f"indexer rebuild --corpus {self.corpus} --index {store.root}"
            )
        elif when == "changed":
            self.say(f"{USER_DICT_NAME} matches the dictionary of this index: no rebuild needed")


def watch(settings: Settings, corpus: Path | None = None, say: Say = _say) -> None:
    """Apply every change in the corpus folder to the live index until asked to stop."""
    store = IndexStore(settings.index)
    corpus, _ = check(store, corpus)
    analyze("美联储宣布降息 warm up")  # load the segmenter now, not in the first batch
    with _stop_signals(say) as stop:
        watcher = _Watcher(settings, corpus, say, stop)
        events = watchfiles.watch(
            corpus,
            watch_filter=event_filter(corpus, store.root),
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            rust_timeout=IDLE_MS,
            yield_on_timeout=True,
            stop_event=stop.event,
            raise_interrupt=False,
            ignore_permission_denied=True,
        )
        started = False
        try:
            for raw in events:
                if stop.event.is_set():
                    break
                if not started:  # the watch is set up: catch up with changes made before it
                    watcher.apply(Changes())
                    watcher.dictionary("since the last build")
                    say(f"watching {corpus} (index {store.root}); Ctrl-C stops")
                    started = True
                    continue
                changes = sort_events(raw, corpus)
                if changes.user_dict:
                    watcher.dictionary("changed")
                if changes.paths or changes.synonyms:
                    watcher.apply(changes)
                if stop.event.is_set():
                    break
        except OSError as exc:  # from the watcher, e.g. the inotify watch limit
            raise CorpusError(
                f"Cannot watch {corpus}: {exc} (on Linux, see fs.inotify.max_user_watches)"
            ) from None
    say("stopped; the index is complete and unlocked")
