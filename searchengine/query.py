"""The query language of the search box, parsed into a match tree (matching.py runs it).

    words            all must match (a Chinese run as written, or its jieba words apart)
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

from searchengine import analysis
from searchengine.errors import InvalidQuery
from searchengine.folding import CJK_RUN_RE, fold, fold_chars, has_cjk
from searchengine.schema import WORD_FIELDS
from searchengine.settings import setting
from searchengine.synonyms import SynonymTable

MAX_QUERY_CHARS = setting("max_query_chars")
MAX_TERMS = setting("max_terms")
MAX_DEPTH = setting("max_depth")
MIN_PREFIX = setting("min_prefix")
MAX_PIECES = setting("max_pieces")
MAX_EXPANSIONS = setting("max_expansions")

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
    phrases: set[tuple[str, ...]] = field(default_factory=set)  # marked only side by side

    def __bool__(self) -> bool:
        return bool(self.words or self.cjk or self.prefixes or self.phrases)


# --- Match tree: what the compiler produces and searching evaluates -------------------


@dataclass(frozen=True)
class Term:
    """An analyzed word in some word fields (or an exact tag / author key)."""

    fields: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Run:
    """A run of CJK characters, found as written; unquoted, also as its words apart."""

    run: str
    pieces: tuple[str, ...] = ()  # jieba's words of the run; empty: only as written
    title: bool = False
    alternate: str | None = None  # the run folded character by character, when different


@dataclass(frozen=True)
class Prefix:
    """Words of some fields starting with a prefix."""

    fields: tuple[str, ...]
    prefix: str


@dataclass(frozen=True)
class Phrase:
    """Analyzed words next to each other in one of some word fields."""

    fields: tuple[str, ...]
    words: tuple[str, ...]


@dataclass(frozen=True)
class All:
    """Every clause must match."""

    items: tuple


@dataclass(frozen=True)
class Any:
    """At least one clause must match."""

    items: tuple


@dataclass(frozen=True)
class Not:
    """The clause must not match."""

    item: object


Node = Term | Run | Prefix | Phrase | All | Any | Not


@dataclass
class ParsedQuery:
    """A compiled query: its match tree, what to highlight and how to read it."""

    text: str
    root: Node | None  # None: the query is empty (browse everything)
    highlight: HighlightTerms
    language: str
    plain_words: list[str]
    near_words: list[str] = field(default_factory=list)  # ranks words standing together higher
    notice: str | None = None  # said to the reader when the query was read otherwise than typed

    @property
    def positives(self) -> list[Node]:
        """The top-level clauses a document may match some of (for relaxed results).

        A Chinese run counts as its words: 香港龘龘 relaxes to what holds 香港.
        """
        if isinstance(self.root, All):
            items = [n for n in self.root.items if not isinstance(n, Not)]
        else:
            items = [self.root] if self.root is not None and not isinstance(self.root, Not) else []
        out: list[Node] = []
        for n in items:
            if isinstance(n, Run) and n.pieces:
                out.extend(Run(p, (), n.title) for p in n.pieces)
            else:
                out.append(n)
        return out

    @property
    def negatives(self) -> list[Node]:
        """The top-level clauses a document must not match."""
        if isinstance(self.root, All):
            return [n for n in self.root.items if isinstance(n, Not)]
        return [self.root] if isinstance(self.root, Not) else []


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


# --- Compiling to a match tree ---------------------------------------------------------


class _Compiler:
    def __init__(self, synonyms: SynonymTable | None = None):
        self.highlight = HighlightTerms()
        self.plain: list[str] = []
        self.terms = 0
        self.synonyms = synonyms or SynonymTable()

    def expand(self, key: tuple[str, ...], node: Node, fields, negated: bool) -> Node:
        """A term that is a synonym member matches every member of its group."""
        group = self.synonyms.group(key) if self.synonyms else None
        if not group:
            return node
        alts: list[Node] = [node]
        for m in group:
            if m.key == key:
                continue
            if m.cjk:
                alt: Node = Run(m.key[0], (), fields == ("title",))
            elif len(m.key) == 1:
                alt = Term(fields, m.key[0])
            else:
                alt = Phrase(fields, m.key)
            if len(m.key) > 1 and not m.cjk:
                if not negated:  # a synonym phrase is marked where it stands whole
                    self.highlight.phrases.add(m.key)
            else:
                for word in m.key:
                    self.mark(word, negated)
            alts.append(alt)
        return Any(tuple(alts))

    def count(self, n: int) -> None:
        self.terms += n
        if self.terms > MAX_TERMS:
            raise InvalidQuery(f"The query has more than {MAX_TERMS} words once split; shorten it.")

    def node(self, n, scope: str | None = None, negated: bool = False) -> Node | None:
        if isinstance(n, Neg):
            inner = self.node(n.item, scope, negated=True)
            return Not(inner) if inner is not None else None
        if isinstance(n, Group):
            return self.group(n, n.scope or scope, negated)
        return self.word(n, n.scope or scope, negated)

    def group(self, g: Group, scope: str | None, negated: bool) -> Node | None:
        subs = [self.node(item, scope, negated) for item in g.items]
        subs = [s for s in subs if s is not None]
        if not subs:
            return None
        if g.op == "or":
            return subs[0] if len(subs) == 1 else Any(tuple(subs))
        return combine_and(subs)

    def mark(self, text: str, negated: bool) -> None:
        if not negated:
            (self.highlight.cjk if CJK_RUN_RE.fullmatch(text) else self.highlight.words).add(text)

    def word(self, w: Word, scope: str | None, negated: bool) -> Node | None:
        text = w.text
        if scope in ("tag", "author"):
            return self.key(text, scope, negated)
        fields = ("title",) if scope == "title" else tuple(WORD_FIELDS)
        if w.phrase:
            return self.phrase(text, fields, negated)
        head = text.rstrip("*")
        if text.endswith("*") and len(head) == 1 and head.isascii() and head.isalnum():
            raise InvalidQuery(
                f"A prefix needs at least {MIN_PREFIX} letters: {text} stands for too many words."
            )
        if text.endswith("*") and len(head) >= MIN_PREFIX and not has_cjk(text):
            stem = fold(text.rstrip("*"))
            if re.fullmatch(r"[^\W_]+", stem):
                if not negated:
                    self.highlight.prefixes.add(stem)
                self.count(1)
                return Prefix(fields, stem)
        if not negated and scope is None and not has_cjk(text):
            self.plain.append(text)
        subs = []
        for kind, part in _split(text.replace("*", " ")):
            if kind == "cjk":
                subs.append(self.run(part, fields, negated, quoted=False))
                continue
            tokens = analysis.analyze(part)
            self.count(len(tokens))
            for tok in tokens:
                self.mark(tok, negated)
                subs.append(self.expand((tok,), Term(fields, tok), fields, negated))
        subs = [s for s in subs if s is not None]
        return combine_and(subs) if subs else None

    def run(self, raw: str, fields, negated: bool, quoted: bool) -> Run:
        """A CJK run as written (folded), and unless quoted, as its words too."""
        self.count(1)
        run = fold(raw)
        alternate = fold_chars(raw)
        title = fields == ("title",)
        self.mark(run, negated)
        pieces: tuple[str, ...] = ()
        if not quoted:
            words = tuple(dict.fromkeys(analysis.analyze(raw)))
            if 1 < len(words) <= MAX_PIECES:
                pieces = words
                for p in words:
                    self.mark(p, negated)
        if alternate != run and CJK_RUN_RE.fullmatch(alternate):
            self.mark(alternate, negated)
        else:
            alternate = None
        return self.expand((run,), Run(run, pieces, title, alternate), fields, negated)

    def phrase(self, text: str, fields, negated: bool) -> Node | None:
        parts = _split(text)
        if len(parts) == 1 and parts[0][0] == "cjk":
            return self.run(parts[0][1], fields, negated, quoted=True)
        if all(kind == "cjk" for kind, _ in parts) and parts:
            return combine_and([self.run(p, fields, negated, quoted=True) for _, p in parts])
        tokens = analysis.analyze(text)
        if not tokens:
            return None
        self.count(len(tokens))
        for t in tokens:
            self.mark(t, negated)
        if len(tokens) == 1:
            tok = tokens[0]
            if CJK_RUN_RE.fullmatch(tok):
                return self.run(tok, fields, negated, quoted=True)
            return self.expand((tok,), Term(fields, tok), fields, negated)
        return self.expand(tuple(tokens), Phrase(fields, tuple(tokens)), fields, negated)

    def key(self, text: str, scope: str, negated: bool) -> Node | None:
        field_name = "tag" if scope == "tag" else "author_key"
        if text.endswith("*") and len(text.rstrip("*")) >= 1:
            self.count(1)
            return Prefix((field_name,), analysis.facet_key(text.rstrip("*")))
        key = analysis.facet_key(text)
        if not key:
            return None
        self.count(1)
        if scope == "tag":
            for t in analysis.analyze(text):
                self.mark(t, negated)
        return Term((field_name,), key)


def _split(text: str) -> list[tuple[str, str]]:
    """Cut a query word into its CJK runs and the text between them."""
    out = []
    pos = 0
    for m in CJK_RUN_RE.finditer(text):
        if text[pos : m.start()].strip():
            out.append(("other", text[pos : m.start()]))
        out.append(("cjk", m.group()))
        pos = m.end()
    if text[pos:].strip():
        out.append(("other", text[pos:]))
    return out


def combine_and(subs: list) -> Node:
    """AND the clauses, flattening nested ANDs."""
    flat: list = []
    for s in subs:
        flat.extend(s.items if isinstance(s, All) else [s])
    return flat[0] if len(flat) == 1 else All(tuple(flat))


def _multiword_synonyms(compiler: _Compiler, items: list, subs: list) -> list:
    """Words typed one after another that form a multi-word member (Federal Reserve)."""
    table = compiler.synonyms
    if not table or table.longest < 2:
        return subs
    out, i = [], 0
    while i < len(items):
        for n in range(min(table.longest, len(items) - i), 1, -1):
            window = items[i : i + n]
            if not all(
                isinstance(w, Word) and not w.phrase and w.scope is None and not has_cjk(w.text)
                for w in window
            ):
                continue
            key = tuple(t for w in window for t in analysis.analyze(w.text))
            if len(key) == n and table.group(key) and all(s is not None for s in subs[i : i + n]):
                fields = tuple(WORD_FIELDS)
                joined = combine_and(list(subs[i : i + n]))
                out.append(compiler.expand(key, Any((joined, Phrase(fields, key))), fields, False))
                i += n
                break
        else:
            out.append(subs[i])
            i += 1
    return out


def parse_query(text: str, synonyms: SynonymTable | None = None) -> ParsedQuery:
    """Parse the search box's text; an empty or all-stop-word query browses everything.

    With ``synonyms``, a term that is a member of a group matches the whole group.
    """
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidQuery(f"The query is longer than {MAX_QUERY_CHARS} characters.")
    text = "".join(ch for ch in text if ch.isprintable() or ch in " \t\n")
    tree = _Parser(_lex(text)).parse()
    compiler = _Compiler(synonyms)
    subs = [compiler.node(item) for item in tree.items]
    subs = _multiword_synonyms(compiler, tree.items, subs)
    subs = [s for s in subs if s is not None]
    root = combine_and(subs) if subs else None
    if root is not None and all(isinstance(s, Not) for s in subs):
        root = All((*subs,)) if len(subs) > 1 else root
    near: list[str] = []
    if root is not None and all(isinstance(i, (Word, Neg)) for i in tree.items):
        near = [
            t
            for i in tree.items
            if isinstance(i, Word) and not i.phrase and i.scope is None and not has_cjk(i.text)
            for t in analysis.analyze(i.text.replace("*", " "))
        ]
    notice = None
    if root is None and text.strip():
        notice = "Nothing in the query can be searched for, so every document is shown."
    lang = "zh" if has_cjk(text) else "en"
    return ParsedQuery(text, root, compiler.highlight, lang, compiler.plain, near, notice)
