"""'Did you mean': a corrected query when an English word is unknown to the index."""

from __future__ import annotations

import re

from searchengine import analysis
from searchengine.index import View
from searchengine.query import ParsedQuery
from searchengine.schema import WORD_FIELDS
from searchengine.settings import setting

_WORD = re.compile(r"[A-Za-z]{3,}")
MAX_SPELL = setting("max_spell_letters")
MAX_SPELL_WORDS = setting("max_spell_words")


def suggest(view: View, parsed: ParsedQuery, q: str) -> str | None:
    """Offer a corrected query when an English word is unknown to the index."""
    # Only words a person could have mistyped: the corrector's cost grows with length.
    words = [w for text in parsed.plain_words for w in _WORD.findall(text) if len(w) <= MAX_SPELL]
    words = list(dict.fromkeys(words))[:MAX_SPELL_WORDS]
    if not words:
        return None
    reader = view.searcher.reader()
    corrector = None
    fixed = q
    changed = False
    for word in words:
        low = word.lower()
        if low in analysis.STOP_WORDS or reader.doc_frequency("spell", low) > 0:
            continue
        stemmed = analysis.analyze(low)
        if stemmed and any(reader.doc_frequency(f, stemmed[0]) for f in WORD_FIELDS):
            continue  # an inflection of a word the index has (cuts, chips)
        corrector = corrector or view.searcher.corrector("spell")
        options = corrector.suggest(low, limit=1, maxdist=1 if len(low) <= 5 else 2, prefix=1)
        if options and options[0] != low:
            fixed = re.sub(rf"\b{re.escape(word)}\b", options[0], fixed)
            changed = True
    return fixed if changed else None
