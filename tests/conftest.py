"""Shared fixtures: a small hand-written bilingual corpus and the sample corpus, each
indexed once per session, and the one way tests run `searchengine serve`."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED_CORPUS = REPO.parent / "shared" / "corpus"


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``corpus`` when ../shared/corpus is not there."""
    if SHARED_CORPUS.is_dir():
        return
    skip = pytest.mark.skip(reason=f"needs the shared corpus at {SHARED_CORPUS}")
    for item in items:
        if "corpus" in item.keywords:
            item.add_marker(skip)


# --- Writing digest files -------------------------------------------------------------


def write_doc(
    root: Path,
    relpath: str,
    *,
    title="Test digest",
    date="2024-07-19",
    tags=("test",),
    author="tester",
    description="",
    body="测试正文。\n\nTest body.",
    front_matter_extra: dict | None = None,
    raw: bytes | str | None = None,
) -> Path:
    """Write one digest in the corpus shape: YAML front matter, then the Markdown body.

    A field passed as None is left out; to write ``field: null`` put it in
    ``front_matter_extra``. A ``datetime.date`` is written as a YAML date, a str
    as a YAML string. With ``raw``, exactly those bytes (or UTF-8 text) are written.
    """
    path = Path(root) / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    if raw is not None:
        if isinstance(raw, bytes):
            path.write_bytes(raw)
        else:
            path.write_bytes(raw.encode("utf-8"))
        return path
    meta: dict = {}
    for name, value in (
        ("title", title),
        ("date", date),
        ("description", description),
        ("tags", tags),
        ("author", author),
    ):
        if value is None or (name == "description" and value == ""):
            continue
        meta[name] = list(value) if isinstance(value, tuple) else value
    meta.update(front_matter_extra or {})
    head = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) if meta else ""
    path.write_text(f"---\n{head}---\n\n{body}\n", encoding="utf-8")
    return path


@pytest.fixture(name="write_doc", scope="session")
def _write_doc_fixture():
    """Hand tests the ``write_doc`` helper."""
    return write_doc


# --- The small corpus -----------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """One hand-written digest and what a reader should see of it."""

    relpath: str
    title: str
    date: object  # what goes into the front matter (None: no date)
    tags: object  # the raw front-matter shape
    author: str | None
    body: str
    description: str = ""
    expect_tags: tuple[str, ...] = ()  # the tags as a reader reads them
    month: str | None = None  # YYYY-MM of the UTC date
    extra: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.relpath.rsplit(".", 1)[0]

    @property
    def text(self) -> str:
        return "\n".join([self.title, self.description, self.body])


