"""What a rebuild or an update did, for the summary line and `--json`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Report:
    """Counts and problems of one indexing run."""

    action: str
    indexed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    removed: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    index: str = ""
    generation: str = ""
    synonyms: dict | None = None  # hash and group count when the synonyms file was (re)read

    def summary(self) -> str:
        """One line: what was indexed, skipped and fell back, and how long it took."""
        parts = [f"indexed {self.indexed}", f"skipped {len(self.skipped)}"]
        if self.action == "update":
            parts += [f"removed {self.removed}", f"unchanged {self.unchanged}"]
        fallbacks = len({path for path, _ in self.notes})
        if fallbacks:
            parts.append(f"with fallbacks {fallbacks}")
        if self.synonyms is not None:
            parts.append(f"synonyms {self.synonyms['groups']} groups")
        return f"{self.action}: " + ", ".join(parts) + f" in {self.seconds:.1f} s"

    def to_dict(self) -> dict:
        return {
            "action": self.action,
            "indexed": self.indexed,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "notes": [{"path": p, "note": n} for p, n in self.notes],
            "removed": self.removed,
            "unchanged": self.unchanged,
            "seconds": round(self.seconds, 3),
            "index": self.index,
            "generation": self.generation,
            "synonyms": self.synonyms,
        }
