"""Index generations on disk and the pointer that names the live one.

An index root holds complete generations (``gen-*``), at most one generation
being built (``building-*``), a ``CURRENT`` file naming the live generation,
and a ``.lock`` file that writers hold. A rebuild builds a new generation and
then replaces ``CURRENT`` atomically, so readers always see a whole index.
Readers hold a shared lock on the generation they use; an old generation is
deleted only when no reader holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from searchengine.errors import IndexBusy, IndexIncompatible, IndexMissing

POINTER = "CURRENT"
LOCK = ".lock"
READERS = ".readers"
META = "meta.json"

# Lock descriptors this process holds; forked workers close their copies so that
# a worker outliving a killed parent can never keep the index locked.
HELD_LOCK_FDS: set[int] = set()


@dataclass
class IndexMeta:
    """What a generation was built from, for `indexer status` and `/healthz`."""

    schema_version: int
    built_at: str
    corpus: str
    documents: int = 0
    skipped: int = 0
    seconds: float = 0.0
    segmenter: str = ""
    user_dict: str | None = None
    user_dict_hash: str | None = None
    updated_at: str | None = None
    build: dict = field(default_factory=dict)  # where a rebuild's time went (for benchmarks)
    synonyms_hash: str | None = None
    synonyms_groups: int = 0

    @classmethod
    def load(cls, gen: Path) -> IndexMeta:
        """Read a generation's metadata; a missing or damaged file calls for a rebuild."""
        try:
            data = json.loads((gen / META).read_text(encoding="utf-8"))
            known = {k: data.pop(k) for k in list(data) if k in cls.__dataclass_fields__}
            return cls(**known)
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise IndexIncompatible.unreadable(gen, f"{META}: {exc}") from exc

    def save(self, gen: Path) -> None:
        _atomic_write(gen / META, json.dumps(asdict(self), ensure_ascii=False, indent=1))


def now_iso() -> str:
    """Give the current UTC time as ISO 8601, the form every report uses."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)


class IndexStore:
    """One index root: its generations, its pointer and its writer lock."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).absolute()

    # Readers ---------------------------------------------------------------

    def current(self) -> Path | None:
        """Return the live generation's directory, or None before the first build."""
        try:
            name = (self.root / POINTER).read_text(encoding="utf-8").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        gen = self.root / name
        if not name.startswith("gen-") or "/" in name or not (gen / META).exists():
            return None
        return gen

    def require_current(self) -> Path:
        """Return the live generation or explain how to build one."""
        gen = self.current()
        if gen is None:
            raise IndexMissing(
                f"No index at {self.root}. Build one with: indexer rebuild --index {self.root}"
            )
        return gen

    def pointer_stamp(self) -> tuple[int, int] | None:
        """Cheaply identify the pointer's state, to notice a switch."""
        try:
            st = os.stat(self.root / POINTER)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_ino)

    @staticmethod
    def hold(gen: Path) -> int:
        """Take a shared lock on a generation so no writer deletes it while read."""
        fd = os.open(gen / READERS, os.O_RDONLY | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_SH)
        return fd

    @staticmethod
    def release(fd: int) -> None:
        """Release a generation taken with ``hold``."""
        with contextlib.suppress(OSError):
            os.close(fd)

    # Writers ---------------------------------------------------------------

    @contextlib.contextmanager
    def writer_lock(
        self, wait: float = 0.0, on_wait: Callable[[], None] | None = None
    ) -> Iterator[None]:
        """Hold the one writer lock; wait up to ``wait`` seconds for another writer."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + wait
            told = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise IndexBusy(
                            f"Another indexer is writing to {self.root}; "
                            "try again when it has finished."
                        ) from None
                    if on_wait and not told:
                        on_wait()
                        told = True
                    time.sleep(0.2)
            HELD_LOCK_FDS.add(fd)
            yield
        finally:
            HELD_LOCK_FDS.discard(fd)
            os.close(fd)

    def new_building_dir(self) -> Path:
        """Make a fresh directory for a rebuild, beside the live generation."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.root / f"building-{stamp}-{secrets.token_hex(3)}"
        path.mkdir(parents=True)
        return path

    def publish(self, building: Path) -> Path:
        """Turn a finished build into a generation and make it live atomically."""
        gen = building.with_name("gen-" + building.name.removeprefix("building-"))
        os.rename(building, gen)
        _atomic_write(self.root / POINTER, gen.name + "\n")
        return gen

    def cleanup(self) -> list[str]:
        """Delete unfinished builds and generations that no reader holds (writer lock held)."""
        removed = []
        live = self.current()
        for path in sorted(self.root.iterdir()):
            if (
                path.name.startswith("building-")
                and path.is_dir()
                or (
                    path.name.startswith("gen-")
                    and path.is_dir()
                    and path != live
                    and self._unused(path)
                )
            ):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        for stray in self.root.glob(".*.tmp"):
            stray.unlink(missing_ok=True)
        return removed

    def try_cleanup(self) -> list[str]:
        """Clean up if no writer is at work; never wait for one."""
        try:
            with self.writer_lock(wait=0):
                return self.cleanup()
        except (IndexBusy, OSError):
            return []

    @staticmethod
    def _unused(gen: Path) -> bool:
        try:
            fd = os.open(gen / READERS, os.O_RDONLY | os.O_CREAT, 0o644)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        finally:
            os.close(fd)

    def size_on_disk(self, gen: Path | None = None) -> int:
        """Count the bytes of a generation (the live one by default)."""
        gen = gen or self.require_current()
        return sum(p.stat().st_size for p in gen.rglob("*") if p.is_file())


def forget_inherited_locks() -> None:
    """In a forked worker: close the parent's lock descriptors (the parent keeps its lock)."""
    for fd in list(HELD_LOCK_FDS):
        with contextlib.suppress(OSError):
            os.close(fd)
    HELD_LOCK_FDS.clear()


def check_schema(meta: IndexMeta, expected: int) -> None:
    """Refuse an index built with another schema, with the command that fixes it."""
    if meta.schema_version != expected:
        raise IndexIncompatible(
            f"The index was built with schema version {meta.schema_version}, "
            f"this version of Digest Search needs {expected}. Run: indexer rebuild"
        )
