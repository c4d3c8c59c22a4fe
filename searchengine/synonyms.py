"""Bilingual synonyms: groups of equivalent terms, expanded when a query is read.

``synonyms.txt`` at the corpus root holds one group per line, members separated
by commas, any mix of Chinese and English, members of several words allowed::

    # the Fed
    美联储, 美聯儲, Fed, Federal Reserve

A query term that is a member matches every member of its group. Members are
folded and analyzed like queries (Traditional and Simplified, widths, English
inflections), so ``美聯儲`` and ``feds`` find the group too. The table lives in
each index generation (``synonyms.json``), written by ``indexer rebuild`` and
``indexer update``: editing the file needs no rebuild.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from searchengine import analysis
from searchengine.folding import CJK_RUN_RE, fold

FILE_NAME = "synonyms.txt"
STORED = "synonyms.json"
MAX_GROUPS = 10_000
MAX_MEMBERS = 32  # per group: a query term expands to at most this many alternatives


@dataclass(frozen=True)
class Member:
    """One member of a group, as the query compiler looks it up and expands it."""

    text: str  # as written in the file
    key: tuple[str, ...]  # its analyzed words (a CJK member: its folded run)
    cjk: bool  # a run of CJK characters, found as written


@dataclass(eq=False)
class SynonymTable:
    """The groups of one synonyms file and where each member leads (one per file hash)."""

    groups: list[list[Member]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    digest: str | None = None
    _by_key: dict[tuple[str, ...], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, group in enumerate(self.groups):
            for m in group:
                self._by_key.setdefault(m.key, i)

    def __bool__(self) -> bool:
        return bool(self.groups)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SynonymTable) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def group(self, key: tuple[str, ...]) -> list[Member] | None:
        """The group a member key belongs to, or None."""
        i = self._by_key.get(key)
        return None if i is None else self.groups[i]

    @property
    def longest(self) -> int:
        """The most words in one member (for multi-word lookups)."""
        return max((len(k) for k in self._by_key), default=0)

    def summary(self) -> dict:
        """Hash and group count, for `indexer status` and /healthz."""
        return {"hash": self.digest, "groups": len(self.groups), "errors": len(self.errors)}


def member(text: str) -> Member | None:
    """Read one member: a CJK run stays whole, other text is analyzed like a query."""
    text = " ".join(text.split())
    folded = fold(text)
    if CJK_RUN_RE.fullmatch(folded):
        return Member(text, (folded,), True)
    words = tuple(analysis.analyze(text))
    return Member(text, words, False) if words else None


def parse(text: str) -> SynonymTable:
    """Parse a synonyms file; a malformed line is reported with its number and skipped."""
    groups: list[list[Member]] = []
    errors: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in line.replace("，", ",").replace("、", ",").split(",")]
        parts = [p for p in parts if p]
        if len(parts) < 2:
            errors.append((number, "a group needs at least two members separated by commas"))
            continue
        members, bad = [], []
        for p in parts:
            m = member(p)
            (members.append(m) if m else bad.append(p))
        if bad:
            errors.append((number, f"nothing searchable in {', '.join(map(repr, bad))}"))
            continue
        unique = list({m.key: m for m in members}.values())
        if len(unique) < 2:
            errors.append((number, "the members are all the same term"))
            continue
        if len(unique) > MAX_MEMBERS:
            errors.append((number, f"more than {MAX_MEMBERS} members"))
            continue
        if len(groups) >= MAX_GROUPS:
            errors.append((number, f"more than {MAX_GROUPS} groups"))
            break
        groups.append(unique)
    return SynonymTable(groups, errors, hashlib.sha256(text.encode("utf-8")).hexdigest()[:16])


def read_file(corpus: str | os.PathLike) -> SynonymTable:
    """Read the corpus root's synonyms file (an empty table when there is none)."""
    path = Path(corpus) / FILE_NAME
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return SynonymTable()
    return parse(data.decode("utf-8-sig", errors="replace"))


def save(table: SynonymTable, gen: str | os.PathLike) -> None:
    """Store the table in an index generation (atomically)."""
    data = {
        "hash": table.digest,
        "groups": [[m.text for m in g] for g in table.groups],
        "errors": table.errors,
    }
    path = Path(gen) / STORED
    tmp = path.with_name(f".{STORED}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def load(gen: str | os.PathLike) -> SynonymTable:
    """Load a generation's table (empty when it has none)."""
    try:
        data = json.loads((Path(gen) / STORED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return SynonymTable()
    groups = [[m for t in g if (m := member(t))] for g in data.get("groups", [])]
    errors = [tuple(e) for e in data.get("errors", [])]
    return SynonymTable(groups, errors, data.get("hash"))


def stamp(gen: str | os.PathLike) -> int | None:
    """Cheaply identify the stored table's version, to notice an update."""
    try:
        return os.stat(Path(gen) / STORED).st_mtime_ns
    except OSError:
        return None
