"""The HTML pages: search and document, rendered on the server, enhanced by a small script."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from flask import Blueprint, current_app, render_template, request, url_for

from searchengine.errors import InvalidParameter, InvalidQuery
from searchengine.lookup import get_document
from searchengine.query import parse_query
from searchengine.search import SearchRequest, SearchResponse, search
from web.feed import feed_title, feed_url
from web.i18n import HELP, LANGS, current_lang, translate
from web.markdown import bounded, language_sections, mark_terms
from web.params import read_request

bp = Blueprint("pages", __name__)


def page_context() -> dict:
    """What every template needs: the interface language and its strings."""
    lang = current_lang()
    other = "en" if lang == "zh" else "zh"
    args = [(k, v) for k, vs in request.args.lists() if k != "lang" for v in vs]
    return {
        "lang_url": quote(request.path) + "?" + urlencode([*args, ("lang", other)]),
        "lang": lang,
        "t": lambda key, **kw: translate(key, lang, **kw),
        "help_rows": HELP[lang],
        "other_lang": other,
    }


_SAME: Any = object()  # a search_url argument left as the request has it


def search_url(
    req: SearchRequest,
    *,
    q: str = _SAME,
    add_tag: str | None = None,
    remove_tag: str | None = None,
    add_author: str | None = None,
    remove_author: str | None = None,
    date_from: date | None = _SAME,
    date_to: date | None = _SAME,
    sort: str = _SAME,
    page: int = 1,
    json: bool = False,
) -> str:
    """Link to the same search with one thing changed (a filter, the sort, the page)."""
    tags = [t for t in req.tags if t != remove_tag]
    if add_tag and add_tag not in tags:
        tags.append(add_tag)
    authors = [a for a in req.authors if a != remove_author]
    if add_author and add_author not in authors:
        authors.append(add_author)
    date_from = req.date_from if date_from is _SAME else date_from
    date_to = req.date_to if date_to is _SAME else date_to
    params: list[tuple[str, str]] = []
    q = req.q if q is _SAME else q
    if q:
        params.append(("q", q))
    params += [("tag", t) for t in tags] + [("author", a) for a in authors]
    if date_from:
        params.append(("from", date_from.isoformat()))
    if date_to:
        params.append(("to", date_to.isoformat()))
    sort = req.sort if sort is _SAME else sort
    if sort != "relevance":
        params.append(("sort", sort))
    if req.per_page != 10:
        params.append(("per_page", str(req.per_page)))
    if page > 1:
        params.append(("page", str(page)))
    endpoint = "api.api_search" if json else "pages.search_page"
    return url_for(endpoint) + ("?" + urlencode(params) if params else "")


def month_range(month: str) -> tuple[date, date]:
    """First and last day of a YYYY-MM month, for the histogram's links."""
    year, mon = (int(x) for x in month.split("-"))
    return date(year, mon, 1), date(year, mon, calendar.monthrange(year, mon)[1])


def _pages(resp: SearchResponse) -> list[int | None]:
    """Page numbers to show: first, last, and a window around the current one."""
    last, cur = resp.pages, resp.request.page
    shown = sorted({1, last, *range(max(1, cur - 2), min(last, cur + 2) + 1)})
    out: list[int | None] = []
    for p in shown:
        if out and p - (out[-1] or 0) > 1:
            out.append(None)
        out.append(p)
    return out


def _render_search(
    req: SearchRequest | None, resp: SearchResponse | None, error: str | None, status: int
):
    today = date.today()
    presets = [
        ("last7", today - timedelta(days=7)),
        ("last30", today - timedelta(days=30)),
        ("lastyear", today - timedelta(days=365)),
    ]
    months = resp.facets.get("date", []) if resp else []
    peak = max((m.count for m in months), default=1)
    html = render_template(
        "search.html",
        req=req or SearchRequest(),
        resp=resp,
        error=error,
        search_url=search_url,
        feed_url=feed_url,
        feed_title=feed_title,
        month_range=month_range,
        pages=_pages(resp) if resp else [],
        presets=presets,
        today=today,
        peak=peak,
        domain=lambda url: (urlsplit(url).hostname or "") if url else "",
        documents=current_app.extensions["digest_index"].meta().documents,
        **page_context(),
    )
    return html, status


@bp.after_request
def remember_language(response):
    """Keep the interface language a reader picked with ?lang= on any page."""
    if request.args.get("lang") in LANGS:
        response.set_cookie("lang", request.args["lang"], max_age=365 * 86400, samesite="Lax")
    return response


@bp.get("/")
def home():
    return search_page()


@bp.get("/search")
def search_page():
    index = current_app.extensions["digest_index"]
    try:
        req = read_request(request.args, disjunctive=True)
        resp = search(index, req)
    except (InvalidParameter, InvalidQuery) as exc:
        # Keep the typed query in the box (its first 1,000 characters) with the error.
        q = request.args.get("q", "")[:1000]
        return _render_search(SearchRequest(q=q), None, str(exc), 400)
    return _render_search(req, resp, None, 200)


def _day(iso: str | None) -> date | None:
    return date.fromisoformat(iso[:10]) if iso else None


@bp.get("/doc/<id:doc_id>")
def doc_page(doc_id: str):
    index = current_app.extensions["digest_index"]
    doc = get_document(index, doc_id)
    q = request.args.get("q", "")[:1000]
    try:
        terms = parse_query(q).highlight if q else None
    except InvalidQuery:
        terms = None
    shown, truncated = bounded(doc.body)
    sections = [
        (lang, mark_terms(html, terms) if terms else html)
        for lang, html in language_sections(shown)
    ]
    back = url_for("pages.search_page", q=q) if q else url_for("pages.home")
    return render_template(
        "doc.html",
        doc=doc,
        sections=sections,
        truncated=truncated,
        shown_chars=len(shown),
        total_chars=len(doc.body),
        q=q,
        back=back,
        domain=(urlsplit(doc.url).hostname or "") if doc.url else "",
        day_url=search_url(SearchRequest(), date_from=d, date_to=d)
        if (d := _day(doc.date))
        else "",
        **page_context(),
    )
