"""The JSON endpoints: the same search as the page, as data."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from searchengine.dictionary import dictionary_change
from searchengine.errors import IndexIncompatible, SearchEngineError
from searchengine.lookup import get_document
from searchengine.schema import SCHEMA_VERSION
from searchengine.search import search
from searchengine.store import IndexMeta, check_schema
from web import feed
from web.errors import error_response
from web.markdown import bounded, to_html
from web.openapi import OPENAPI
from web.params import read_request

bp = Blueprint("api", __name__)
bp.register_blueprint(feed.bp)  # GET /feed.atom: the same search as an Atom feed


def index():
    """The app's live index (opened once, reopened when a rebuild lands)."""
    return current_app.extensions["digest_index"]


@bp.get("/api/search")
def api_search():
    req = read_request(request.args)
    return jsonify(search(index(), req).to_dict())


@bp.get("/api/doc/<id:doc_id>")
def api_doc(doc_id: str):
    doc = get_document(index(), doc_id)
    data = doc.to_dict()
    shown, truncated = bounded(doc.body)
    data["body"] = shown
    data["html"] = to_html(shown)
    data["truncated"] = truncated
    data["body_length"] = len(doc.body)
    return jsonify(data)


@bp.get("/api/openapi.json")
def api_openapi():
    return jsonify(OPENAPI)


@bp.get("/healthz")
def healthz():
    # Read the live generation's metadata from disk rather than through Index.view(): a
    # long search holds the view's lock, and a health check must not wait behind it.
    try:
        gen = index().store.require_current()
        meta = IndexMeta.load(gen)
        check_schema(meta, SCHEMA_VERSION)
        code = IndexIncompatible.code if index().failure(gen) else None  # files won't open
    except (SearchEngineError, OSError) as exc:
        code = getattr(exc, "code", "index_unreadable")
    if code is not None:
        # The library's messages name the index folder: say what is wrong without it.
        return error_response(503, code, "No index can be served; run: indexer rebuild")
    return jsonify(
        {
            "status": "ok",
            "documents": meta.documents,
            "built_at": meta.built_at,
            "updated_at": meta.updated_at,
            "generation": gen.name,
            "user_dict": bool(meta.user_dict),
            "user_dict_changed": dictionary_change(meta) is not None,
            "synonyms": {"hash": meta.synonyms_hash, "groups": meta.synonyms_groups},
        }
    )
