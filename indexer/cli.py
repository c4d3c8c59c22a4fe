"""The `indexer` command: rebuild, update, watch and status of the search index.

Exit codes, the same for every command: 0 done; 1 with ``--strict`` when a file was
skipped; 2 when the work cannot be done (a missing or empty corpus, no index yet, an
unusable index folder, a bad option); 128 + the signal number when a stop signal
interrupted it (``watch`` stops cleanly with 0 on the first).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import click

from indexer.corpus import SAMPLE_CORPUS
from indexer.report import Report
from searchengine.cli import index_option
from searchengine.config import (
    ENV_CORPUS,
    ENV_MAX_FILE_SIZE,
    ENV_USER_DICT,
    Settings,
    parse_size,
)

EXIT_SKIPPED = 1  # --strict was given and a file was skipped
EXIT_FAILED = 2  # the work cannot be done: no corpus, no index, a bad option (as click's)

corpus_option = click.option(
    "--corpus",
    type=click.Path(path_type=Path),
    envvar=ENV_CORPUS,
    help=f"Folder of Markdown digests [env {ENV_CORPUS}; default: the bundled sample corpus].",
)
dict_option = click.option(
    "--user-dict",
    type=click.Path(path_type=Path),
    envvar=ENV_USER_DICT,
    help=f"jieba-format user dictionary [env {ENV_USER_DICT}; default: userdict.txt in the corpus].",
)


class _Size(click.ParamType):
    """A byte count such as 16MB, 500KB or 1048576."""

    name = "SIZE"

    def convert(self, value, param, ctx) -> int:
        try:
            size = parse_size(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if size < 1:
            self.fail("must be at least 1 byte", param, ctx)
        return size


max_size_option = click.option(
    "--max-file-size",
    type=_Size(),
    envvar=ENV_MAX_FILE_SIZE,
    default=None,
    help=f"Skip files larger than this, e.g. 500KB or 64MB [env {ENV_MAX_FILE_SIZE}; "
    "default: 16MB].",
)


def _use_max_file_size(size: int | None) -> None:
    """Hand the limit to parse_file here and in the worker processes, which inherit it."""
    if size is not None:
        os.environ[ENV_MAX_FILE_SIZE] = str(size)


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived: unwind like Ctrl-C so a half-built index is removed."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _stop_signals_unwind() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into an exception so cleanup runs; restore handlers after.

    Forked worker processes inherit the handler: there it restores the default action
    and re-sends the signal, so a worker simply dies when its pool is terminated.
    """
    main_pid = os.getpid()
    signums = [signal.SIGTERM, signal.SIGHUP]

    def handler(signum, frame):
        if os.getpid() != main_pid:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        for s in [*signums, signal.SIGINT]:
            signal.signal(s, signal.SIG_IGN)  # let the cleanup finish
        raise Interrupted(signum)

    previous = {signal.SIGINT: signal.getsignal(signal.SIGINT)}
    previous.update((s, signal.signal(s, handler)) for s in signums)
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def _progress_factory():
    """Show a progress bar with documents per second on a terminal only."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    def factory(total: int):
        bar = tqdm(total=total, unit="doc", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)
        return bar.update

    return factory


def _waiting() -> None:
    click.echo("Another indexer is writing to this index; waiting for it to finish…", err=True)


@contextlib.contextmanager
def _exit_on_failure() -> Iterator[None]:
    """Exit with one line on stderr when a stop signal or a known failure ends the job.

    A stop signal exits with 128 + its number, a known failure with EXIT_FAILED.
    """
    from searchengine.errors import SearchEngineError

    try:
        with _stop_signals_unwind():
            yield
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        name = signal.Signals(signum).name
        click.echo(f"interrupted by {name}: the live index keeps its last complete state", err=True)
        sys.exit(128 + signum)
    except SearchEngineError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        click.echo(f"error: cannot use the index folder{where}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_FAILED)


def _print_report(report: Report, as_json: bool) -> None:
    """List skipped files and fallbacks on stderr, then the summary line or the JSON."""
    for path, reason in report.skipped:
        click.echo(f"skipped: {path}: {reason}", err=True)
    for path, note in report.notes:
        click.echo(f"note: {path}: {note}", err=True)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    else:
        click.echo(report.summary())


def _run_job(
    job: Callable[[], Report], max_file_size: int | None, strict: bool, as_json: bool
) -> None:
    """Run a rebuild or an update, print its report, and exit as the README says."""
    _use_max_file_size(max_file_size)
    with _exit_on_failure():
        report = job()
    _print_report(report, as_json)
    _exit_if_strict_and_skipped(report, strict)


def _exit_if_strict_and_skipped(report: Report, strict: bool) -> None:
    if strict and report.skipped:
        click.echo(f"error: {len(report.skipped)} file(s) skipped and --strict was given", err=True)
        sys.exit(EXIT_SKIPPED)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="digest-search")
def main() -> None:
    """Build and maintain the Digest Search index.

    Example: indexer rebuild --corpus ~/digests
    """


@main.command()
@corpus_option
@index_option
@dict_option
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes for parsing and segmentation [default: CPU count].",
)
@max_size_option
@click.option("--strict", is_flag=True, help="Exit non-zero when any file was skipped.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def rebuild(corpus, index, user_dict, jobs, max_file_size, strict, as_json) -> None:
    """Rebuild the whole index, then switch to it atomically.

    Readers keep using the old index until the new one is complete.

    Example: indexer rebuild --corpus ~/digests --index ./index_data
    """
    from indexer.rebuild import rebuild as run

    settings = Settings.resolve(corpus or SAMPLE_CORPUS, index, user_dict)
    progress = _progress_factory()
    job = partial(run, settings, jobs=jobs, progress_factory=progress, on_wait=_waiting)
    _run_job(job, max_file_size, strict, as_json)


@main.command()
@corpus_option
@index_option
@max_size_option
@click.option("--strict", is_flag=True, help="Exit non-zero when any file was skipped.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def update(corpus, index, max_file_size, strict, as_json) -> None:
    """Re-index new and changed files and drop deleted ones.

    Uses the corpus the index was built from unless --corpus is given.

    Example: indexer update
    """
    from indexer.update import update as run

    settings = Settings.resolve(None, index)
    job = partial(run, settings, corpus=corpus, on_wait=_waiting)
    _run_job(job, max_file_size, strict, as_json)


@main.command()
@corpus_option
@index_option
@max_size_option
def watch(corpus, index, max_file_size) -> None:
    """Keep the index current: apply each change in the corpus within 2 seconds.

    Added, edited, deleted and renamed files and synonyms.txt are applied in batches
    until Ctrl-C or SIGTERM; the server needs no restart. A changed userdict.txt needs
    a rebuild, which watch says but does not run.

    Example: indexer watch --corpus ~/digests --index ./index_data
    """
    from indexer.watch import watch as run

    settings = Settings.resolve(None, index)
    _use_max_file_size(max_file_size)
    with _exit_on_failure():
        run(settings, corpus=corpus, say=lambda line: click.echo(line, err=True))


@main.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(index, as_json) -> None:
    """Show the live index: documents, when built, corpus, path and size.

    Example: indexer status --json
    """
    from searchengine.errors import SearchEngineError
    from searchengine.store import IndexStore

    store = IndexStore(Settings.resolve(None, index).index)
    gen = store.current()
    if gen is None:
        msg = f"No index at {store.root}. Build one with: indexer rebuild --index {store.root}"
        if as_json:
            click.echo(json.dumps({"status": "missing", "index": str(store.root), "message": msg}))
        else:
            click.echo(f"error: {msg}", err=True)
        sys.exit(EXIT_FAILED)
    try:
        info = _status_info(store, gen, _readable_meta(store))
    except SearchEngineError as exc:
        if as_json:
            click.echo(
                json.dumps({"status": "unreadable", "index": str(store.root), "message": str(exc)})
            )
        else:
            click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=1))
    else:
        _print_status(info)


def _readable_meta(store):
    """The generation's metadata, once its files have opened as a search would open them."""
    from searchengine.index import open_index

    ix = open_index(store.root)
    try:
        return ix.meta()
    finally:
        ix.close()