SMALL_DOCS: tuple[Spec, ...] = (
    Spec(
        "2024/07/fed-signals-cut.md",
        title="美联储暗示九月降息",
        date="2024-07-19T04:00:47.838Z",
        tags=["us", "Economy"],
        author="ft",
        description="The Fed signals an interest rate cut in September",
        body="[原文链接](https://ft.com/fed)\n\n美联储主席表示，通胀数据支持降息。\n\n"
        "The Federal Reserve signalled an interest rate cut as inflation cools.",
        expect_tags=("us", "Economy"),
        month="2024-07",
    ),
    Spec(
        "2024/07/banks-cutting-rates.md",
        title="Banks keep cutting rates",
        date=dt.date(2024, 7, 5),
        tags=["US", "banks"],
        author="FT",
        body="各国银行继续下调利率。\n\nCentral banks are cutting rates across the world.",
        expect_tags=("US", "banks"),
        month="2024-07",
    ),
    Spec(
        "2024/07/legco-election.md",
        title="立法會選舉結果公佈",
        date="2024-07-25",
        tags="香港, 政治",
        author="hkcnews",
        body="立法會選舉投票率創新低，選民關注經濟。\n\nThe Legislative Council election turnout hit a record low.",
        expect_tags=("香港", "政治"),
        month="2024-07",
    ),
    Spec(
        "2024/08/marxism-book.md",
        title="马克思主义哲学新书出版",
        date=dt.date(2024, 8, 2),
        tags="books",
        author="xinhua",
        body="这本书讨论马克思主义的历史与现实。\n\nA new book on Marxism and its history.",
        expect_tags=("books",),
        month="2024-08",
    ),
    Spec(
        "2024/08/mug-design.md",
        title="咖啡马克杯设计大赛",
        date="2024/08/15",
        tags=["design"],
        author="ft",
        body="设计师展示了新的马克杯。\n\nDesigners showed new coffee mugs.",
        expect_tags=("design",),
        month="2024-08",
    ),
    Spec(
        "2024/09/open-source-tool.md",
        title="开源工具发布",
        date="September 3, 2024",
        tags=["tech", "AI"],
        author="hkcnews",
        body="这个工具安装简单易用，支持多种平台。\n\nThe tool is easy to install on every platform.",
        expect_tags=("tech", "AI"),
        month="2024-09",
    ),
    Spec(
        "2024/09/ai-chips.md",
        title="ＡＩ芯片需求大增",
        date="2024-09-20",
        tags=["ＡＩ", "chips"],
        author="xinhua",
        body="ＡＩ芯片出货量持续增长。\n\nDemand for AI chips surged as data centres expand.",
        expect_tags=("ＡＩ", "chips"),
        month="2024-09",
    ),
    Spec(
        "2024/09/fish & chips.md",
        title="Fish & Chips <script>alert(1)</script> 降价",
        date="2024-09-28",
        tags=["food"],
        author="ft",
        body="炸鱼薯条降价了 & 啤酒也便宜。\n\nFish & chips prices dropped at AT&T's canteen <b>today</b>.",
        expect_tags=("food",),
        month="2024-09",
    ),
    Spec(
        "2024/10/sp500-record.md",
        title="S&P 500 hits a record",
        # 03:00 in Hong Kong is still September in UTC.
        date="2024-10-01T03:00:00+08:00",
        tags="markets",
        author="ft",
        body="标普500指数创新高，罗素2000指数上涨7%。\n\n"
        "The S&P 500 closed at a record; the Russell 2,000 rose 7% and yields fell 3.5%.",
        expect_tags=("markets",),
        month="2024-09",
    ),
    Spec(
        "2024/10/삼성전자.md",
        title="삼성전자 HBM 공급 계약",
        date="2024-10-08",
        tags=["korea", "chips"],
        author="xinhua",
        body="삼성전자가 엔비디아에 HBM을 공급한다.\n\nSamsung Electronics will supply HBM chips.",
        expect_tags=("korea", "chips"),
        month="2024-10",
    ),
    Spec(
        "2024/10/eurozone-inflation.md",
        title="Eurozone inflation slows",
        date="2024-10-30",
        tags=["europe", "economy"],
        author="xinhua",
        body="欧元区通胀放缓，欧洲央行考虑降息。\n\nInflation in the eurozone slowed, and the ECB is cutting rates.",
        expect_tags=("europe", "economy"),
        month="2024-10",
    ),
    Spec(
        "notes/没有日期 note.md",
        title="没有日期的笔记",
        date=None,
        tags=None,
        author="hkcnews",
        body="关于利率的随笔。\n\nNotes on rates, written without a date.",
        month=None,
    ),
)


def write_spec(root: Path, spec: Spec) -> Path:
    """Write one Spec into a corpus folder."""
    extra = dict(spec.extra)
    if spec.tags is None:
        extra["tags"] = None
    return write_doc(
        root,
        spec.relpath,
        title=spec.title,
        date=spec.date,
        tags=spec.tags,
        author=spec.author,
        description=spec.description,
        body=spec.body,
        front_matter_extra=extra,
    )


@dataclass
class SmallIndex:
    """The small corpus, its index folder and the open index."""

    corpus: Path
    index_dir: Path
    ix: object
    docs: tuple[Spec, ...]
    report: object

    def spec(self, doc_id: str) -> Spec:
        return next(d for d in self.docs if d.id == doc_id)


