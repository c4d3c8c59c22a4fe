"""A brute-force oracle for the search engine: generated corpora, queries and their answers.

The oracle never uses the engine's tokenizer or segmenter. It folds raw text with
``searchengine.folding.fold`` (NFKC, Traditional to Simplified, lower case), finds
Chinese runs as plain substrings, and English words with a regular expression,
compared through Porter2 stems. Every query node evaluates to a pair of document
sets ``(must, may)``: the engine must return every document of ``must`` and nothing
outside ``may``. For most of the language the two are equal (an exact answer); they
differ only where the contract leaves room (a phrase across two paragraphs, a prefix
that matches a word's stem but not the word as written).
"""

from __future__ import annotations

import datetime as dt
import html
import random
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from whoosh.analysis import STOP_WORDS
from whoosh.lang.porter2 import stem

from searchengine.folding import fold, fold_chars

# --- Vocabulary -----------------------------------------------------------------------

# (Simplified, Traditional) pairs; OpenCC folds each Traditional form to its Simplified one.
ZH_WORDS: tuple[tuple[str, str], ...] = (
    ("美联储", "美聯儲"),
    ("降息", "降息"),
    ("立法会", "立法會"),
    ("人工智能", "人工智能"),
    ("芯片", "芯片"),
    ("香港", "香港"),
    ("经济", "經濟"),
    ("市场", "市場"),
    ("访问", "訪問"),
    ("文件", "文件"),
    ("简单", "簡單"),
    ("易用", "易用"),
    ("安装", "安裝"),
    ("数据", "數據"),
    ("银行", "銀行"),
    ("利率", "利率"),
    ("通胀", "通脹"),
    ("选举", "選舉"),
    ("发布", "發佈"),
    ("政府", "政府"),
    ("新闻", "新聞"),
    ("发展", "發展"),
    ("问题", "問題"),
)
ZH_CHARS: tuple[tuple[str, str], ...] = (
    ("的", "的"),
    ("了", "了"),
    ("在", "在"),
    ("港", "港"),
    ("市", "市"),
    ("美", "美"),
    ("易", "易"),
    ("单", "單"),
    ("会", "會"),
    ("发", "發"),
)
EN_WORDS: tuple[str, ...] = (
    "rate",
    "rates",
    "rating",
    "Rates",
    "cut",
    "cuts",
    "cutting",
    "market",
    "markets",
    "chip",
    "chips",
    "file",
    "files",
    "access",
    "accessed",
    "bank",
    "banks",
    "simple",
    "inflation",
    "Fed",
    "GPU",
    "GPUs",
    "LLM",
    "LLMs",
    "AI",
    "ＡＩ",
    "ＧＰＵ",
    "ｒａｔｅｓ",
    "policy",
    "policies",
    "install",
    "installed",
)
STOP: tuple[str, ...] = ("the", "of", "and", "in", "to")
# Markup-like text, never first in a field; "<b>" only in titles (the body strips tags).
HOSTILE: tuple[str, ...] = ("<", ">", "&", '"quoted"', "<b>")
BODY_HOSTILE = HOSTILE[:-1]
ACRONYMS = frozenset({"gpu", "llm", "ai"})
TAGS: tuple[str, ...] = ("AI", "ＡＩ", "ai", "economy", "Economy", "香港", "經濟", "经济", "chips")
AUTHORS: tuple[str, ...] = ("ft", "FT", "xinhua", "Reuters", "新华社", "新華社")
FOLDERS: tuple[str, ...] = ("a", "b/c", "新闻")

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_RUN = re.compile(f"[{HAN}]+")
_TOKEN = re.compile(f"(?P<han>[{HAN}]+)|(?P<word>[^\\W\\d_{HAN}]+)")
BLOCK = "\x00"  # a Chinese run between English words: it keeps them from being adjacent


def key(word: str) -> str | None:
    """The equivalence class of an English word: Porter2 stem; an acronym's plural, written
    in capitals (GPUs, ＧＰＵs), is the acronym."""
    w = fold(word)
    if w in STOP_WORDS:
        return None
    written = unicodedata.normalize("NFKC", word)
    if w.endswith("s") and w[:-1] in ACRONYMS and written[:-1].isupper():
        return w[:-1]
    return stem(w)


def facet_key(value: str) -> str:
    """A tag or author as a reader matches it: folded, spaces collapsed."""
    return " ".join(fold(value).split())


