"""The JSON endpoints: the same search as the page, as data."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from searchengine.documents import get_document
from searchengine.params import parse_request
from searchengine.search import search
from web.markdown import to_html
from web.openapi import OPENAPI

bp = Blueprint("api", __name__)


def index():
    """The app's live index (opened once, reopened when a rebuild lands)."""
    return current_app.extensions["digest_index"]


@bp.get("/api/search")
def api_search():
    req = parse_request(request.args.getlist)
    return jsonify(search(index(), req).to_dict())


@bp.get("/api/doc/<path:doc_id>")
def api_doc(doc_id: str):
    doc = get_document(index(), doc_id)
    data = doc.to_dict()
    data["html"] = to_html(doc.body)
    return jsonify(data)


@bp.get("/api/openapi.json")
def api_openapi():
    return jsonify(OPENAPI)


@bp.get("/healthz")
def healthz():
    return jsonify(index().health())
