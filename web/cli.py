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
    _warm_up(str(settings.index))
    click.echo(
        f"Digest Search on http://{host}:{port}/ "
        f"({workers} workers × {threads} threads; Ctrl+C to stop)",
        err=True,
    )
    run(str(settings.index), host, port, workers, threads)


def _warm_up(index: str) -> None:
    """Load the code once before the workers fork (they share its pages), and report the index.

    Nothing is searched here: each worker opens the index and its segmenter for itself, so
    a search in the master would only leave memory behind that no worker uses.
    """
    from searchengine.index import open_index
    from web import api, pages  # noqa: F401  (loaded once here, inherited by each worker)

    ix = open_index(index)
    try:
        documents = ix.meta().documents
        click.echo(f"Serving {documents} documents from {index}", err=True)
    except SearchEngineError as exc:
        click.echo(f"warning: {exc}", err=True)
    finally:
        ix.close()