_ACRONYM_PLURAL = re.compile(r"(?<![A-Za-z0-9])([A-Z][A-Z0-9]*[A-Z])s(?![A-Za-z0-9])")


def tokens(text: str) -> list[str]:
    """English words (folded, unstemmed; GPUs written in capitals as gpu) in order, with
    BLOCK for each Chinese run."""
    plurals = {
        m.group(1).lower() + "s"
        for m in _ACRONYM_PLURAL.finditer(unicodedata.normalize("NFKC", text))
    }
    out = []
    for m in _TOKEN.finditer(fold(text)):
        if m.lastgroup == "han":
            out.append(BLOCK)
        elif m.group() in plurals:
            out.append(m.group()[:-1])
        elif m.group() not in STOP_WORDS:
            out.append(m.group())
    return out


# --- Documents ------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    """One generated digest, with its raw fields as written and its UTC date."""

    id: str
    title: str
    description: str
    tags: tuple[str, ...]
    author: str | None
    paragraphs: tuple[str, ...]
    date: object  # what the front matter says (None: no date)
    utc: dt.datetime | None

    def __repr__(self) -> str:
        return f"Doc({self.id!r}, title={self.title!r})"

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def text(self) -> str:
        """Everything a reader sees (the author too), one field per line so no run crosses
        a field."""
        fields = [self.title, self.description, " ".join(self.tags), *self.paragraphs]
        return "\n".join([*fields, self.author or ""])

    @property
    def folded(self) -> str:
        return fold(self.text)

    @property
    def folded_chars(self) -> str:
        return fold_chars(self.text)

    def holds_run(self, run: str) -> bool:
        """Whether the document holds the Chinese run contiguously, after folding."""
        return fold(run) in self.folded or fold_chars(run) in self.folded_chars

    def holds_chars(self, run: str) -> bool:
        """Whether every character of the run occurs somewhere in the document."""
        return all(c in self.folded or c in self.folded_chars for c in fold(run))

    def segments(self) -> list[str]:
        """Texts inside which English words are adjacent: title, description, paragraphs."""
        return [self.title, self.description, *self.paragraphs]

    def word_keys(self, title_only: bool = False) -> set[str]:
        texts = [self.title] if title_only else [*self.segments(), " ".join(self.tags)]
        return {k for t in texts for w in tokens(t) if w != BLOCK and (k := key(w))}

    def words(self) -> set[str]:
        texts = [*self.segments(), " ".join(self.tags)]
        return {w for t in texts for w in tokens(t) if w != BLOCK}

    @property
    def tag_keys(self) -> set[str]:
        return {k for t in self.tags if (k := facet_key(t))}

    @property
    def author_key(self) -> str | None:
        return facet_key(self.author) if self.author else None

    @property
    def ts(self) -> float | None:
        return self.utc.timestamp() if self.utc else None

    def snippet(self, needle: str = "", width: int = 40) -> str:
        """A short piece of the folded text around ``needle`` (or its start), for messages."""
        text = " ".join(self.folded.split())
        at = text.find(fold(needle)) if needle else 0
        at = max(0, at - width // 2) if at >= 0 else 0
        return text[at : at + width * 2]


def _is_latin(ch: str) -> bool:
    f = fold(ch)
    return f.isascii() and f.isalnum()


def _join(items: list[str], rng: random.Random) -> str:
    """Concatenate vocabulary items: Chinese may run together, Latin words need a space."""
    out = ""
    for item in items:
        if out and (
            item in HOSTILE
            or out.endswith(HOSTILE)
            or (_is_latin(out[-1]) and _is_latin(item[0]))
            or rng.random() < 0.3
        ):
            out += " "
        out += item
    return out


def _item(rng: random.Random, english: float) -> str:
    if rng.random() < english:
        return rng.choice(EN_WORDS) if rng.random() < 0.85 else rng.choice(STOP)
    pool = ZH_WORDS if rng.random() < 0.8 else ZH_CHARS
    simp, trad = rng.choice(pool)
    return trad if rng.random() < 0.3 else simp


def _phrase(rng: random.Random, lo: int, hi: int, english: float, hostile: tuple[str, ...]) -> str:
    items = [_item(rng, english) for _ in range(rng.randint(lo, hi))]
    if hostile and len(items) > 1 and rng.random() < 0.25:
        items.insert(rng.randint(1, len(items)), rng.choice(hostile))
    return " ".join(_join(items, rng).split())


_T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _date(rng: random.Random) -> tuple[object, dt.datetime | None]:
    """A front-matter date in one of several shapes, and the UTC instant it means."""
    shape = rng.random()
    if shape < 0.15:
        return None, None
    day = _T0 + dt.timedelta(days=rng.randint(0, 90))
    if shape < 0.45:
        return day.date().isoformat(), day
    if shape < 0.55:
        return day.date(), day
    if shape < 0.65:
        return day.strftime("%Y/%m/%d"), day
    at = day + dt.timedelta(hours=rng.randint(0, 23), minutes=rng.choice((0, 30)))
    if shape < 0.8:
        return at.strftime("%Y-%m-%dT%H:%M:%SZ"), at
    local = at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    return local.isoformat(), at


def generate_doc(rng: random.Random, i: int) -> Doc:
    """Make one small bilingual digest from the vocabulary."""
    folder = rng.choice(FOLDERS)
    paragraphs = tuple(
        _phrase(rng, 3, 12, english=rng.choice((0.1, 0.5, 0.9)), hostile=BODY_HOSTILE)
        for _ in range(rng.randint(1, 3))
    )
    date, utc = _date(rng)
    return Doc(
        id=f"{folder}/d{i:03d}",
        title=_phrase(rng, 1, 4, english=0.3, hostile=HOSTILE),
        description=_phrase(rng, 1, 5, english=0.5, hostile=()) if rng.random() < 0.4 else "",
        tags=tuple(rng.sample(TAGS, rng.randint(0, 3))),
        author=rng.choice(AUTHORS) if rng.random() < 0.9 else None,
        paragraphs=paragraphs,
        date=date,
        utc=utc,
    )


def generate_corpus(seed: int, n: int) -> list[Doc]:
    """A reproducible corpus of ``n`` digests."""
    rng = random.Random(seed)
    return [generate_doc(rng, i) for i in range(n)]


def write_corpus(docs: list[Doc], root: Path) -> Path:
    """Write the digests as Markdown files with YAML front matter (as tests/conftest.py does)."""
    for doc in docs:
        meta: dict = {"title": doc.title}
        if doc.date is not None:
            meta["date"] = doc.date
        if doc.description:
            meta["description"] = doc.description
        meta["tags"] = list(doc.tags)
        if doc.author is not None:
            meta["author"] = doc.author
        head = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
        path = root / f"{doc.id}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\n{head}---\n\n{doc.body}\n", encoding="utf-8")
    return root


