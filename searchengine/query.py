"""The query language of the search box, parsed into Whoosh queries.

    words            all must match (Chinese is segmented: 美联储降息 = 美联储 AND 降息)
    a OR b           either (OR binds tighter than the implicit AND)
    -word, NOT word  must not match
    "exact phrase"   words next to each other
    title: tag: author:   scope a word, a phrase or a group to one field
    word*            prefix
    ( … )            grouping

Parsing never fails on odd input: unbalanced quotes and brackets are closed,
stray operators are read as words. Only inputs that would be too costly
(too long, too many terms, too deeply nested) are refused with a message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from whoosh import query as wq

from searchengine import analysis
from searchengine.errors import InvalidQuery
from searchengine.folding import CJK_RUN_RE, fold, fold_chars, has_cjk
from searchengine.schema import GRAM_BOOST, WORD_FIELDS

MAX_QUERY_CHARS = 1000
MAX_TERMS = 64
MAX_DEPTH = 8
MIN_PREFIX = 2

SCOPES = {"title": "title", "tag": "tag", "tags": "tag", "author": "author"}
_LEX = re.compile(r'\s+|-?"[^"]*"?|[()]|[^\s"()]+')
_OPERATOR_ONLY = re.compile(r"^[-*:+|&!^~]+$")


# --- Syntax tree ----------------------------------------------------------------


@dataclass
class Word:
    text: str
    scope: str | None = None
    phrase: bool = False


@dataclass
class Group:
    op: str  # "and" | "or"
    items: list = field(default_factory=list)
    scope: str | None = None


@dataclass
class Neg:
    item: object


@dataclass
class HighlightTerms:
    """What to mark in titles and snippets: analyzed words, CJK strings, prefixes."""

    words: set[str] = field(default_factory=set)
    cjk: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.words or self.cjk or self.prefixes)


@dataclass
class ParsedQuery:
    """A compiled query: the Whoosh query, its relaxed form and what to highlight."""

    text: str
    query: wq.Query | None  # None: the query is empty (browse everything)
    relaxed: wq.Query | None
    highlight: HighlightTerms
    language: str
    plain_words: list[str]
    near: wq.Query | None = None  # optional: ranks words standing together higher


# --- Lexing and parsing ------------------------------------------------------------


def _lex(text: str) -> list[str]:
    return [m.group() for m in _LEX.finditer(text) if not m.group().isspace()]


class _Parser:
    def __init__(self, tokens: list[str]):
        self.tokens = tokens
        self.i = 0
        self.terms = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def peek_next(self) -> str | None:
        return self.tokens[self.i + 1] if self.i + 1 < len(self.tokens) else None

    def take(self) -> str:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Group:
        group = self.sequence(0, None)
        while self.peek() is not None:  # a stray ")" at top level: skip it
            self.take()
            group.items.extend(self.sequence(0, None).items)
        return group

    def sequence(self, depth: int, scope: str | None) -> Group:
        """Parse clauses up to a closing bracket; OR binds adjacent clauses."""
        if depth > MAX_DEPTH:
            raise InvalidQuery(f"The query nests brackets more than {MAX_DEPTH} deep.")
        items: list = []
        while (tok := self.peek()) is not None and tok != ")":
            if tok in ("OR", "|") and items:
                self.take()
                right = self.unary(depth, scope)
                if right is None:
                    continue
                left = items.pop()
                if isinstance(left, Group) and left.op == "or" and left.scope is None:
                    left.items.append(right)
                    items.append(left)
                else:
                    items.append(Group("or", [left, right]))
                continue
            item = self.unary(depth, scope)
            if item is not None:
                items.append(item)
        return Group("and", items, None)

    def unary(self, depth: int, scope: str | None):
        tok = self.peek()
        if tok is None or tok == ")":
            return None
        if tok in ("NOT", "AND", "OR", "|"):
            self.take()
            if tok in ("AND", "OR", "|"):
                return None
            nxt = self.unary(depth, scope)
            return Neg(nxt) if nxt is not None else None
        if tok == "-" and self.peek_next() == "(":
            self.take()
            nxt = self.unary(depth, scope)
            return Neg(nxt) if nxt is not None else None
        if tok.startswith("-") and len(tok) > 1 and not _OPERATOR_ONLY.match(tok):
            self.take()
            self.tokens.insert(self.i, tok[1:])
            nxt = self.unary(depth, scope)
            return Neg(nxt) if nxt is not None else None
        return self.primary(depth, scope)

    def primary(self, depth: int, scope: str | None):
        tok = self.take()
        if tok == "(":
            group = self.sequence(depth + 1, scope)
            if self.peek() == ")":
                self.take()
            return group if group.items else None
        if tok.startswith('"'):
            text = tok[1:-1] if len(tok) > 1 and tok.endswith('"') else tok[1:]
            return self.word(text, scope, phrase=True)
        name, sep, rest = tok.partition(":")
        if sep and name.lower() in SCOPES and scope is None:
            new_scope = SCOPES[name.lower()]
            if rest:
                return self.word(rest, new_scope)
            nxt = self.peek()
            if nxt is None or nxt == ")":
                return None
            if nxt == "(":
                self.take()
                group = self.sequence(depth + 1, new_scope)
                if self.peek() == ")":
                    self.take()
                group.scope = new_scope
                return group if group.items else None
            if nxt.startswith('"'):
                return self.primary(depth, new_scope)
            return self.word(self.take(), new_scope)
        return self.word(tok, scope)

    def word(self, text: str, scope: str | None, phrase: bool = False):
        if not text.strip() or (not phrase and _OPERATOR_ONLY.match(text)):
            return None
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise InvalidQuery(f"The query has more than {MAX_TERMS} terms; shorten it.")
        return Word(text, scope, phrase)


# --- Compiling to Whoosh ------------------------------------------------------------


class _Compiler:
    def __init__(self):
        self.hl = HighlightTerms()
        self.plain: list[str] = []
        self.terms = 0

    def analyze(self, text: str) -> list[str]:
        tokens = analysis.analyze(text)
        self.terms += len(tokens)
        if self.terms > MAX_TERMS:
            raise InvalidQuery(f"The query has more than {MAX_TERMS} words once split; shorten it.")
        return tokens

    def node(self, n, scope: str | None = None, negated: bool = False) -> wq.Query | None:
        if isinstance(n, Neg):
            inner = self.node(n.item, scope, negated=True)
            return wq.Not(inner) if inner is not None else None
        if isinstance(n, Group):
            return self.group(n, n.scope or scope, negated)
        return self.word(n, n.scope or scope, negated)

    def group(self, g: Group, scope: str | None, negated: bool) -> wq.Query | None:
        subs = [self.node(item, scope, negated) for item in g.items]
        subs = [s for s in subs if s is not None]
        if not subs:
            return None
        if g.op == "or":
            return subs[0] if len(subs) == 1 else wq.Or(subs)
        return combine_and(subs)

    def word(self, w: Word, scope: str | None, negated: bool) -> wq.Query | None:
        text = w.text
        if scope in ("tag", "author"):
            return self.key(text, scope, negated)
        fields = ["title"] if scope == "title" else list(WORD_FIELDS)
        gram_field = "title_grams" if scope == "title" else "bigrams"
        if w.phrase:
            return self.phrase(text, fields, gram_field, negated)
        if text.endswith("*") and len(text.rstrip("*")) >= MIN_PREFIX and not has_cjk(text):
            stem = fold(text.rstrip("*"))
            if re.fullmatch(r"[^\W_]+", stem):
                if not negated:
                    self.hl.prefixes.add(stem)
                return wq.Or([wq.Prefix(f, stem) for f in fields])
        if not negated and scope is None and not has_cjk(text):
            self.plain.append(text)
        tokens = self.analyze(text.replace("*", " "))
        alone = len(tokens) == 1
        subs = [self.token(t, fields, gram_field, negated, alone) for t in tokens]
        subs = [s for s in subs if s is not None]
        if not subs:
            return None
        combined = combine_and(subs)
        by_char = fold_chars(text)
        if by_char != fold(text) and CJK_RUN_RE.fullmatch(by_char):
            # OpenCC folded the word as a phrase; also find it as its characters fold alone.
            if not negated:
                self.hl.cjk.add(by_char)
            return wq.Or([combined, gram_query(by_char, gram_field)])
        return combined

    def token(self, tok: str, fields, gram_field, negated: bool, alone: bool = True) -> wq.Query:
        alts: list[wq.Query] = [wq.Term(f, tok) for f in fields]
        if CJK_RUN_RE.fullmatch(tok):
            if not negated:
                self.hl.cjk.add(tok)
            # A single character cut out of a longer query word (的 in 美联储的降息)
            # is left to the word fields: its gram query would match nearly everything.
            if len(tok) > 1 or alone:
                alts.append(gram_query(tok, gram_field))
        elif not negated:
            self.hl.words.add(tok)
        return wq.Or(alts)

    def phrase(self, text: str, fields, gram_field, negated: bool) -> wq.Query | None:
        tokens = self.analyze(text)
        if not tokens:
            return None
        if not negated:
            for t in tokens:
                (self.hl.cjk if CJK_RUN_RE.fullmatch(t) else self.hl.words).add(t)
        if len(tokens) == 1:
            return self.token(tokens[0], fields, gram_field, negated)
        alts: list[wq.Query] = [wq.Phrase(f, tokens) for f in fields]
        folded = "".join(fold(text).split())
        if CJK_RUN_RE.fullmatch(folded):
            if not negated:
                self.hl.cjk.add(folded)
            alts.append(gram_query(folded, gram_field))
        return wq.Or(alts)

    def key(self, text: str, scope: str, negated: bool) -> wq.Query | None:
        field = "tag" if scope == "tag" else "author_key"
        if text.endswith("*") and len(text.rstrip("*")) >= 1:
            return wq.Prefix(field, analysis.facet_key(text.rstrip("*")))
        key = analysis.facet_key(text)
        if not key:
            return None
        if scope == "tag" and not negated:
            for t in analysis.analyze(text):
                (self.hl.cjk if CJK_RUN_RE.fullmatch(t) else self.hl.words).add(t)
        return wq.Term(field, key)


def gram_query(run: str, field: str) -> wq.Query:
    """Match a CJK string anywhere, as a chain of overlapping character pairs.

    A single character matches any pair it starts, or a run's last character.
    """
    if len(run) == 1:
        return wq.Prefix(field, run, boost=GRAM_BOOST)
    pairs = [run[i : i + 2] for i in range(len(run) - 1)]
    if len(pairs) == 1:
        return wq.Term(field, pairs[0], boost=GRAM_BOOST)
    return wq.Phrase(field, pairs, boost=GRAM_BOOST)


def combine_and(subs: list[wq.Query]) -> wq.Query:
    """AND the positive clauses and subtract the negative ones."""
    pos = [s for s in subs if not isinstance(s, wq.Not)]
    neg = [s.query for s in subs if isinstance(s, wq.Not)]
    if not pos:
        base: wq.Query = wq.Every()
    else:
        base = pos[0] if len(pos) == 1 else wq.And(pos)
    if not neg:
        return base
    return wq.AndNot(base, neg[0] if len(neg) == 1 else wq.Or(neg))


PROXIMITY_BOOST = 1.5
PROXIMITY_SLOP = 3


def proximity(words: list[str]) -> wq.Query | None:
    """Score documents higher where the query's words stand together (never required)."""
    if len(words) < 2 or len(words) > 8:
        return None
    alts: list[wq.Query] = [
        wq.Phrase(f, words, slop=PROXIMITY_SLOP, boost=PROXIMITY_BOOST) for f in ("title", "body")
    ]
    joined = "".join(words)
    if CJK_RUN_RE.fullmatch(joined):
        alts.append(gram_query(joined, "bigrams"))
    return wq.Or(alts)


def parse_query(text: str) -> ParsedQuery:
    """Parse the search box's text; an empty or all-stop-word query browses everything."""
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidQuery(f"The query is longer than {MAX_QUERY_CHARS} characters.")
    text = "".join(ch for ch in text if ch.isprintable() or ch in " \t\n")
    tree = _Parser(_lex(text)).parse()
    compiler = _Compiler()
    subs = [compiler.node(item) for item in tree.items]
    subs = [s for s in subs if s is not None]
    q = combine_and(subs) if subs else None
    positives = [s for s in subs if not isinstance(s, wq.Not)]
    relaxed = None
    if len(positives) > 1:
        negs = [s for s in subs if isinstance(s, wq.Not)]
        relaxed = combine_and([wq.Or(positives), *negs])
    near = None
    if q is not None and all(isinstance(i, (Word, Neg)) for i in tree.items):
        words = [
            t
            for i in tree.items
            if isinstance(i, Word) and not i.phrase and i.scope is None
            for t in analysis.analyze(i.text.replace("*", " "))
        ]
        near = proximity(words)
    lang = "zh" if has_cjk(text) else "en"
    return ParsedQuery(text, q, relaxed, compiler.hl, lang, compiler.plain, near)
