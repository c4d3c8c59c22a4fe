"""A hostile corpus: every kind of file that must not crash, hang or leak the indexer.

``write_hostile_corpus(root, outside)`` writes, beside a few normal digests:

- ``links/passwd.md``: a symlink to /etc/passwd (outside the corpus): skipped.
- ``links/secret.md``: a symlink to a digest outside the corpus: skipped.
- ``links/outside-folder``: a symlinked folder outside the corpus: skipped, never walked.
- ``links/alias.md``: a symlink to a normal digest in the corpus: that digest is read once.
- ``links/inside-folder``: a symlinked folder inside the corpus: its files are read once.
- ``normal/back``: a symlink to the corpus root (a folder loop): harmless.
- ``links/loop.md``, ``links/loop-a.md``: a symlink to itself, two symlinks to each other.
- ``links/dangling.md``: a symlink to a missing file: skipped.
- ``special/zero.md``: a symlink to /dev/zero: skipped, never opened.
- ``special/fifo.md``: a FIFO: skipped, never opened (an open would block forever).
- ``special/socket.md``: a Unix socket (when the path is short enough to bind): skipped.
- ``special/device.md``: a character device like /dev/zero (only when run as root): skipped.
- ``yaml/bomb.md``: 551 bytes of YAML aliases that expand to 10⁹ items: skipped.
- ``yaml/huge-front-matter.md``: 300 KB of front matter: skipped.
- ``size/too-big.md``: 3 MB, over SIZE_LIMIT: skipped when the limit is given.
- ``size/large.md``: 1.5 MB, under SIZE_LIMIT: indexed, only its first part (noted).
- ``markdown/brackets.md``: 250 KB of nested `[` link openers: indexed, first part only.
- ``markdown/emphasis.md``: 250 KB of `*_` emphasis openers: indexed, first part only.
- ``markdown/blockquotes.md``: a 250 KB line of `>` (nested blockquotes): indexed, first part.
- ``markdown/heading.md``: no title and a 250 KB heading line of `#`: indexed.
- ``names/line\\nbreak.md``: a newline in the file name: skipped.
- ``names/bad-\\xff.md``: a file name that is not UTF-8: skipped.
- ``dates/year-0001.md``, ``dates/year-9999.md``: placeholder dates: indexed without a date.
- ``broken/empty.md``: an empty file: skipped.
- ``broken/invalid-utf8.md``: bytes that are neither UTF-8 nor GB18030: skipped.
- ``encodings/gbk.md``: a digest saved as GBK: indexed.
"""

from __future__ import annotations

import os
import socket
import stat
from dataclasses import dataclass, field
from pathlib import Path

SIZE_LIMIT = 2 * 1024 * 1024  # pass as --max-file-size 2MB (or max_bytes=SIZE_LIMIT)
SECRET = "zyxsecretword"  # only in files outside the corpus
BEYOND_CAP = "qqbeyondthecap"  # only after the indexed part of size/large.md
NORMAL = {  # id: a word only that digest holds
    "normal/fed": "alphaunique",
    "normal/chips": "bravounique",
    "normal/sub/weather": "charlieunique",
    "normal/港股": "deltaunique",
}
PATHOLOGICAL = 250_000


@dataclass(frozen=True)
class Entry:
    """One hostile file and what the indexer must do with it."""

    path: str  # as reports show it (control characters escaped)
    outcome: str  # "skipped" (listed with reason), "indexed" (safely), or "absent"
    reason: str = ""  # a part of the skip reason, or of a note when indexed


@dataclass
class HostileCorpus:
    """What was written, for tests to check against."""

    root: Path
    outside: Path
    normal: dict[str, str] = field(default_factory=lambda: dict(NORMAL))
    entries: list[Entry] = field(default_factory=list)

    def expected(self, outcome: str) -> list[Entry]:
        """The entries with the given outcome."""
        return [e for e in self.entries if e.outcome == outcome]


def _digest(title: str, body: str, date: str = "2024-07-19", extra: str = "") -> str:
    return f"---\ntitle: {title}\ndate: {date}\ntags: [test]\n{extra}---\n\n{body}\n"


def _write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def _bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]")
    return "---\ntitle: bomb\n" + "\n".join(lines) + "\n---\n\nbody\n"