def build_index(docs: list[Doc], root: Path):
    """Write the corpus under ``root`` and index it; return the open index."""
    from indexer.rebuild import rebuild
    from searchengine.config import Settings
    from searchengine.index import open_index

    corpus = write_corpus(docs, root / "corpus")
    index_dir = root / "index"
    rebuild(Settings.resolve(corpus, index_dir), jobs=1)
    return open_index(index_dir)


# --- Queries ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the engine must return (``must``) and may return (``may``)."""

    must: frozenset[str]
    may: frozenset[str]

    @staticmethod
    def exact(ids) -> Answer:
        ids = frozenset(ids)
        return Answer(ids, ids)


@dataclass(frozen=True)
class Node:
    """A query-language clause: renders to text and evaluates against documents."""

    def render(self) -> str:
        raise NotImplementedError

    def answer(self, docs: list[Doc]) -> Answer:
        raise NotImplementedError

    def positive(self) -> list[Node]:
        """The clauses a highlight may mark."""
        return [self]


@dataclass(frozen=True)
class Word(Node):
    text: str
    title: bool = False

    def render(self) -> str:
        return f"title:{self.text}" if self.title else self.text

    def answer(self, docs):
        k = key(self.text)
        return Answer.exact(d.id for d in docs if k in d.word_keys(self.title))


@dataclass(frozen=True)
class Run(Node):
    """A Chinese run, quoted (found exactly as written) or not (its words, contiguous first)."""

    text: str
    quoted: bool = True

    def render(self) -> str:
        return f'"{self.text}"' if self.quoted else self.text

    def answer(self, docs):
        held = frozenset(d.id for d in docs if d.holds_run(self.text))
        if self.quoted:
            return Answer(held, held)
        return Answer(held, frozenset(d.id for d in docs if d.holds_chars(self.text)))


