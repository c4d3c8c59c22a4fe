"""What the indexer keeps in a generation beside Whoosh's files: the manifest and synonyms."""

from __future__ import annotations

import json
import os
from pathlib import Path

from indexer.report import Report
from searchengine import synonyms
from searchengine.synonyms import SynonymTable

MANIFEST = "manifest.json"


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


def unchanged(entry: list | None, path: str | Path, rel: str) -> bool:
    """Tell whether a file is as its manifest entry remembers it: same path, time and size."""
    if not entry or entry[0] != rel:
        return False
    try:
        st = os.stat(path)
    except OSError:
        return False
    return entry[1] == st.st_mtime and entry[2] == st.st_size


def apply_synonyms(corpus: Path, gen: Path, report: Report) -> SynonymTable:
    """Store the corpus's synonyms in the generation; report malformed lines."""
    table = synonyms.read_file(corpus)
    synonyms.save(table, gen)
    for line, reason in table.errors:
        report.notes.append((synonyms.FILE_NAME, f"line {line}: {reason}; skipped"))
    if table.digest:
        report.synonyms = table.summary()
    return table
