"""The JSON API through the Flask test client, checked against the contract and the corpus."""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter
from urllib.parse import quote

import pytest

from indexer.corpus import SAMPLE_CORPUS
from searchengine.params import parse_request

TOP_KEYS = [
    "query",
    "total",
    "page",
    "per_page",
    "took_ms",
    "relaxed",
    "results",
    "facets",
    "suggestion",
    "notice",
]
RESULT_KEYS = {"id", "title", "description", "date", "tags", "author", "url", "score", "highlights"}
PANDA = "odd/file with spaces 中文名"


def get_json(client, url, status=200, **kw):
    """GET a JSON endpoint: check the status and the content type, return the body."""
    resp = client.get(url, **kw)
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/json"
    return resp.get_json()


def assert_error(resp, status: int, mentions: str | None = None) -> dict:
    """The contract's error shape: {"error": {"code", "message"}} with a 4xx status."""
    assert resp.status_code == status
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] and isinstance(body["error"]["code"], str)
    assert body["error"]["message"] and isinstance(body["error"]["message"], str)
    if mentions:
        assert mentions in body["error"]["message"]
    return body["error"]


def everything(client, **params) -> dict:
    return get_json(client, "/api/search", query_string={"per_page": 100, **params})


def expected_facets(docs) -> dict[str, Counter]:
    """Count tags (case-folded), authors and UTC months of documents, independently."""
    return {
        "tags": Counter(t for d in docs for t in d.tags),
        "author": Counter(d.author.casefold() for d in docs if d.author),
        "date": Counter(d.month for d in docs if d.month),
    }


def api_facets(body: dict) -> dict[str, Counter]:
    facets = body["facets"]
    return {
        "tags": Counter({f["value"].casefold(): f["count"] for f in facets["tags"]}),
        "author": Counter({f["value"].casefold(): f["count"] for f in facets["author"]}),
        "date": Counter({f["value"]: f["count"] for f in facets["date"]}),
    }


def day(doc) -> dt.date | None:
    return doc.date.date() if doc.date else None


# --- Shape ---------------------------------------------------------------------------


def test_search_answers_json_with_exactly_the_contract_keys(client):
    body = get_json(client, "/api/search?q=美联储")
    assert list(body) == TOP_KEYS
    assert body["query"] == "美联储"
    assert (body["page"], body["per_page"]) == (1, 10)
    assert isinstance(body["took_ms"], (int, float)) and body["took_ms"] >= 0
    assert body["relaxed"] is False and body["suggestion"] is None
    assert set(body["facets"]) == {"tags", "author", "date"}
    assert body["results"]
    for hit in body["results"]:
        assert set(hit) == RESULT_KEYS
        assert set(hit["highlights"]) == {"title", "snippet"}
        assert isinstance(hit["tags"], list) and isinstance(hit["score"], (int, float))


def test_highlights_mark_the_query_and_keep_the_title(client):
    body = get_json(client, "/api/search?q=美联储")
    for hit in body["results"]:
        marked = hit["highlights"]["title"] + hit["highlights"]["snippet"]
        assert "<mark>美联储</mark>" in marked
        plain = hit["highlights"]["title"].replace("<mark>", "").replace("</mark>", "")
        assert html.unescape(plain) == hit["title"]


def test_empty_query_lists_every_document_newest_first(client, sample_docs):
    body = everything(client)
    assert body["total"] == len(sample_docs) == 56
    ids = [r["id"] for r in body["results"]]
    assert set(ids) == set(sample_docs)
    dates = [r["date"] for r in body["results"]]
    dated = [dt.datetime.fromisoformat(d) for d in dates if d]
    assert dated == sorted(dated, reverse=True)
    assert all(d is None for d in dates[len(dated) :]), "undated documents come last"
    for r in body["results"]:
        want = sample_docs[r["id"]].date
        assert (dt.datetime.fromisoformat(r["date"]) if r["date"] else None) == want, r["id"]


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_sort_by_date(client, sort):
    body = everything(client, q="美联储", sort=sort)
    dates = [dt.datetime.fromisoformat(r["date"]) for r in body["results"]]
    assert len(dates) == body["total"] == 13
    assert dates == sorted(dates, reverse=sort == "newest")


def test_relevance_is_the_default_and_orders_by_score(client):
    body = everything(client, q="降息")
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert body == {**everything(client, q="降息", sort="relevance"), "took_ms": body["took_ms"]}


# --- Filters -------------------------------------------------------------------------