@dataclass(frozen=True)
class Phrase(Node):
    """Two or more English words next to each other once stop words are dropped."""

    words: tuple[str, ...]

    def render(self) -> str:
        return '"' + " ".join(self.words) + '"'

    def answer(self, docs):
        want = [key(w) for w in self.words if key(w)]
        must, may = set(), set()
        for d in docs:
            seqs = [[key(w) if w != BLOCK else BLOCK for w in tokens(t)] for t in d.segments()]
            if any(_adjacent(s, want) for s in seqs):
                must.add(d.id)
                continue
            # Tolerated: the words adjacent across a paragraph or tag boundary.
            tag_seq = [key(w) for t in d.tags for w in tokens(t) if w != BLOCK]
            ends = [s[-1:] for s in seqs if s]
            starts = [s[:1] for s in seqs if s]
            joined = [tag_seq] + [a + b for a in ends for b in starts]
            if any(_adjacent(s, want) for s in joined):
                may.add(d.id)
        return Answer(frozenset(must), frozenset(must | may))


def _adjacent(seq: list, want: list) -> bool:
    n = len(want)
    return any(seq[i : i + n] == want for i in range(len(seq) - n + 1))


@dataclass(frozen=True)
class Prefix(Node):
    stem: str

    def render(self) -> str:
        return f"{self.stem}*"

    def answer(self, docs):
        p = fold(self.stem)
        must = {d.id for d in docs if any(w.startswith(p) for w in d.words())}
        may = {d.id for d in docs if any((key(w) or w).startswith(p) for w in d.words())}
        return Answer(frozenset(must), frozenset(must | may))


@dataclass(frozen=True)
class Tag(Node):
    value: str

    def render(self) -> str:
        return f"tag:{self.value}"

    def answer(self, docs):
        return Answer.exact(d.id for d in docs if facet_key(self.value) in d.tag_keys)


@dataclass(frozen=True)
class Author(Node):
    value: str

    def render(self) -> str:
        return f"author:{self.value}"

    def answer(self, docs):
        return Answer.exact(d.id for d in docs if d.author_key == facet_key(self.value))


@dataclass(frozen=True)
class Not(Node):
    item: Node
    style: str = "-"  # "-" or "NOT "

    def render(self) -> str:
        return f"{self.style}{self.item.render()}"

    def answer(self, docs):
        inner = self.item.answer(docs)
        every = frozenset(d.id for d in docs)
        return Answer(every - inner.may, every - inner.must)

    def positive(self):
        return []


@dataclass(frozen=True)
class Or(Node):
    items: tuple[Node, ...]

    def render(self) -> str:
        return " OR ".join(i.render() for i in self.items)

    def answer(self, docs):
        answers = [i.answer(docs) for i in self.items]
        return Answer(
            frozenset().union(*(a.must for a in answers)),
            frozenset().union(*(a.may for a in answers)),
        )

    def positive(self):
        return [p for i in self.items for p in i.positive()]


@dataclass(frozen=True)
class And(Node):
    items: tuple[Node, ...] = field(default_factory=tuple)

    def render(self) -> str:
        return " ".join(i.render() for i in self.items)

    def answer(self, docs):
        every = frozenset(d.id for d in docs)
        must, may = every, every
        for i in self.items:
            a = i.answer(docs)
            must, may = must & a.must, may & a.may
        return Answer(must, may)

    def positive(self):
        return [p for i in self.items for p in i.positive()]


def han_runs(doc: Doc) -> list[str]:
    """The Chinese runs of a document as written (Traditional where it wrote Traditional)."""
    return [
        m.group()
        for text in [doc.title, doc.description, *doc.tags, *doc.paragraphs]
        for m in HAN_RUN.finditer(text)
    ]


# --- Checking the engine's answers --------------------------------------------------------


def describe(ids, docs: list[Doc], needle: str = "", limit: int = 5) -> str:
    """List ids with a folded snippet of each document, for failure messages."""
    by_id = {d.id: d for d in docs}
    lines = [f"    {i}: {by_id[i].snippet(needle)!r}" for i in sorted(ids)[:limit]]
    if len(ids) > limit:
        lines.append(f"    … and {len(ids) - limit} more")
    return "\n".join(lines)