@pytest.fixture(scope="session")
def small_docs() -> tuple[Spec, ...]:
    """The hand-written digests of the small corpus, with what a reader expects."""
    return SMALL_DOCS


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> Path:
    """Write the small bilingual corpus once per session."""
    root = tmp_path_factory.mktemp("small_corpus")
    for spec in SMALL_DOCS:
        write_spec(root, spec)
    (root / "README.txt").write_text("not a digest", encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def small_index(small_corpus, tmp_path_factory):
    """Index the small corpus once per session and open it as the web app would."""
    from indexer.rebuild import rebuild
    from searchengine import Settings, open_index

    index_dir = tmp_path_factory.mktemp("small_index")
    report = rebuild(Settings.resolve(small_corpus, index_dir), jobs=1)
    ix = open_index(index_dir)
    yield SmallIndex(small_corpus, index_dir, ix, SMALL_DOCS, report)
    ix.close()


# --- The sample corpus ----------------------------------------------------------------


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory) -> Path:
    """Index the bundled sample corpus once per session (web and browser tests share it)."""
    from indexer.corpus import SAMPLE_CORPUS
    from indexer.rebuild import rebuild
    from searchengine.config import Settings

    index_dir = tmp_path_factory.mktemp("sample_index")
    rebuild(Settings.resolve(SAMPLE_CORPUS, index_dir), jobs=1)
    return index_dir


# --- Running `searchengine serve` -------------------------------------------------------
#
# Every test that needs a real server gets it from `running_server` (through the
# `sample_server` or `serve` fixtures): one way to find the command, one environment,
# one log, one bounded wait for /healthz and one way to stop.

SERVER_START_TIMEOUT = 60.0  # seconds from launch to a 200 on /healthz (a busy 2-core machine)
SERVER_STOP_GRACE = 20.0  # seconds between SIGTERM and SIGKILL (gunicorn's graceful stop is 10)
SERVER_POLL = 0.2  # seconds between two looks at a starting server
SERVER_WORKERS = 2  # worker processes of the session's sample server
LOG_HEAD, LOG_TAIL = 3000, 6000  # characters of a server's log shown with a failure
_PORT_ATTEMPTS = 3  # another process may take the free port before the server binds it


