"""One file into one Document (or a Skipped with its reason): contract §1 and §5."""

from __future__ import annotations

import datetime as dt
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from indexer.corpus import doc_id, iter_files
from indexer.parsing import (
    MAX_BODY_CHARS,
    MAX_TITLE_CHARS,
    BrokenFile,
    Skipped,
    decode,
    normalize_tags,
    parse_date,
    parse_file,
)
from searchengine.config import ENV_MAX_FILE_SIZE
from searchengine.document import Document

UTC = dt.UTC
SHARED = Path(__file__).resolve().parents[3] / "shared" / "corpus"


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.fixture
def read(tmp_path, write_doc):
    """Write a digest under tmp_path and parse it back."""

    def _read(relpath: str = "doc.md", **kw) -> Document | Skipped:
        return parse_file(write_doc(tmp_path, relpath, **kw), tmp_path)

    return _read


# --- Dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-07-19T04:00:47.838Z", utc(2024, 7, 19, 4, 0, 47, 838000)),
        ("2024-07-19", utc(2024, 7, 19)),
        (dt.date(2024, 7, 19), utc(2024, 7, 19)),
        ("2024/07/19", utc(2024, 7, 19)),
        ("July 19, 2024", utc(2024, 7, 19)),
        ("19 July 2024", utc(2024, 7, 19)),
        ("2024年7月19日", utc(2024, 7, 19)),
        ("2024.07.19", utc(2024, 7, 19)),
        ("Fri, 19 Jul 2024 04:00:47 GMT", utc(2024, 7, 19, 4, 0, 47)),
        ("2024-07-19 12:00:00+08:00", utc(2024, 7, 19, 4)),
        (
            dt.datetime(2024, 7, 19, 12, tzinfo=dt.timezone(dt.timedelta(hours=8))),
            utc(2024, 7, 19, 4),
        ),
        (dt.datetime(2024, 7, 19, 12), utc(2024, 7, 19, 12)),
        (1721361647, utc(2024, 7, 19, 4, 0, 47)),
        ("  2024-07-19  ", utc(2024, 7, 19)),
    ],
)
def test_date_shapes_become_utc(value, expected):
    result = parse_date(value)
    assert result == expected
    assert result.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        *(None, "", "not a date", "Jul 19", "2024-13-45", "0000-00-00", True, 2024, [], "明天"),
        *("0001-01-01", dt.date(1, 1, 1), "9999-12-31", dt.date(9999, 12, 31), "1899-12-31"),
        "9999-12-31T23:00:00-05:00",  # no UTC form at all
    ],
)
def test_unreadable_dates_are_none(value):
    assert parse_date(value) is None


def test_partial_dates_do_not_depend_on_today():
    assert parse_date("2024-07") in (None, utc(2024, 7, 1))
    assert parse_date("2024") in (None, utc(2024, 1, 1))


@pytest.mark.parametrize(
    ("front_matter_date", "expected"),
    [
        ("date: 2024-07-19T04:00:47.838Z", utc(2024, 7, 19, 4, 0, 47, 838000)),
        ("date: 2024-07-19", utc(2024, 7, 19)),
        ("date: '2024-07-19'", utc(2024, 7, 19)),
        ("date: 2024/07/19", utc(2024, 7, 19)),
        ("date: July 19, 2024", utc(2024, 7, 19)),
        ("date: 2024-07-19 12:00:00 +08:00", utc(2024, 7, 19, 4)),
    ],
)
def test_front_matter_dates(read, front_matter_date, expected):
    doc = read(raw=f"---\ntitle: T\n{front_matter_date}\n---\nbody\n")
    assert doc.date == expected
    assert doc.notes == []


def test_unreadable_date_keeps_the_document_and_says_so(read):
    doc = read(date="sometime soon")
    assert isinstance(doc, Document)
    assert doc.date is None
    assert any("unreadable date" in n and "sometime soon" in n for n in doc.notes)