def test_repeated_tags_must_all_match(client, sample_docs):
    body = everything(client, tag=["economy", "US"])
    want = {i for i, d in sample_docs.items() if {"economy", "us"} <= set(d.tags)}
    assert want and {r["id"] for r in body["results"]} == want
    assert body["total"] == len(want)
    assert everything(client, tag="economy")["total"] > len(want)


def test_repeated_authors_may_any_match(client, sample_docs):
    authors = ["hnrss.org", "scmp.example"]
    body = everything(client, author=authors)
    want = {i for i, d in sample_docs.items() if d.author in authors}
    assert {r["id"] for r in body["results"]} == want
    assert body["total"] == 8


@pytest.mark.parametrize(
    ("start", "end"),
    [("2024-07-10", "2024-07-31"), ("2024-07-31", "2024-07-31"), ("2025-11-06", "2025-11-26")],
)
def test_date_range_is_inclusive_at_both_ends(client, sample_docs, start, end):
    lo, hi = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    want = {i for i, d in sample_docs.items() if day(d) and lo <= day(d) <= hi}
    days = {day(sample_docs[i]) for i in want}
    assert lo in days and hi in days, "the corpus has documents on both boundary days"
    body = everything(client, **{"from": start, "to": end})
    assert {r["id"] for r in body["results"]} == want


def test_pages_cover_the_results_once(client):
    whole = [r["id"] for r in everything(client)["results"]]
    pages, page = [], 1
    while True:
        body = get_json(client, "/api/search", query_string={"per_page": 7, "page": page})
        assert (body["page"], body["per_page"], body["total"]) == (page, 7, 56)
        if not body["results"]:
            break
        pages += [r["id"] for r in body["results"]]
        page += 1
    assert pages == whole and page == 9


# --- Facets: exact over everything that matched ----------------------------------------


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({}, lambda d: True),
        ({"tag": "economy"}, lambda d: "economy" in d.tags),
        (
            {"author": ["reuters.example", "scmp.example"]},
            lambda d: d.author in ("reuters.example", "scmp.example"),
        ),
        (
            {"from": "2025-01-01", "to": "2025-06-30"},
            lambda d: (
                d.date is not None and dt.date(2025, 1, 1) <= d.date.date() <= dt.date(2025, 6, 30)
            ),
        ),
    ],
    ids=["everything", "tag", "authors", "dates"],
)
def test_facet_counts_are_exact(client, sample_docs, params, keep):
    body = get_json(client, "/api/search", query_string={"per_page": 1, **params})
    docs = [d for d in sample_docs.values() if keep(d)]
    assert body["total"] == len(docs)
    assert api_facets(body) == expected_facets(docs)
    months = [f["value"] for f in body["facets"]["date"]]
    assert months == sorted(months)
    counts = [f["count"] for f in body["facets"]["tags"]]
    assert counts == sorted(counts, reverse=True)


@pytest.mark.parametrize(
    "params", [{"q": "美联储"}, {"q": "美联储", "tag": "us"}, {"q": "rate OR 人工智能"}]
)
def test_facets_of_a_query_count_all_its_matches_not_only_the_page(client, sample_docs, params):
    ids = [r["id"] for r in everything(client, **params)["results"]]
    body = get_json(client, "/api/search", query_string={"per_page": 1, **params})
    assert body["total"] == len(ids) > 1
    assert api_facets(body) == expected_facets([sample_docs[i] for i in ids])


# --- Bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "101"}, "per_page"),
        ({"page": "0"}, "page"),
        ({"page": "abc"}, "page"),
        ({"sort": "bogus"}, "sort"),
        ({"from": "2024-13-01"}, "from"),
        ({"from": "notadate"}, "from"),
        ({"to": "2024-02-30"}, "to"),
        ({"q": "rate " * 400}, "q"),
        ({"tag": [f"t{i}" for i in range(21)]}, "tag"),
    ],
)
def test_invalid_parameters_are_400_with_the_error_shape(client, params, name):
    resp = client.get("/api/search", query_string=params)
    assert_error(resp, 400, mentions=name)


def test_an_overlong_url_is_refused_with_the_error_shape(client):
    resp = client.get("/api/search", query_string={"q": "美联储" * 2000})
    assert 400 <= resp.status_code < 500
    assert_error(resp, resp.status_code)


