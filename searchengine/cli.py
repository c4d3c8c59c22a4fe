"""The `searchengine` command group: query the index from a shell.

The web app adds `serve` to this group (web/cli.py), so the library never imports the app.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from searchengine.config import ENV_INDEX, Settings
from searchengine.errors import SearchEngineError

index_option = click.option(
    "--index",
    "index",
    type=click.Path(path_type=Path),
    envvar=ENV_INDEX,
    help=f"Index folder [env {ENV_INDEX}; default: ./index_data].",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="digest-search")
def main() -> None:
    """Search the Digest Search index, or serve it over HTTP.

    Example: searchengine query "美联储 降息" --tag us
    """


@main.command()
@click.argument("q", default="")
@index_option
@click.option(
    "--tag", "tags", multiple=True, help="Only digests with this tag (repeat: all must match)."
)
@click.option(
    "--author", "authors", multiple=True, help="Only digests by this author (repeat: any)."
)
@click.option("--from", "date_from", help="First day, YYYY-MM-DD.")
@click.option("--to", "date_to", help="Last day, YYYY-MM-DD.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance")
@click.option("--page", type=int, default=1, show_default=True)
@click.option("--per-page", type=int, default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON response.")
def query(q, index, tags, authors, date_from, date_to, sort, page, per_page, as_json) -> None:
    """Run the same search as the API and print the results.

    Example: searchengine query "rate cut" --from 2024-01-01 --json
    """
    from searchengine.index import open_index
    from searchengine.params import parse_request
    from searchengine.search import search

    params = {
        "q": [q],
        "tag": list(tags),
        "author": list(authors),
        "from": [date_from] if date_from else [],
        "to": [date_to] if date_to else [],
        "sort": [sort],
        "page": [str(page)],
        "per_page": [str(per_page)],
    }
    ix = open_index(Settings.resolve(None, index).index)
    try:
        resp = search(ix, parse_request(lambda name: params.get(name, [])))
    except SearchEngineError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    finally:
        ix.close()
    if as_json:
        click.echo(json.dumps(resp.to_dict(), ensure_ascii=False, indent=1))
        return
    note = " (relaxed: not every word matched)" if resp.relaxed else ""
    click.echo(f"{resp.total} results in {resp.took_ms} ms{note}")
    if resp.suggestion:
        click.echo(f"Did you mean: {resp.suggestion}")
    for n, hit in enumerate(resp.results, start=(page - 1) * per_page + 1):
        day = hit.date[:10] if hit.date else "no date"
        click.echo(f"{n:>3}. {hit.title}  [{day}]  {hit.id}")