@pytest.mark.parametrize(
    "value", ["2025-02-30", "2025-13-01", "2025-01-01T25:00:00Z", "0000-01-01", "2025-02-30 10:00"]
)
def test_an_impossible_unquoted_date_keeps_the_document_and_says_so(read, value):
    doc = read(raw=f"---\ntitle: T\ndate: {value}\nseen: {value}\n---\nbody\n")
    assert isinstance(doc, Document), doc
    assert doc.date is None
    assert any("unreadable date" in n for n in doc.notes), doc.notes


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "'0001-01-01'", "1899-06-30"])
def test_placeholder_dates_keep_the_document_without_a_date(read, value):
    doc = read(raw=f"---\ntitle: T\ndate: {value}\n---\nbody\n")
    assert isinstance(doc, Document)
    assert doc.date is None
    assert any(n.startswith("implausible date") for n in doc.notes), doc.notes


def test_the_plausible_years_start_in_1900_and_end_next_year():
    assert parse_date("1900-01-01") == utc(1900, 1, 1)
    next_year = dt.datetime.now(UTC).year + 1
    assert parse_date(f"{next_year}-12-31") == utc(next_year, 12, 31)
    assert parse_date(f"{next_year + 1}-01-01") is None


def test_missing_date_is_noted(read):
    doc = read(date=None)
    assert doc.date is None
    assert doc.notes == ["no date"]


# --- Tags --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["us", "Economy"], ["us", "Economy"]),
        ("us, Economy", ["us", "Economy"]),
        ("香港，政治、选举", ["香港", "政治", "选举"]),
        ("us", ["us"]),
        ("", []),
        (None, []),
        ([], []),
        ([" ", ""], []),
        ([2024, 7], ["2024", "7"]),
        (2024, ["2024"]),
        (["  Hong   Kong  "], ["Hong Kong"]),
        (["AI", "ai", "ＡＩ", " ai "], ["AI"]),
        (["x", None, {"k": 1}, ["nested"]], ["x"]),
        (["a, b", "c"], ["a", "b", "c"]),
    ],
)
def test_normalize_tags(value, expected):
    assert normalize_tags(value) == expected


@pytest.mark.parametrize(
    ("tags_yaml", "expected"),
    [
        ("tags:\n- us\n- Economy", ["us", "Economy"]),
        ("tags: [us, Economy]", ["us", "Economy"]),
        ("tags: us, Economy", ["us", "Economy"]),
        ("tags: us", ["us"]),
        ("tags:", []),
        ("tags: null", []),
        ("tags: ''", []),
        ("tags: [2024, 7]", ["2024", "7"]),
        ("", []),
    ],
)
def test_front_matter_tag_shapes(read, tags_yaml, expected):
    assert read(raw=f"---\ntitle: T\n{tags_yaml}\n---\nbody\n").tags == expected


# --- Titles, links, extra fields -----------------------------------------------------------------


def test_title_from_front_matter(read):
    doc = read(title="  美联储   降息 ")
    assert doc.title == "美联储 降息"


def test_title_falls_back_to_the_first_heading(read):
    doc = read(title=None, body="intro\n\n## **Fed** cuts rates ##\n\n# Later heading")
    assert doc.title == "Fed cuts rates"
    assert "no title: used the first heading" in doc.notes


def test_title_falls_back_to_the_file_name(read):
    doc = read("2024/没有 标题.md", title=None, body="no heading here")
    assert doc.title == "没有 标题"
    assert "no title: used the file name" in doc.notes


def test_file_without_front_matter_is_a_document(read):
    doc = read(raw="# 标题\n\n正文。\n")
    assert (doc.title, doc.date, doc.tags) == ("标题", None, [])


@pytest.mark.parametrize(
    ("body", "front", "url"),
    [
        ("[原文链接](https://ft.com/a)\n\ntext", {}, "https://ft.com/a"),
        ("[Source Link](https://ft.com/b)", {}, "https://ft.com/b"),
        ("[source link](https://ft.com/b)", {}, "https://ft.com/b"),
        ("[原文鏈接](https://hk.example/c)", {}, "https://hk.example/c"),
        ('[原文链接](<https://ft.com/d> "title")', {}, "https://ft.com/d"),
        (
            "[原文链接](https://ft.com/first)\n[Source Link](https://ft.com/second)",
            {},
            "https://ft.com/first",
        ),
        ("[原文链接](https://ft.com/e)", {"url": "https://other.example"}, "https://ft.com/e"),
        ("no link", {"url": "https://u.example/x"}, "https://u.example/x"),
        ("no link", {"original_url": "https://o.example/y"}, "https://o.example/y"),
        ("[another](https://x.example)", {}, ""),
        ("[原文链接](javascript:alert(1))", {}, ""),
        (
            "[原文链接](javascript:alert(1))",
            {"url": "https://safe.example"},
            "https://safe.example",
        ),
        ("no link", {"url": "javascript:alert(1)"}, ""),
        ("no link", {"url": "JaVaScRiPt:alert(1)", "original_url": "data:text/html,x"}, ""),
    ],
)
def test_source_link(read, body, front, url):
    assert read(body=body, front_matter_extra=front).url == url


