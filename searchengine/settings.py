"""Every tuning value of the engine in one table, each with the reason for its value.

Modules read their values with ``setting(name)`` at import, so the value a module uses
and the reason for it are found here and nowhere else. Names of files, fields and
formats are not tuning and stay with the module that owns them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    """A named value and why it is what it is."""

    name: str
    default: object
    help: str


SETTINGS: tuple[Setting, ...] = (
    # Requests
    Setting("max_per_page", 100, "Results on one page at most: more is a dump, not a page."),
    Setting("max_filter_values", 20, "Values of one filter (tag, author) at most in a request."),
    Setting("max_query_chars", 1000, "Longest query read; longer input is refused, not cut."),
    Setting("max_terms", 64, "Words a query may hold once split: each costs a posting read."),
    Setting("max_depth", 8, "Nesting of parentheses at most, so parsing stays shallow."),
    Setting("min_prefix", 2, "Letters before a '*' at least: one letter stands for too much."),
    Setting(
        "max_pieces", 64, "Words of a Chinese run matched apart; a longer run only as written."
    ),
    Setting("max_expansions", 512, "Words one prefix may stand for in a query."),
    # Ranking
    Setting(
        "field_weights",
        {"title": 4.0, "description": 3.0, "tags_text": 2.0, "body": 1.0},
        "BM25F weights: the title and the description say what a digest is about.",
    ),
    Setting("bm25_k1", 1.2, "BM25 term-frequency saturation (the usual value)."),
    Setting("bm25_b", 0.75, "BM25 length normalisation (the usual value)."),
    Setting("run_weight", 1.0, "A Chinese run held as written, against one word's BM25."),
    Setting("prefix_weight", 1.0, "A prefix match, whatever word completed it."),
    Setting("phrase_weight", 2.0, "A phrase held as written, on top of its words."),
    Setting("near_factor", 1.5, "Boost when the query's words stand together in title or body."),
    Setting("near_slop", 3, "Words apart that still count as standing together."),
    Setting("recency_weight", 0.08, "At most +8% for the newest document: a tie-breaker only."),
    # Cost
    Setting("time_budget", 1.5, "Seconds one search may spend matching before it is refused."),
    Setting("answer_cache", 256, "Answers kept per index snapshot; a new snapshot starts afresh."),
    Setting(
        "ranking_cache", 64, "Whole orders kept per snapshot, for paging (about 8 bytes a match)."
    ),
    Setting(
        "term_cache_bytes",
        8_000_000,
        "Decoded (field, term) postings kept per snapshot, in bytes: hot terms stay, and a "
        "server process stays small.",
    ),
    Setting(
        "run_cache_bytes",
        8_000_000,
        "Document sets of Chinese runs kept per snapshot, in bytes (same reason).",
    ),
    Setting(
        "release_seconds",
        0.1,
        "How often a server drops mapped index pages: it keeps what recent searches touched "
        "(at 0.1 s, 60 MB less under load at 15k documents, for no CPU that shows).",
    ),
    Setting("recheck_seconds", 0.25, "How often a server looks for a new index generation."),
    Setting("inline_limit", 8, "Documents up to which a term's postings sit in the term table."),
    Setting("max_spell_letters", 20, "Longest word offered a spelling correction (cost grows)."),
    Setting("max_spell_words", 8, "Words of one query checked for spelling at most."),
    # Snippets and facets
    Setting("snippet_chars", 200, "Characters of a snippet: two or three lines of a result."),
    Setting("highlight_head_chars", 3000, "Matches are sought here first: long texts cost little."),
    Setting("highlight_scan_chars", 40_000, "And never further: a huge text costs a long one's."),
    Setting("fold_cache", 2048, "Folded texts kept for snippets: results recur across searches."),
    Setting("max_snippet_spans", 64, "Passages weighed for a snippet (the choice is quadratic)."),
    Setting("facet_tags", 100, "Tags listed in the tag facet at most, most frequent first."),
    Setting("facet_authors", 100, "Authors listed in the author facet at most."),
    Setting("facet_months", 1000, "Months in the date histogram at most (the newest kept)."),
)

_VALUES = {s.name: s.default for s in SETTINGS}


def setting(name: str):
    """The value of a setting (KeyError for a name not in the table)."""
    return _VALUES[name]
