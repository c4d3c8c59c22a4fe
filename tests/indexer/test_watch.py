"""`indexer watch` in a subprocess: changes become searchable within seconds (contract §2)."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hostile_files import write_hostile_corpus

from indexer.rebuild import rebuild
from indexer.update import targeted
from searchengine import SearchRequest, open_index, search
from searchengine.config import Settings
from searchengine.store import IndexStore

BIN = Path(sys.executable).parent
APPLIED = 3.0  # seconds from a change to search results: the contract's 2 s, plus slack
START = 20.0  # seconds for the watcher to start on a slow machine


def clean_env() -> dict[str, str]:
    """The caller's environment without DIGEST_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    return {**env, "PYTHONIOENCODING": "utf-8"}


def indexer(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run another `indexer` command, as from a second shell."""
    proc = subprocess.run(
        [sys.executable, "-m", "indexer", *args],
        capture_output=True,
        encoding="utf-8",
        env=clean_env(),
        timeout=timeout,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


class Watcher:
    """A running `indexer watch` and the lines it has written to stderr so far."""

    def __init__(self, corpus: Path, index: Path, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "indexer", "watch", "--corpus", str(corpus)]
            + ["--index", str(index), *extra],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            encoding="utf-8",
            env=clean_env(),
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def mark(self) -> int:
        """Where the output stands now, to look only at lines written after it."""
        with self._changed:
            return len(self.lines)

    def since(self, mark: int) -> list[str]:
        with self._changed:
            return self.lines[mark:]

    def wait_for(self, text: str, since: int = 0, timeout: float = 10.0) -> str:
        """Return the first line after ``since`` that holds ``text``; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[since:]:
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and self.proc.stderr.closed):
                    pytest.fail(f"no line with {text!r} in {timeout} s: {self.lines[since:]}")
                self._changed.wait(min(left, 0.2))

    def quiet(self, for_seconds: float = 0.5, timeout: float = 10.0) -> int:
        """Wait until no line came for a while (earlier batches have said their piece)."""
        deadline = time.monotonic() + timeout
        mark = self.mark()
        while time.monotonic() < deadline:
            time.sleep(for_seconds)
            if self.mark() == mark:
                return mark
            mark = self.mark()
        pytest.fail(f"the watcher never went quiet: {self.lines[-5:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.reader.join(timeout=10)
        self.proc.stderr.close()
        assert not any("Traceback" in line for line in self.lines), "\n".join(self.lines)


def found(index: Path, q: str) -> list[str]:
    """Search the live index as the server would, freshly opened."""
    ix = open_index(index)
    try:
        return sorted(h.id for h in search(ix, SearchRequest(q=q, per_page=100)).results)
    finally:
        ix.close()


def total(index: Path, q: str) -> int:
    """Count the documents a search finds in the live index."""
    ix = open_index(index)
    try:
        return search(ix, SearchRequest(q=q)).total
    finally:
        ix.close()


def eventually(check: Callable[[], object], timeout: float = APPLIED) -> float:
    """Poll until ``check`` holds; return how long it took, fail after ``timeout``."""
    started = time.monotonic()
    while True:
        value = check()
        elapsed = time.monotonic() - started
        if value:
            return elapsed
        if elapsed > timeout:
            pytest.fail(f"not true after {timeout} s (last value {value!r})")
        time.sleep(0.05)


def start_watch(corpus: Path, index: Path) -> Watcher:
    watcher = Watcher(corpus, index)
    try:
        watcher.wait_for("watching ", timeout=START)
    except BaseException:
        watcher.stop()
        raise
    return watcher


def lock_is_free(index: Path) -> bool:
    fd = os.open(index / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def build(root: Path, write_doc) -> tuple[Path, Path]:
    corpus, index = root / "corpus", root / "index"
    write_doc(corpus, "2024/fed.md", title="美联储降息", body="美联储宣布降息。\n\nfedunique")
    write_doc(corpus, "2024/mug.md", title="马克杯", body="新的马克杯。\n\nmugunique")
    write_doc(corpus, "hk/立法會 選舉.md", title="立法會選舉", body="立法會選舉。\n\nlegcounique")
    rebuild(Settings.resolve(corpus, index), jobs=1)
    return corpus, index


# --- One watcher for the tests that each change their own files -------------------------


@pytest.fixture(scope="module")
def watched(tmp_path_factory, write_doc) -> Iterator[tuple[Path, Path, Watcher]]:
    corpus, index = build(tmp_path_factory.mktemp("watched"), write_doc)
    watcher = start_watch(corpus, index)
    try:
        yield corpus, index, watcher
    finally:
        watcher.stop()


def test_an_added_file_is_found_within_seconds(watched, write_doc):
    corpus, index, watcher = watched
    write_doc(corpus, "2024/new.md", title="新文章", body="新文章。\n\naddedunique")
    took = eventually(lambda: found(index, "addedunique") == ["2024/new"])
    assert took < APPLIED
    assert watcher.proc.poll() is None


def test_an_edited_file_gains_its_new_words_and_loses_the_old(watched, write_doc):
    corpus, index, _ = watched
    write_doc(corpus, "edit/page.md", title="Page", body="oldwordunique")
    eventually(lambda: found(index, "oldwordunique") == ["edit/page"])
    write_doc(corpus, "edit/page.md", title="Page", body="newwordunique")
    eventually(lambda: found(index, "newwordunique") == ["edit/page"])
    assert found(index, "oldwordunique") == []


def test_a_deleted_file_disappears(watched, write_doc):
    corpus, index, _ = watched
    path = write_doc(corpus, "gone/soon.md", title="Soon gone", body="deletedunique")
    eventually(lambda: found(index, "deletedunique") == ["gone/soon"])
    path.unlink()
    eventually(lambda: found(index, "deletedunique") == [])


def test_a_renamed_file_changes_its_id(watched, write_doc):
    corpus, index, _ = watched
    path = write_doc(corpus, "rename/before.md", title="Renamed", body="renamedunique")
    eventually(lambda: found(index, "renamedunique") == ["rename/before"])
    path = path.rename(corpus / "rename" / "moved.md")
    eventually(lambda: found(index, "renamedunique") == ["rename/moved"])
    (corpus / "rename" / "later").mkdir()
    path.rename(corpus / "rename" / "later" / "after.md")
    eventually(lambda: found(index, "renamedunique") == ["rename/later/after"])


def test_an_editor_save_replaces_the_file_through_a_temp_file(watched, write_doc):
    corpus, index, watcher = watched
    write_doc(corpus, "editor/note.md", title="Note", body="draftunique")
    eventually(lambda: found(index, "draftunique") == ["editor/note"])
    mark = watcher.quiet()
    # What vim, VS Code and friends do: write a temp file beside it, rename it over.
    tmp = write_doc(corpus, "editor/.note.md.swp", title="Note", body="savedunique")
    write_doc(corpus, "editor/note.md~", raw="backup copy savedunique")
    tmp.rename(corpus / "editor" / "note.md")
    eventually(lambda: found(index, "savedunique") == ["editor/note"])
    assert found(index, "draftunique") == []
    line = watcher.wait_for("updated: ", since=mark)
    assert line.startswith("updated: 1 indexed, 0 removed"), line
    assert not any("skipped" in line for line in watcher.since(mark))


def test_a_burst_of_200_files_is_applied_in_few_batches(watched, write_doc):
    corpus, index, watcher = watched
    mark = watcher.quiet()
    for n in range(200):  # like a `git pull`
        write_doc(corpus, f"burst/{n // 50}/doc-{n:03}.md", title=f"Burst {n}", body="burstunique")
    took = eventually(lambda: total(index, "burstunique") == 200, timeout=10)

    def updated_lines() -> list[str]:
        return [line for line in watcher.since(mark) if line.startswith("updated: ")]

    # The summary line is printed just after the index switches: wait for it too.
    eventually(lambda: sum(int(line.split()[1]) for line in updated_lines()) >= 200, timeout=5)
    batches = updated_lines()
    assert 1 <= len(batches) <= 3, batches
    assert sum(int(line.split()[1]) for line in batches) == 200
    assert took < 6


def test_indexer_update_from_another_shell_waits_at_most_briefly(watched, write_doc):
    corpus, index, watcher = watched
    started = time.monotonic()
    proc = indexer("update", "--index", str(index), timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 10
    write_doc(corpus, "after/update.md", title="After update", body="afterupdateunique")
    eventually(lambda: found(index, "afterupdateunique") == ["after/update"])
    assert watcher.proc.poll() is None


def test_a_batch_waits_while_another_indexer_writes_then_applies(watched, write_doc):
    corpus, index, watcher = watched
    mark = watcher.quiet()
    with IndexStore(index).writer_lock():  # as a long rebuild in another shell would
        write_doc(corpus, "waited/doc.md", title="Waited", body="waitedunique")
        watcher.wait_for("waiting", since=mark, timeout=APPLIED)
        assert found(index, "waitedunique") == []
    eventually(lambda: found(index, "waitedunique") == ["waited/doc"])


def test_a_changed_user_dictionary_is_said_to_need_a_rebuild(watched):
    corpus, _, watcher = watched
    mark = watcher.mark()
    (corpus / "userdict.txt").write_text("马克杯设计 10\n", encoding="utf-8")
    line = watcher.wait_for("userdict.txt", since=mark, timeout=APPLIED)
    assert "rebuild" in line


def test_a_changed_synonyms_file_runs_an_update(watched):
    corpus, _, watcher = watched
    mark = watcher.mark()
    (corpus / "synonyms.txt").write_text("美联储, Fed\n", encoding="utf-8")
    line = watcher.wait_for("synonyms.txt", since=mark, timeout=APPLIED)
    assert line.startswith("updated: "), line


def test_hidden_and_other_files_are_ignored(watched, write_doc):
    corpus, index, watcher = watched
    mark = watcher.mark()
    write_doc(corpus, ".hidden/secret.md", body="hiddenunique")
    write_doc(corpus, "notes.txt", raw="hiddenunique")
    write_doc(corpus, "ignored/.dot.md", body="hiddenunique")
    write_doc(corpus, "ignored/visible.md", title="Visible", body="visibleunique")
    eventually(lambda: found(index, "visibleunique") == ["ignored/visible"])
    assert found(index, "hiddenunique") == []
    assert [line for line in watcher.since(mark) if line.startswith("skipped")] == []


# --- Watchers of their own ----------------------------------------------------------------


def test_after_a_rebuild_the_next_change_goes_to_the_new_generation(tmp_path, write_doc):
    corpus, index = build(tmp_path, write_doc)
    before = (index / "CURRENT").read_text()
    watcher = start_watch(corpus, index)
    try:
        proc = indexer("rebuild", "--corpus", str(corpus), "--index", str(index), "--jobs", "1")
        assert proc.returncode == 0, proc.stderr
        assert (index / "CURRENT").read_text() != before
        write_doc(corpus, "2024/mug.md", title="马克杯", body="rebuiltunique")
        eventually(lambda: found(index, "rebuiltunique") == ["2024/mug"])
        assert found(index, "mugunique") == []
        assert not (index / before.strip()).exists()
    finally:
        watcher.stop()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_ends_it_cleanly(tmp_path, write_doc, signum):
    corpus, index = build(tmp_path, write_doc)
    watcher = start_watch(corpus, index)
    try:
        watcher.proc.send_signal(signum)
        assert watcher.proc.wait(timeout=10) == 0
        assert lock_is_free(index)
        watcher.wait_for("stopped", timeout=1)
        started = time.monotonic()
        proc = indexer("update", "--index", str(index))
        assert proc.returncode == 0 and "Another indexer" not in proc.stderr, proc.stderr
        assert time.monotonic() - started < 10
        assert found(index, "mugunique") == ["2024/mug"]
    finally:
        watcher.stop()


def test_a_signal_during_a_burst_leaves_the_index_whole(tmp_path, write_doc):
    corpus, index = build(tmp_path, write_doc)
    watcher = start_watch(corpus, index)
    try:
        mark = watcher.mark()
        for n in range(300):
            write_doc(corpus, f"burst/doc-{n:03}.md", title=f"Burst {n}", body="stopunique")
        watcher.wait_for("updated: ", since=mark, timeout=APPLIED)
        watcher.proc.send_signal(signal.SIGINT)
        assert watcher.proc.wait(timeout=20) == 0
        assert lock_is_free(index)
        proc = indexer("update", "--index", str(index))
        assert proc.returncode == 0, proc.stderr
        assert total(index, "stopunique") == 300
    finally:
        watcher.stop()


@pytest.mark.parametrize("missing", ["corpus", "index"])
def test_a_missing_corpus_or_index_is_one_line_and_exit_2(tmp_path, write_doc, missing):
    corpus, index = build(tmp_path, write_doc)
    args = {"corpus": str(corpus), "index": str(index)}
    args[missing] = str(tmp_path / "nowhere")
    proc = indexer("watch", "--corpus", args["corpus"], "--index", args["index"], timeout=30)
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert line.startswith("error: ") and "nowhere" in line


def test_watch_has_help_with_an_example_and_is_in_the_readme():
    proc = indexer("watch", "--help")
    assert proc.returncode == 0 and "Example:" in proc.stdout
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "indexer watch" in readme and "Keeping the index current" in readme


def test_a_hostile_corpus_does_not_stop_the_watcher(tmp_path, write_doc):
    hc = write_hostile_corpus(tmp_path / "corpus", tmp_path / "outside", markdown=False)
    index = tmp_path / "index"
    proc = indexer("rebuild", "--corpus", str(hc.root), "--index", str(index), "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    watcher = Watcher(hc.root, index, "--max-file-size", "2MB")
    try:
        watcher.wait_for("watching ", timeout=START)
        mark = watcher.mark()
        os.mkfifo(hc.root / "special" / "another-fifo.md")
        watcher.wait_for("skipped: special/another-fifo.md: ", since=mark, timeout=APPLIED)
        os.symlink("/etc/passwd", hc.root / "links" / "passwd-again.md")
        line = watcher.wait_for("skipped: links/passwd-again.md: ", since=mark, timeout=APPLIED)
        assert "outside the corpus" in line
        write_doc(hc.root, "normal/later.md", title="Later", body="laterunique")
        eventually(lambda: found(index, "laterunique") == ["normal/later"])
        assert watcher.proc.poll() is None
        assert found(index, "root") == []  # /etc/passwd is never read
    finally:
        watcher.stop()


# --- The targeted update: which changes it settles without a walk ---------------------------


def test_targeted_paths_settle_plain_files_and_leave_the_rest_to_a_walk(tmp_path, write_doc):
    corpus = tmp_path / "c"
    write_doc(corpus, "a/one.md")
    write_doc(corpus, "a/two.md")
    write_doc(corpus, "b/same.md")
    write_doc(corpus, "b/same.markdown")
    os.symlink(corpus / "a", corpus / "link")
    manifest = {"a/one": ["a/one.md", 0, 0], "a/gone": ["a/gone.md", 0, 0]}

    def plan(*rels: str):
        return targeted([corpus / r for r in rels], corpus, manifest)

    assert plan("a/one.md", "a/gone.md", "a/never.md") == ([corpus / "a/one.md"], ["a/gone"])
    assert plan("a/.one.md.swp", "a/one.md~", "notes.txt", ".hidden/x.md") == ([], [])
    assert plan("a/two.md", "a/two.md") == ([corpus / "a/two.md"], [])
    assert plan("a") is None  # a folder: moved, created or deleted whole
    assert plan("gone-folder") == ([], [])
    manifest["old/x"] = ["old/x.md", 0, 0]
    assert plan("old") is None  # a deleted folder that held documents
    assert plan("link/one.md") is None  # through a symlinked folder
    assert plan("b/same.md") is None  # two files share an id