def test_unknown_fields_are_kept(read):
    doc = read(
        front_matter_extra={
            "mood": "happy",
            "score": 3,
            "when": dt.date(2024, 1, 2),
            "nested": {"a": [1, 2]},
            "category": "finance",
        }
    )
    assert doc.extra == {"mood": "happy", "score": 3, "when": "2024-01-02", "nested": {"a": [1, 2]}}
    assert doc.category == "finance"


def test_description_and_author(read):
    doc = read(description="Small caps  surge", author="ft")
    assert (doc.description, doc.author) == ("Small caps surge", "ft")


# --- Encodings and stray characters -------------------------------------------------------------


FRONT = "---\ntitle: 中文标题\ndate: 2024-07-19\ntags: [香港]\n---\n正文内容。\n"


@pytest.mark.parametrize(
    "data",
    [
        FRONT.encode("utf-8"),
        b"\xef\xbb\xbf" + FRONT.encode("utf-8"),
        FRONT.replace("\n", "\r\n").encode("utf-8"),
        FRONT.encode("gbk"),
        FRONT.encode("gb18030"),
        FRONT.encode("utf-16"),
    ],
    ids=["utf8", "bom", "crlf", "gbk", "gb18030", "utf16"],
)
def test_encodings_are_read(read, data):
    doc = read(raw=data)
    assert (doc.title, doc.date, doc.tags) == ("中文标题", utc(2024, 7, 19), ["香港"])
    assert doc.body.strip() == "正文内容。"
    assert "\r" not in doc.body


@pytest.mark.parametrize(
    ("data", "text"),
    [(b"abc", "abc"), (b"\xef\xbb\xbfabc", "abc"), ("立法會".encode("gb18030"), "立法會")],
)
def test_decode(data, text):
    assert decode(data) == text


def test_undecodable_bytes_are_refused():
    with pytest.raises(BrokenFile, match="UTF-8"):
        decode(b"abc\xff\xfe")


def test_control_characters_in_front_matter_are_removed(read):
    doc = read(raw='---\ntitle: "美联储\x01\x08降息"\ndescription: a\x0bb\x00c\n---\nbody\x1f\n')
    assert isinstance(doc, Document)
    assert (doc.title, doc.description) == ("美联储降息", "abc")
    assert doc.body.strip() == "body"


def test_toml_front_matter(read):
    doc = read(raw='+++\ntitle = "TOML 文档"\ndate = 2024-07-19\ntags = ["a", "b"]\n+++\nbody\n')
    assert (doc.title, doc.date, doc.tags) == ("TOML 文档", utc(2024, 7, 19), ["a", "b"])


# --- Skipped files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("---\ntitle: [unclosed\n---\nbody\n", "invalid front matter"),
        ("---\ntitle: a\n  bad: indent: here\n---\nbody\n", "invalid front matter"),
        ("", "empty"),
        ("  \n\n\t\n", "empty"),
        ("\x00\x01\x02", "empty"),
        ("---\n---\n", "no content"),
        (b"---\ntitle: x\n---\n\xff\xfe\xfd", "UTF-8"),
    ],
    ids=["yaml", "yaml-indent", "empty", "blank", "control-only", "no-content", "undecodable"],
)
def test_broken_files_are_skipped_with_a_reason(tmp_path, write_doc, raw, reason):
    path = write_doc(tmp_path, "sub/broken file.md", raw=raw)
    result = parse_file(path, tmp_path)
    assert isinstance(result, Skipped)
    assert result.path == "sub/broken file.md"
    assert reason in result.reason


def test_unreadable_file_is_skipped(tmp_path):
    path = tmp_path / "folder.md"
    path.mkdir()
    result = parse_file(path, tmp_path)
    assert isinstance(result, Skipped)
    assert "cannot read" in result.reason