def write_hostile_corpus(root: Path, outside: Path, markdown: bool = True) -> HostileCorpus:
    """Write the hostile corpus into root (and its targets into outside), return what to expect.

    ``markdown=False`` leaves out the pathological Markdown files, the slow ones to index.
    """
    root, outside = Path(root), Path(outside)
    hc = HostileCorpus(root, outside)
    add = hc.entries.append

    for did, word in NORMAL.items():
        _write(root / f"{did}.md", _digest(f"Normal {word}", f"正常的文章。\n\nA normal {word}."))
    _write(outside / "secret.md", _digest("Secret", f"{SECRET} must never be indexed."))
    _write(outside / "folder" / "inner.md", _digest("Inner", f"{SECRET} in a folder."))

    links = root / "links"
    links.mkdir()
    os.symlink("/etc/passwd", links / "passwd.md")
    add(Entry("links/passwd.md", "skipped", "outside the corpus"))
    os.symlink(outside / "secret.md", links / "secret.md")
    add(Entry("links/secret.md", "skipped", "outside the corpus"))
    os.symlink(outside / "folder", links / "outside-folder")
    add(Entry("links/outside-folder", "skipped", "folder outside the corpus"))
    os.symlink("../normal/fed.md", links / "alias.md")
    add(Entry("links/alias.md", "absent"))
    os.symlink("../normal/sub", links / "inside-folder")
    add(Entry("links/inside-folder/weather.md", "absent"))
    os.symlink("..", root / "normal" / "back")
    add(Entry("normal/back/normal/fed.md", "absent"))
    os.symlink("loop.md", links / "loop.md")
    add(Entry("links/loop.md", "skipped", "symlink loop"))
    os.symlink("loop-b.md", links / "loop-a.md")
    os.symlink("loop-a.md", links / "loop-b.md")
    add(Entry("links/loop-a.md", "skipped", "symlink loop"))
    add(Entry("links/loop-b.md", "skipped", "symlink loop"))
    os.symlink("missing.md", links / "dangling.md")
    add(Entry("links/dangling.md", "skipped", "broken symlink"))

    special = root / "special"
    special.mkdir()
    os.symlink("/dev/zero", special / "zero.md")
    add(Entry("special/zero.md", "skipped", "outside the corpus"))
    os.mkfifo(special / "fifo.md")
    add(Entry("special/fifo.md", "skipped", "FIFO"))
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(special / "socket.md"))
        add(Entry("special/socket.md", "skipped", "socket"))
    except OSError:
        pass  # the path is too long for a Unix socket here
    try:
        os.mknod(special / "device.md", stat.S_IFCHR | 0o600, os.makedev(1, 5))
        add(Entry("special/device.md", "skipped", "device"))
    except (PermissionError, OSError):
        pass  # not root

    _write(root / "yaml" / "bomb.md", _bomb())
    add(Entry("yaml/bomb.md", "skipped", "aliases"))
    fields = "".join(f"field{n}: {'x' * 60}\n" for n in range(300 * 1024 // 70))
    _write(root / "yaml" / "huge-front-matter.md", _digest("Huge", "body", extra=fields))
    add(Entry("yaml/huge-front-matter.md", "skipped", "front matter is larger"))

    line = "The quick brown fox jumps over the lazy dog, again and again and again.\n"
    _write(root / "size" / "too-big.md", _digest("Too big", line * (3 * 1024 * 1024 // len(line))))
    add(Entry("size/too-big.md", "skipped", "larger than the 2 MB limit"))
    body = "largefilestart\n\n" + line * (1_500_000 // len(line)) + BEYOND_CAP + "\n"
    _write(root / "size" / "large.md", _digest("Large", body))
    add(Entry("size/large.md", "indexed", "only the first part"))

    if markdown:
        n = PATHOLOGICAL
        _write(root / "markdown" / "brackets.md", _digest("Brackets", "[" * n + "x" + "](y)" * 3))
        add(Entry("markdown/brackets.md", "indexed", "only the first part"))
        _write(root / "markdown" / "emphasis.md", _digest("Emphasis", "*_" * (n // 2) + "x"))
        add(Entry("markdown/emphasis.md", "indexed", "only the first part"))
        _write(root / "markdown" / "blockquotes.md", _digest("Quotes", ">" * n + " deep"))
        add(Entry("markdown/blockquotes.md", "indexed", "only the first part"))
        heading = "---\ndate: 2024-07-19\n---\n# " + "#" * n + "x\n"
        _write(root / "markdown" / "heading.md", heading)
        add(Entry("markdown/heading.md", "indexed", "no title"))

    names = root / "names"
    names.mkdir()
    _write(names / "line\nbreak.md", _digest("Line break", "body"))
    add(Entry("names/line\\nbreak.md", "skipped", "line break"))
    with open(os.path.join(os.fsencode(names), b"bad-\xff.md"), "wb") as f:
        f.write(_digest("Bad name", "body").encode("utf-8"))
    add(Entry("names/bad-\\xff.md", "skipped", "not valid UTF-8"))

    _write(root / "dates" / "year-0001.md", _digest("Year one", "body", date="0001-01-01"))
    add(Entry("dates/year-0001.md", "indexed", "implausible date"))
    _write(root / "dates" / "year-9999.md", _digest("Year 9999", "body", date="9999-12-31"))
    add(Entry("dates/year-9999.md", "indexed", "implausible date"))

    _write(root / "broken" / "empty.md", b"")
    add(Entry("broken/empty.md", "skipped", "empty"))
    _write(root / "broken" / "invalid-utf8.md", b"---\ntitle: x\n---\n\xff\xfe\xfd\x80\x81")
    add(Entry("broken/invalid-utf8.md", "skipped", "not valid UTF-8 or GB18030"))
    _write(root / "encodings" / "gbk.md", _digest("GBK 编码", "简体中文的正文。").encode("gbk"))
    add(Entry("encodings/gbk.md", "indexed"))
    return hc
