"""An Atom feed for every search, so a reader can subscribe to a topic in a feed reader."""

from __future__ import annotations

import hashlib
import html
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlencode

from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, current_app, jsonify, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.http import http_date, is_resource_modified

from searchengine.errors import SearchEngineError
from searchengine.search import Hit, SearchRequest, SearchResponse, search
from web.errors import STATUS
from web.params import read_request

bp = Blueprint("feed", __name__)

ENTRIES = 20
MIMETYPE = "application/atom+xml"
IGNORED = ("sort", "page", "per_page")  # a feed is always the newest first, one page
FEED_VERSION = "1"  # bump when the feed's shape changes, so cached copies are refetched
# Ids of entries and feeds: the same on every host the site is served from.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:digest-search")
# Characters XML 1.0 cannot hold at all (lxml refuses them): control characters and the like.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TAG = re.compile(r"<[^>]*>")


def feed_request(args: MultiDict) -> SearchRequest:
    """Read a feed's search like the API does, but always newest first and one page of 20."""
    args = MultiDict(args)
    for name in IGNORED:
        args.poplist(name)
    return replace(read_request(args), sort="newest", page=1, per_page=ENTRIES)


def feed_params(req: SearchRequest) -> list[tuple[str, str]]:
    """Give the parameters that define a feed, in one order, so equal searches share a feed."""
    params = [("q", req.q)] if req.q else []
    params += [("tag", t) for t in req.tags] + [("author", a) for a in req.authors]
    if req.date_from:
        params.append(("from", req.date_from.isoformat()))
    if req.date_to:
        params.append(("to", req.date_to.isoformat()))
    return params


def feed_url(req: SearchRequest, *, external: bool = False) -> str:
    """Link to the feed of a search (results pages put it in their head and by their summary)."""
    query = urlencode(feed_params(req))
    base = url_for("api.feed.atom_feed", _external=external)
    return base + ("?" + query if query else "")


def feed_title(req: SearchRequest) -> str:
    """Name a feed after its query and filters, as a feed reader lists it."""
    parts = [xml_text(req.q).strip()]
    parts += [f"#{xml_text(t)}" for t in req.tags] + [xml_text(a) for a in req.authors]
    if req.date_from or req.date_to:
        start = req.date_from.isoformat() if req.date_from else "…"
        end = req.date_to.isoformat() if req.date_to else "…"
        parts.append(f"{start} – {end}")
    shown = " · ".join(p for p in parts if p)
    return "Digest Search: " + (shown or "latest digests")


def plain(markup: str) -> str:
    """Turn a highlight (escaped text with <mark> tags) into plain text for a text summary.

    >>> plain("rate <mark>cut</mark> &lt;script&gt; &amp; more")
    'rate cut <script> & more'
    """
    return html.unescape(_TAG.sub("", markup))


def xml_text(text: str) -> str:
    """Drop characters XML cannot carry, so no corpus text or query can break the feed.

    >>> xml_text("a\\x00b\\x0bc\\ufffed")
    'abcd'
    """
    return _NOT_XML.sub("", text)


def _moment(iso: str | None, fallback: datetime) -> datetime:
    if not iso:
        return fallback
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return fallback
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _external(endpoint: str, **values) -> str:
    """Link on the host the reader asked, as a feed needs; a path when the Host is unusable.

    Werkzeug drops a Host with invalid characters (and refuses hosts not in TRUSTED_HOSTS
    when that is configured). A forged but well-formed Host only reaches the forger: the
    ETag holds the host and ``no-cache`` makes a shared cache revalidate every copy.
    """
    return url_for(endpoint, _external=bool(request.host), **values)


def _summary(hit: Hit) -> str:
    parts = [hit.description.strip(), plain(hit.snippet_html).strip()]
    return "\n\n".join(dict.fromkeys(p for p in parts if p))


def render_feed(req: SearchRequest, resp: SearchResponse, changed: datetime) -> bytes:
    """Write the results as Atom 1.0: plain-text titles and summaries, links to document pages."""
    params = feed_params(req)
    query = urlencode(params)
    fg = FeedGenerator()
    fg.id(uuid.uuid5(NAMESPACE, "feed?" + query).urn)
    fg.title(feed_title(req))
    fg.author({"name": "Digest Search"})
    fg.generator("Digest Search")
    self_url = _external("api.feed.atom_feed") + ("?" + query if query else "")
    fg.link(href=self_url, rel="self", type=MIMETYPE)
    page = urlencode([*params, ("sort", "newest")])
    fg.link(href=_external("pages.search_page") + "?" + page, rel="alternate", type="text/html")
    newest = None
    for hit in resp.results:
        updated = _moment(hit.date, changed)
        newest = max(newest or updated, updated)
        entry = fg.add_entry(order="append")
        entry.id(uuid.uuid5(NAMESPACE, "doc/" + hit.id).urn)
        entry.title(xml_text(hit.title).strip() or xml_text(hit.id).strip() or "(untitled)")
        link = _external("pages.doc_page", doc_id=hit.id, q=req.q or None)
        entry.link(href=link, rel="alternate", type="text/html")
        entry.updated(updated)
        if hit.date:
            entry.published(updated)
        if author := xml_text(hit.author).strip():
            entry.author({"name": author})
        for tag in hit.tags:
            if term := xml_text(tag).strip():
                entry.category(term=term)
        if summary := xml_text(_summary(hit)):
            entry.summary(summary, type="text")
    fg.updated(newest or changed)
    return fg.atom_str(pretty=True)


def _snapshot(index) -> tuple[str, datetime]:
    """Identify the live index (what a feed's content depends on) and when it last changed."""
    with index.view() as view:
        token = repr((view.generation.name, view.stamps, view.whoosh_generation))
        meta = view.meta
    changed = _moment(meta.updated_at or meta.built_at, datetime.now(UTC))
    return token, changed.replace(microsecond=0)


def _etag(token: str, req: SearchRequest) -> str:
    """Tag a feed by index snapshot, search and host: any of them changes the bytes served."""
    key = "\n".join([FEED_VERSION, token, request.host, urlencode(feed_params(req))])
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _validators(response: Response, etag: str, changed: datetime) -> Response:
    response.set_etag(etag)
    response.headers["Last-Modified"] = http_date(changed)
    response.headers["Cache-Control"] = "no-cache"  # readers may keep it but must ask again
    return response


@bp.get("/feed.atom")
def atom_feed():
    index = current_app.extensions["digest_index"]
    req = feed_request(request.args)
    token, changed = _snapshot(index)
    etag = _etag(token, req)
    if not is_resource_modified(request.environ, etag=etag, last_modified=changed):
        not_modified = Response(status=304)
        del not_modified.headers["Content-Type"]
        return _validators(not_modified, etag, changed)
    resp = search(index, req)
    body = render_feed(req, resp, changed)
    response = Response(body, mimetype=MIMETYPE)  # Flask adds "; charset=utf-8"
    if _snapshot(index)[0] != token:
        # The index switched during the search: the body may be of either snapshot, so give
        # no validators that could pin a reader to the old one.
        response.headers["Cache-Control"] = "no-cache"
        return response
    return _validators(response, etag, changed)


def _json_error(status: int, code: str, message: str) -> Response:
    """Answer a feed reader with the API's error shape, since a feed is machine-read too."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


@bp.errorhandler(SearchEngineError)
def _engine_error(exc: SearchEngineError) -> Response:
    return _json_error(STATUS.get(type(exc), 400), exc.code, str(exc))


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    code = (exc.name or "error").lower().replace(" ", "_")
    response = _json_error(exc.code or 400, code, exc.description or exc.name)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response