# --- Ids ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relpath", "expected"),
    [
        ("a.md", "a"),
        ("2024/07/19-big-tech.md", "2024/07/19-big-tech"),
        ("news/Fish & Chips.md", "news/Fish & Chips"),
        ("香港 新聞/立法會 選舉.markdown", "香港 新聞/立法會 選舉"),
        ("UPPER.MD", "UPPER"),
        ("dots.v2.md", "dots.v2"),
    ],
)
def test_ids_are_relative_paths_without_extension(read, tmp_path, relpath, expected):
    doc = read(relpath)
    assert doc.id == expected
    assert doc.path == relpath
    assert doc_id(tmp_path / relpath, tmp_path) == expected


# --- The real archives ---------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("folder", ["seed", "digest-hn", "hkcnews"])
def test_real_archives_parse(folder):
    root = SHARED / folder
    files = list(iter_files(root))
    assert files
    for path in files[:: max(1, len(files) // 100)]:
        doc = parse_file(path, root)
        assert isinstance(doc, Document), doc
        assert doc.title and doc.id == path.relative_to(root).with_suffix("").as_posix()
        assert doc.date is not None or "no date" in doc.notes


# --- Hostile files (contract §1 and §5: nothing outside the corpus, bounded work) -------------


def within(seconds: float, fn, *args):
    """Run fn in a thread and fail, instead of hanging, when it takes too long."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(fn(*args)), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{fn.__name__} still running after {seconds} s"
    return result[0]


@pytest.fixture
def corpus(tmp_path, write_doc):
    """A corpus folder with one digest, and a folder beside it that is outside."""
    write_doc(tmp_path / "outside", "secret.md", title="Secret")
    write_doc(tmp_path / "corpus", "real.md", title="Real")
    return tmp_path / "corpus"


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("/etc/passwd", "symlink to a file outside the corpus"),
        ("../outside/secret.md", "symlink to a file outside the corpus"),
        ("../outside", "symlink to a folder outside the corpus"),
        ("/dev/zero", "symlink to a device outside the corpus"),
        ("link.md", "symlink loop"),
        ("missing.md", "broken symlink"),
    ],
)
def test_symlinks_that_leave_the_corpus_or_lead_nowhere_are_skipped(corpus, target, reason):
    os.symlink(target, corpus / "link.md")
    result = within(10, parse_file, corpus / "link.md", corpus)
    assert isinstance(result, Skipped)
    assert result.path == "link.md"
    assert reason in result.reason


def test_a_file_under_a_folder_linked_from_outside_is_skipped(corpus):
    os.symlink(corpus.parent / "outside", corpus / "linked")
    result = parse_file(corpus / "linked" / "secret.md", corpus)
    assert isinstance(result, Skipped)
    assert "outside the corpus" in result.reason


def test_a_symlink_inside_the_corpus_is_read(corpus):
    os.symlink("real.md", corpus / "alias.md")
    doc = parse_file(corpus / "alias.md", corpus)
    assert isinstance(doc, Document)
    assert (doc.id, doc.title) == ("alias", "Real")


def test_a_corpus_reached_through_a_symlink_is_read(corpus, tmp_path):
    os.symlink(corpus, tmp_path / "via-link")
    doc = parse_file(tmp_path / "via-link" / "real.md", tmp_path / "via-link")
    assert isinstance(doc, Document)


def test_a_fifo_is_skipped_without_being_opened(corpus):
    os.mkfifo(corpus / "pipe.md")
    result = within(10, parse_file, corpus / "pipe.md", corpus)
    assert isinstance(result, Skipped)
    assert "FIFO" in result.reason


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a device needs root")
def test_a_device_in_the_corpus_is_skipped(corpus):
    os.mknod(corpus / "zero.md", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero
    result = within(10, parse_file, corpus / "zero.md", corpus)
    assert isinstance(result, Skipped)
    assert "device" in result.reason


def test_a_file_over_the_size_limit_is_skipped_with_its_reason(corpus, write_doc):
    path = write_doc(corpus, "big.md", body="x" * 5000)
    result = parse_file(path, corpus, max_bytes=4096)
    assert isinstance(result, Skipped)
    assert result.reason.startswith("larger than the 4 KB limit")
    assert "--max-file-size" in result.reason
    assert isinstance(parse_file(path, corpus, max_bytes=path.stat().st_size), Document)


def test_the_size_limit_comes_from_the_environment(corpus, write_doc, monkeypatch):
    path = write_doc(corpus, "big.md", body="x" * 5000)
    assert isinstance(parse_file(path, corpus), Document)  # default: 16 MB
    monkeypatch.setenv(ENV_MAX_FILE_SIZE, "4KB")
    assert isinstance(parse_file(path, corpus), Skipped)


def test_a_huge_body_is_capped_and_says_so(corpus, write_doc):
    line = "The Fed cut rates again. 美联储再次降息。\n"
    body = "opening words\n" + line * (2 * MAX_BODY_CHARS // len(line)) + "closing words"
    doc = parse_file(write_doc(corpus, "huge.md", body=body), corpus)
    assert isinstance(doc, Document)
    assert doc.capped
    assert MAX_BODY_CHARS * 0.9 <= len(doc.body) <= MAX_BODY_CHARS
    assert doc.body.startswith("opening words") and "closing words" not in doc.body
    assert doc.body.endswith("美联储再次降息。")  # cut at a line end
    (note,) = doc.notes
    assert note.startswith("long document: only the first part is indexed and shown")


def test_a_normal_body_is_not_capped(read):
    doc = read(body="short")
    assert not doc.capped and doc.notes == []


BOMB = """---
title: lol
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
---
body
"""


def test_a_yaml_bomb_is_refused(tmp_path, write_doc):
    result = within(10, parse_file, write_doc(tmp_path, "bomb.md", raw=BOMB), tmp_path)
    assert isinstance(result, Skipped)
    assert "aliases" in result.reason


def test_anchors_without_aliases_are_fine(read):
    doc = read(raw="---\ntitle: &t Anchored\ntags: [a]\n---\nbody\n")
    assert doc.title == "Anchored"


def test_huge_front_matter_is_refused(tmp_path, write_doc):
    fields = "".join(f"f{n}: {'x' * 100}\n" for n in range(3000))
    path = write_doc(tmp_path, "huge.md", raw=f"---\ntitle: t\n{fields}---\nbody\n")
    result = parse_file(path, tmp_path)
    assert isinstance(result, Skipped)
    assert "front matter is larger than 256 KB" in result.reason


@pytest.mark.parametrize(
    ("name", "shown", "reason"),
    [
        ("line\nbreak.md", "line\\nbreak.md", "file name contains a line break"),
        ("carriage\rreturn.md", "carriage\\rreturn.md", "file name contains a line break"),
        ("tab\there.md", "tab\\there.md", "file name contains a control character"),
    ],
)
def test_a_control_character_in_a_file_name_is_skipped(tmp_path, write_doc, name, shown, reason):
    result = parse_file(write_doc(tmp_path, name), tmp_path)
    assert isinstance(result, Skipped)
    assert (result.path, result.reason) == (shown, reason)


def test_a_file_name_that_is_not_utf8_is_skipped(tmp_path, write_doc):
    with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9.md"), "wb") as f:
        f.write(b"---\ntitle: t\n---\nbody\n")
    (path,) = iter_files(tmp_path)
    result = parse_file(path, tmp_path)
    assert isinstance(result, Skipped)
    assert (result.path, result.reason) == ("caf\\xe9.md", "file name is not valid UTF-8")


@pytest.mark.parametrize(
    "body",
    [
        "# " + "#" * 250_000 + "x",  # a heading pattern with nested quantifiers took minutes
        "#" * 250_000,
        "# " + " " * 250_000 + "x",
        "[原文链接](" + "a" * 100_000 + " " * 100_000 + "x",
        "[原文链接](" * 20_000,  # unclosed: each one used to scan to the end
    ],
    ids=["hashes", "hash-line", "spaces", "source-link", "source-links"],
)
def test_pathological_lines_parse_quickly(tmp_path, write_doc, body):
    path = write_doc(tmp_path, "p.md", raw=f"---\ndate: 2024-07-19\n---\n{body}\n")
    started = time.perf_counter()
    doc = within(20, parse_file, path, tmp_path)
    assert time.perf_counter() - started < 2
    assert isinstance(doc, Document)
    assert 0 < len(doc.title) <= MAX_TITLE_CHARS


def test_a_long_title_is_clipped(read):
    doc = read(title="长" * 5000)
    assert len(doc.title) == MAX_TITLE_CHARS and doc.title.endswith("…")
