"""One file into one Document (or a Skipped with its reason): contract §1 and §5."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from indexer.corpus import doc_id, iter_files
from indexer.parsing import BrokenFile, Skipped, decode, normalize_tags, parse_date, parse_file
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
    "value", [None, "", "not a date", "Jul 19", "2024-13-45", "0000-00-00", True, 2024, [], "明天"]
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