def compare(query: str, got: set[str], want: Answer, docs: list[Doc], needle: str = "") -> str:
    """Say what is missing or extra, or '' when the engine's answer is within the oracle's."""
    missing = want.must - got
    extra = got - want.may
    if not missing and not extra:
        return ""
    parts = [
        f"query {query!r} over {len(docs)} documents: engine found {len(got)}, "
        f"oracle says {len(want.must)}" + ("" if want.must == want.may else f"–{len(want.may)}")
    ]
    if missing:
        parts.append(f"  missing {len(missing)}:\n{describe(missing, docs, needle)}")
    if extra:
        parts.append(f"  extra {len(extra)}:\n{describe(extra, docs, needle)}")
    return "\n".join(parts)


def facet_counts(ids, docs: list[Doc]) -> dict[str, Counter]:
    """Tag, author and month counts over a set of documents, by folded key."""
    by_id = {d.id: d for d in docs}
    tags, authors, months = Counter(), Counter(), Counter()
    for i in ids:
        d = by_id[i]
        tags.update(d.tag_keys)
        if d.author_key:
            authors[d.author_key] += 1
        if d.utc:
            months[d.utc.strftime("%Y-%m")] += 1
    return {"tags": tags, "author": authors, "date": months}


_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def mark_problems(fragment: str, allowed: HighlightAllowance) -> list[str]:
    """What is wrong with one highlighted HTML fragment: raw markup, or marks on unmatched text."""
    problems = []
    bare = fragment.replace("<mark>", "").replace("</mark>", "")
    if "<" in bare or ">" in bare:
        problems.append(f"unescaped markup in {fragment!r}")
    for m in _MARK.finditer(fragment):
        marked = html.unescape(m.group(1))
        if not allowed.justifies(marked):
            problems.append(f"<mark>{marked}</mark> matches nothing the query asked for")
    return problems


@dataclass
class HighlightAllowance:
    """The folded terms a query may mark: word keys, Chinese runs and prefixes."""

    keys: set[str] = field(default_factory=set)
    runs: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, node: Node) -> HighlightAllowance:
        allow = cls()
        for p in node.positive():
            if isinstance(p, Word):
                allow.keys.add(key(p.text) or "")
            elif isinstance(p, Phrase):
                allow.keys.update(k for w in p.words if (k := key(w)))
            elif isinstance(p, Prefix):
                allow.prefixes.add(fold(p.stem))
            elif isinstance(p, Run):
                allow.runs.update({fold(p.text), fold_chars(p.text)})
            elif isinstance(p, Tag):
                for m in _TOKEN.finditer(fold(p.value)):
                    if m.lastgroup == "han":
                        allow.runs.add(m.group())
                    elif k := key(m.group()):
                        allow.keys.add(k)
        return allow

    def justifies(self, marked: str) -> bool:
        folded = fold(marked)
        rest = _TOKEN.sub(" ", folded)
        if rest.strip():
            return False  # punctuation inside a mark
        for m in _TOKEN.finditer(folded):
            piece = m.group()
            if m.lastgroup == "han":
                if not _coverable(piece, self.runs) and not _coverable(
                    fold_chars(piece), self.runs
                ):
                    return False
            elif not (
                key(piece) in self.keys
                or _written_plural(marked, piece) in self.keys
                or any(
                    piece.startswith(p) or (key(piece) or "").startswith(p) for p in self.prefixes
                )
            ):
                return False
        return True


def _written_plural(marked: str, piece: str) -> str | None:
    """The acronym a folded word stands for when the mark wrote it as a capitalised plural
    (the mark 'GPUs' folds to 'gpus', whose key is 'gpu' only as written)."""
    if not piece.endswith("s") or piece[:-1] not in ACRONYMS:
        return None
    written = unicodedata.normalize("NFKC", marked)
    plural = re.escape(piece[:-1].upper()) + "s"
    return piece[:-1] if re.search(rf"(?<![A-Za-z0-9]){plural}(?![A-Za-z0-9])", written) else None


def _coverable(text: str, runs: set[str]) -> bool:
    """Whether ``text`` splits into pieces that each occur inside one of ``runs``."""
    ok = [True] + [False] * len(text)
    for i in range(len(text)):
        if ok[i]:
            for j in range(i + 1, len(text) + 1):
                if any(text[i:j] in r for r in runs):
                    ok[j] = True
    return ok[-1]