@pytest.mark.parametrize(
    "query",
    [
        "q=%ff",
        "q=%",
        "q=%zz",
        "tag=%ff%fe",
        "from=%ff",
        "page=%00",
        "q=%ED%A0%80",
        "q=%C0%AF",
        "author=%ED%A0%80",
        "q[]=x",
        "per_page=10&per_page=abc",
        "sort=%00",
        "q=a&q=b",
    ],
)
def test_odd_query_strings_get_results_or_a_400(client, query):
    resp = client.get("/api/search?" + query)
    if resp.status_code == 200:
        assert list(resp.get_json()) == TOP_KEYS
    else:
        assert_error(resp, 400)


# --- One document --------------------------------------------------------------------


def test_document_with_spaces_and_chinese_in_its_id(client, sample_docs):
    doc = get_json(client, "/api/doc/" + quote(PANDA))
    assert {"id", "title", "description", "date", "tags", "author", "url", "body", "html"} <= set(
        doc
    )
    assert doc["id"] == PANDA
    assert doc["title"] == sample_docs[PANDA].title == "旅美大熊猫抵达新家，动物园开放首周预约爆满"
    assert doc["tags"] == ["china", "science"]
    assert doc["url"] == "https://economist.example/2025/04/giant-pandas-new-home"
    assert "大熊猫" in doc["body"] and "giant pandas" in doc["body"]
    assert "**摘要：**" in doc["body"] and "<strong>摘要：</strong>" in doc["html"]
    assert "<p>" in doc["html"]


def test_document_html_is_sanitised(client):
    doc = get_json(client, "/api/doc/odd/hostile-markup")
    assert "<script" in doc["body"]
    lowered = doc["html"].lower()
    for bad in (
        "<script",
        "<iframe",
        "<style",
        "onerror",
        "onclick",
        "onmouseover",
        'href="javascript',
    ):
        assert bad not in lowered


def test_unknown_document_is_404(client):
    assert_error(client.get("/api/doc/2024/07/no-such-digest"), 404)
    assert_error(client.get("/api/doc/odd/hostile-markup.md"), 404)


TRAVERSALS = [
    "..%2F..%2Fetc%2Fpasswd",
    "../../../../etc/passwd",
    "..%2F..%2F..%2F..%2Fpyproject",
    "odd%2F..%2F..%2F..%2Fpyproject",
    "%2Fetc%2Fpasswd",
    "/etc/passwd",
    "%00",
    "odd/%00hostile-markup",
    "....//....//etc/passwd",
    "..%252F..%252Fetc%252Fpasswd",
    "%5C..%5C..%5Cetc%5Cpasswd",
    "file:%2F%2F%2Fetc%2Fpasswd",
    "%2E%2E/%2E%2E/pyproject",
    quote(str(SAMPLE_CORPUS / "odd" / "hostile-markup")),
]


@pytest.mark.parametrize("doc_id", TRAVERSALS)
@pytest.mark.parametrize("prefix", ["/api/doc/", "/doc/"])
def test_path_traversal_ids_are_404_never_file_contents(client, prefix, doc_id):
    resp = client.get(prefix + doc_id, follow_redirects=True)
    for step in resp.history:  # Werkzeug may merge slashes first; it must stay on the route
        assert step.location.startswith(prefix) or step.location.startswith(
            "http://localhost" + prefix
        )
    text = resp.get_data(as_text=True)
    assert "root:" not in text and "[build-system]" not in text and "恶意标记测试" not in text
    if prefix == "/api/doc/":
        assert_error(resp, 404)
    else:
        assert resp.status_code == 404 and resp.mimetype == "text/html"


@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2f..%2fpyproject.toml",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/../../pyproject.toml",
        "/static/%2Fetc%2Fpasswd",
    ],
)
def test_static_files_stay_in_their_folder(client, path):
    with client.get(path, follow_redirects=True) as resp:
        assert resp.status_code == 404
        assert b"[build-system]" not in resp.data and b"root:" not in resp.data


# --- Description and health ----------------------------------------------------------


def test_openapi_documents_every_parameter_and_path(client, app):
    spec = get_json(client, "/api/openapi.json")
    assert spec["openapi"].startswith("3.")
    asked: list[str] = []
    parse_request(lambda name: asked.append(name) or [])
    documented = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert (
        documented == set(asked) == {"q", "tag", "author", "from", "to", "sort", "page", "per_page"}
    )

    def shape(path: str) -> str:
        return "".join("{}" if part.startswith(("<", "{")) else part for part in path.split("/"))

    routes = {
        shape(r.rule)
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/") or r.rule in ("/healthz", "/feed.atom")
    }
    assert routes == {shape(p) for p in spec["paths"]}
    for path in spec["paths"].values():
        for op in path.values():
            assert "200" in op["responses"]


