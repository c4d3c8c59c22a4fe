"""Walking a corpus folder: Markdown only, nothing hidden, no loops, each file once."""

from __future__ import annotations

import os

import pytest

from indexer.corpus import iter_files


def found(root) -> list[str]:
    return [p.relative_to(root).as_posix() for p in iter_files(root)]


def touch(root, *relpaths: str) -> None:
    for rel in relpaths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("---\ntitle: t\n---\nbody\n", encoding="utf-8")


def test_markdown_files_are_found_in_every_folder(tmp_path):
    touch(tmp_path, "a.md", "2024/07/b.md", "2024/07/c.markdown", "深 层/文件 名.md", "UPPER.MD")
    assert sorted(found(tmp_path)) == sorted(
        ["a.md", "2024/07/b.md", "2024/07/c.markdown", "深 层/文件 名.md", "UPPER.MD"]
    )


def test_hidden_files_and_folders_are_skipped(tmp_path):
    touch(tmp_path, "visible.md", ".draft.md", ".hidden/secret.md", "sub/.git/x.md", "sub/ok.md")
    assert sorted(found(tmp_path)) == ["sub/ok.md", "visible.md"]


def test_other_file_types_are_ignored(tmp_path):
    touch(tmp_path, "a.md", "b.txt", "c.html", "d.md.bak", "e.mdx", "README", "f.markdown~")
    assert found(tmp_path) == ["a.md"]


def test_order_is_stable(tmp_path):
    touch(tmp_path, "b.md", "a.md", "z/1.md", "c/2.md")
    assert found(tmp_path) == found(tmp_path)


def test_a_symlink_loop_is_harmless(tmp_path):
    touch(tmp_path, "top.md", "a/one.md", "a/b/two.md")
    os.symlink(tmp_path / "a", tmp_path / "a" / "b" / "loop")  # a/b/loop -> a
    os.symlink(tmp_path, tmp_path / "a" / "root")  # a/root -> the corpus itself
    files = found(tmp_path)
    resolved = [os.path.realpath(tmp_path / f) for f in files]
    assert len(resolved) == len(set(resolved)) == 3
    assert {os.path.basename(f) for f in files} == {"top.md", "one.md", "two.md"}


def test_a_symlinked_folder_outside_the_corpus_is_not_walked(tmp_path):
    outside = tmp_path / "outside"
    touch(outside, "shared.md")
    corpus = tmp_path / "corpus"
    touch(corpus, "own.md")
    os.symlink(outside, corpus / "linked")
    # The link itself is handed on, so that parsing reports it as skipped.
    assert sorted(found(corpus)) == ["linked", "own.md"]


def test_a_symlinked_file_outside_the_corpus_is_handed_on_for_reporting(tmp_path):
    corpus = tmp_path / "corpus"
    touch(corpus, "own.md")
    os.symlink("/etc/passwd", corpus / "passwd.md")
    os.symlink("/etc/passwd", corpus / "again.md")
    assert sorted(found(corpus)) == ["again.md", "own.md", "passwd.md"]


def test_a_file_linked_inside_the_corpus_is_found_once_by_its_own_path(tmp_path):
    touch(tmp_path, "news/real.md")
    os.symlink("news/real.md", tmp_path / "0-alias.md")  # sorts and is walked first
    os.symlink("news", tmp_path / "0-folder")
    assert found(tmp_path) == ["news/real.md"]


def test_a_linked_folder_is_walked_when_its_target_is_not(tmp_path):
    touch(tmp_path, ".store/kept.md", "top.md")
    os.symlink(".store", tmp_path / "visible")
    assert sorted(found(tmp_path)) == ["top.md", "visible/kept.md"]


def test_special_files_named_markdown_are_handed_on_unopened(tmp_path):
    touch(tmp_path, "a.md")
    os.mkfifo(tmp_path / "pipe.md")  # opening it would block: listing must not
    os.symlink("/dev/zero", tmp_path / "zero.md")
    assert sorted(found(tmp_path)) == ["a.md", "pipe.md", "zero.md"]


def test_a_broken_symlink_is_harmless(tmp_path):
    touch(tmp_path, "a.md")
    os.symlink(tmp_path / "missing", tmp_path / "dangling")
    os.symlink(tmp_path / "missing.md", tmp_path / "dangling.md")
    files = found(tmp_path)
    assert "a.md" in files
    assert "dangling" not in {f.split("/")[0] for f in files if "/" in f}


@pytest.mark.parametrize("name", ["empty", "only-text"])
def test_no_documents(tmp_path, name):
    if name == "only-text":
        (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    assert found(tmp_path) == []
