"""The `searchengine` command as installed: the library's commands plus `serve`."""

from __future__ import annotations

import logging
import sys

import click

from searchengine.cli import index_option, main
from searchengine.config import Settings
from searchengine.errors import SearchEngineError
from web.server import default_workers

__all__ = ["main", "serve"]


@main.command()
@index_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; 127.0.0.1 keeps it private.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=default_workers,
    show_default="one per CPU core",
    help="Worker processes; each opens the index and answers requests on its own.",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Threads per worker: requests each process takes in at once.",
)
def serve(index, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the search page and the JSON API on gunicorn (a production WSGI server).

    --workers processes with --threads threads each; a rebuild is picked up without a
    restart. Stop with Ctrl+C.

    Example: searchengine serve --port 8000 --workers 4
    """
    from web.server import run

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr
    )
    settings = Settings.resolve(None, index)
    _report(str(settings.index))
    click.echo(
        f"Digest Search on http://{host}:{port}/ "
        f"({workers} workers × {threads} threads; Ctrl+C to stop)",
        err=True,
    )
    run(str(settings.index), host, port, workers, threads)


def _report(index: str) -> None:
    """Say what will be served, from the index's metadata alone.

    The master process loads no engine: each worker imports and opens it for itself, so
    the master stays small (it would hold its own copy of the engine's memory).
    """
    from searchengine.store import IndexMeta, IndexStore

    try:
        meta = IndexMeta.load(IndexStore(index).require_current())
        click.echo(f"Serving {meta.documents} documents from {index}", err=True)
    except SearchEngineError as exc:
        click.echo(f"warning: {exc}", err=True)