def searchengine_command() -> list[str]:
    """The installed `searchengine` console script (what a user runs), beside this Python."""
    script = Path(sys.executable).with_name("searchengine")
    return [str(script)] if script.exists() else [sys.executable, "-m", "web"]


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a test server runs in: ours without any DIGEST_* setting, unbuffered."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    env.update(PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    env.update(extra or {})
    return env


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(eq=False)
class Server:
    """A running `searchengine serve`: its URL, port, process and log (stdout and stderr)."""

    url: str
    port: int
    proc: subprocess.Popen
    log_path: Path
    workers: int | None  # as asked with --workers (None: the server's default)

    def log(self, start: int = 0) -> str:
        """The log so far (from byte ``start``)."""
        with open(self.log_path, "rb") as f:
            f.seek(start)
            return f.read().decode("utf-8", errors="replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def excerpt(self, start: int = 0) -> str:
        """The log from byte ``start``, its middle cut out if long (for failure reports)."""
        text = self.log(start)
        if len(text) <= LOG_HEAD + LOG_TAIL:
            return text
        cut = len(text) - LOG_HEAD - LOG_TAIL
        return f"{text[:LOG_HEAD]}\n[... {cut} characters ...]\n{text[-LOG_TAIL:]}"

    def stop(self) -> int:
        """SIGTERM, wait; SIGKILL (the workers too) after the grace period. The exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(SERVER_STOP_GRACE)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(psutil.Error):
                    for child in psutil.Process(self.proc.pid).children(recursive=True):
                        child.kill()
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class _PortTaken(Exception):
    pass


# The servers running now, whose log a failing test's report shows.
_RUNNING: list[Server] = []
_LOG_MARKS = pytest.StashKey[dict]()


def _listens(pid: int, port: int) -> bool:
    """Whether our server process itself listens on the port (not some other server)."""
    try:
        return any(
            c.status == psutil.CONN_LISTEN and c.laddr.port == port
            for c in psutil.Process(pid).net_connections(kind="inet")
        )
    except psutil.Error:
        return False


def _health(url: str) -> tuple[int | None, str]:
    """The status /healthz answers (None: no answer), and what it said (for a failure report)."""
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=5) as resp:
            return resp.status, f"{resp.status} {resp.read(300)!r}"
    except urllib.error.HTTPError as err:
        return err.code, f"{err.code} {err.read(300)!r}"
    except (OSError, http.client.HTTPException) as exc:
        return None, repr(exc)


def _wait_until_responds(server: Server, timeout: float, healthy: bool = True) -> None:
    """Wait for a 200 on /healthz from this server (any answer unless ``healthy``); fail
    fast, with its log, if it exits."""
    started = time.monotonic()
    answer = "nothing yet"
    while True:
        code = server.proc.poll()
        if code is not None:
            log = server.log()
            if "Connection in use" in log:
                raise _PortTaken
            pytest.fail(
                f"`searchengine serve` exited with {code} before answering /healthz:\n"
                f"{server.excerpt()}",
                pytrace=False,
            )
        if _listens(server.proc.pid, server.port):
            status, answer = _health(server.url)
            if status == 200 or (status is not None and not healthy):
                return
        if time.monotonic() - started > timeout:
            pytest.fail(
                f"`searchengine serve` did not answer /healthz with 200 within {timeout:.0f} s "
                f"(last answer: {answer}); its log:\n{server.excerpt()}",
                pytrace=False,
            )
        time.sleep(SERVER_POLL)


@contextlib.contextmanager
def running_server(
    index_dir: Path,
    *extra_args: str,
    log_dir: Path,
    workers: int | None = None,
    env: dict[str, str] | None = None,
    timeout: float = SERVER_START_TIMEOUT,
    healthy: bool = True,
) -> Iterator[Server]:
    """Run `searchengine serve --index index_dir` on a free loopback port until the block ends.

    The command is the installed console script; the environment is ours without
    DIGEST_* settings (plus ``env``); stdout and stderr go to a log in ``log_dir``.
    Yields once /healthz answers 200 (any status with ``healthy=False``: a server of a
    broken index) within ``timeout``; a failing test's report
    shows the log. The address is left to the server's default (127.0.0.1, as
    `test_server_binds_loopback_by_default` checks); pass ``"--host", ...`` to change it.
    """
    for _ in range(_PORT_ATTEMPTS):
        port = free_port()
        log_path = Path(log_dir) / f"serve-{port}.log"
        cmd = [*searchengine_command(), "serve", "--index", str(index_dir), "--port", str(port)]
        if workers is not None:
            cmd += ["--workers", str(workers)]
        cmd += extra_args
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=server_env(env),
            )
        server = Server(f"http://127.0.0.1:{port}", port, proc, log_path, workers)
        try:
            _wait_until_responds(server, timeout, healthy)
        except _PortTaken:
            server.stop()
            continue
        except BaseException:
            server.stop()
            raise
        break
    else:
        pytest.fail(f"no free port for `searchengine serve` in {_PORT_ATTEMPTS} attempts")
    _RUNNING.append(server)
    try:
        yield server
    finally:
        _RUNNING.remove(server)
        server.stop()


@pytest.fixture(scope="session")
def sample_server(sample_index, tmp_path_factory) -> Iterator[Server]:
    """`searchengine serve` over the sample index, for the whole session (web and browser)."""
    log_dir = tmp_path_factory.mktemp("sample_server")
    with running_server(sample_index, workers=SERVER_WORKERS, log_dir=log_dir) as server:
        yield server


@pytest.fixture
def serve(tmp_path_factory) -> Iterator[Callable[..., Server]]:
    """Start servers for one test: ``serve(index, "--threads", "6", workers=3)``.

    Takes ``running_server``'s arguments but ``log_dir``; each server stops when the test ends.
    """
    with contextlib.ExitStack() as stack:

        def start(index_dir: Path, *extra_args: str, **options) -> Server:
            log_dir = tmp_path_factory.mktemp("serve")
            return stack.enter_context(
                running_server(index_dir, *extra_args, log_dir=log_dir, **options)
            )

        yield start


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Note where each running server's log stands when a test starts."""
    item.stash[_LOG_MARKS] = {s: s.log_size() for s in _RUNNING}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Show what the running servers logged during a failing test."""
    report = yield
    if report.failed:
        marks = item.stash.get(_LOG_MARKS, {})
        for server in _RUNNING:
            text = server.excerpt(marks.get(server, 0))
            if text.strip():
                report.sections.append((f"searchengine serve log ({server.url})", text))
    return report