def _status_info(store, gen: Path, meta) -> dict:
    """Describe the live generation, and say whether its user dictionary is current."""
    from searchengine.dictionary import dictionary_change

    change = dictionary_change(meta)
    return {
        "status": "ok",
        "documents": meta.documents,
        "skipped": meta.skipped,
        "built_at": meta.built_at,
        "updated_at": meta.updated_at,
        "corpus": meta.corpus,
        "index": str(store.root),
        "generation": gen.name,
        "size_bytes": store.size_on_disk(gen),
        "schema_version": meta.schema_version,
        "segmenter": meta.segmenter,
        "user_dict": meta.user_dict,
        "user_dict_changed": change is not None,
        "synonyms": {"hash": meta.synonyms_hash, "groups": meta.synonyms_groups},
        "rebuild_due": change,
    }


def _print_status(info: dict) -> None:
    """One aligned line per field, then a sentence when a rebuild is due."""
    width = max(len(k) for k in info)
    for key, value in info.items():
        if key == "rebuild_due":
            continue  # said in a sentence below
        if key == "size_bytes":
            key, value = "size", f"{value / 1e6:.1f} MB"
        if key == "synonyms":
            value = f"{value['groups']} groups (hash {value['hash']})" if value["hash"] else "none"
        shown = "never" if value is None and key == "updated_at" else value
        click.echo(f"{key.replace('_', ' '):<{width}}  {'–' if shown is None else shown}")
    if info["rebuild_due"]:
        click.echo(f"Rebuild due: {info['rebuild_due']}. Run: indexer rebuild")


if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(sys.argv[0]))