def test_healthz(client, sample_docs):
    body = get_json(client, "/healthz")
    assert body["status"] == "ok"
    assert body["documents"] == len(sample_docs)
    built = dt.datetime.fromisoformat(body["built_at"])
    assert abs(dt.datetime.now(dt.UTC) - built.astimezone(dt.UTC)) < dt.timedelta(hours=1)
    assert body["generation"] and "/" not in body["generation"]


def test_healthz_shows_no_file_system_paths(client, sample_index):
    body = get_json(client, "/healthz")
    assert set(body) == {
        "status",
        "documents",
        "built_at",
        "updated_at",
        "generation",
        "user_dict",
        "user_dict_changed",
        "synonyms",
    }
    assert body["user_dict"] is True and body["user_dict_changed"] is False
    assert body["synonyms"]["groups"] > 0 and len(body["synonyms"]["hash"]) == 16
    text = client.get("/healthz").get_data(as_text=True)
    assert str(sample_index) not in text and str(SAMPLE_CORPUS) not in text


def test_healthz_without_an_index_is_503_without_paths(tmp_path):
    from web import create_app

    app = create_app({"INDEX": str(tmp_path / "nothing-here"), "TESTING": True})
    try:
        resp = app.test_client().get("/healthz")
        assert_error(resp, 503)
        assert str(tmp_path) not in resp.get_data(as_text=True)
    finally:
        app.extensions["digest_index"].close()


# --- HTTP manners --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("url", ["/api/search", "/api/doc/" + quote(PANDA), "/healthz", "/search"])
def test_a_wrong_method_is_405_with_allow(client, method, url):
    resp = client.open(url, method=method)
    assert resp.status_code == 405
    assert {m.strip() for m in resp.headers["Allow"].split(",")} >= {"GET", "HEAD"}
    if url != "/search":
        assert_error(resp, 405)


@pytest.mark.parametrize("name", ["from", "to"])
def test_an_empty_date_means_no_limit_as_documented(client, app, name):
    spec = get_json(client, "/api/openapi.json")
    param = next(p for p in spec["paths"]["/api/search"]["get"]["parameters"] if p["name"] == name)
    assert "empty" in param["description"]
    assert {"maxLength": 0} in param["schema"]["anyOf"]
    assert everything(client, **{name: ""})["total"] == everything(client)["total"]


def test_a_huge_page_is_an_empty_page_up_to_the_documented_maximum(client):
    spec = get_json(client, "/api/openapi.json")
    page = next(p for p in spec["paths"]["/api/search"]["get"]["parameters"] if p["name"] == "page")
    top = page["schema"]["maximum"]
    body = get_json(client, "/api/search", query_string={"page": top, "per_page": 100})
    assert body["page"] == top and body["results"] == [] and body["total"] > 0
    assert_error(client.get("/api/search", query_string={"page": top + 1}), 400, mentions="page")


@pytest.mark.parametrize("doc_id", ["a\nb", "a\rb", "line\u2028sep", "tab\there", "x\x7fy"])
def test_a_document_id_may_hold_any_character(app, client, doc_id):
    for prefix, endpoint in (("/api/doc/", "api.api_doc"), ("/doc/", "pages.doc_page")):
        assert app.url_map.bind("localhost").match(prefix + doc_id) == (
            endpoint,
            {"doc_id": doc_id},
        )
    # Routed to the document lookup, which says which id it could not find.
    error = assert_error(client.get("/api/doc/" + quote(doc_id)), 404)
    assert "No document with id" in error["message"]


def test_a_long_document_is_cut_and_says_so(client, sample_docs):
    doc = get_json(client, "/api/doc/" + quote(PANDA))
    assert doc["truncated"] is False and doc["body_length"] == len(doc["body"])


@pytest.mark.parametrize(
    ("page", "says"),
    [("-1", "1 or more"), ("1000000000", "at most 999,999,999"), ("two", "whole number")],
)
def test_an_out_of_range_page_is_refused_with_the_range(client, page, says):
    assert_error(client.get(f"/api/search?q=x&page={page}"), 400, says)


def test_a_too_long_url_gets_the_same_code_from_the_app_as_from_the_server(client):
    error = assert_error(client.get("/api/search", query_string={"q": "香" * 1000}), 414)
    assert error["code"] == "uri_too_long"
