"""Map the library's typed errors to HTTP: JSON under /api, a page elsewhere."""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException, RequestURITooLarge

from searchengine.errors import (
    DocumentNotFound,
    IndexBusy,
    IndexIncompatible,
    IndexMissing,
    SearchEngineError,
)

log = logging.getLogger("digest.errors")

# One code per status, whichever layer refuses (gunicorn answers 414 as uri_too_long).
_CODES = {414: "uri_too_long"}
STATUS = {DocumentNotFound: 404, IndexMissing: 503, IndexIncompatible: 503, IndexBusy: 503}


def check_request_size() -> None:
    """Refuse absurdly long URLs before any work is done."""
    if len(request.full_path) > current_app.config["MAX_URL_CHARS"]:
        raise RequestURITooLarge("The request URL is too long.")


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path in ("/healthz", "/feed.atom")


def error_response(status: int, code: str, message: str):
    """Answer with the contract's error shape, or an error page for browsers."""
    if _wants_json():
        resp = jsonify({"error": {"code": code, "message": message}})
        resp.status_code = status
        return resp
    from web.pages import page_context

    html = render_template(
        "error.html", status=status, code=code, message=message, **page_context()
    )
    return html, status


def register(app: Flask) -> None:
    """Install the handlers: typed errors, HTTP errors, and a last resort."""

    @app.errorhandler(SearchEngineError)
    def _engine_error(exc: SearchEngineError):
        return error_response(STATUS.get(type(exc), 400), exc.code, str(exc))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = _CODES.get(exc.code) or (exc.name or "error").lower().replace(" ", "_")
        resp = make_response(error_response(exc.code or 400, code, exc.description or exc.name))
        # Keep what the exception says about the resource, e.g. Allow on a 405.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                resp.headers[name] = value
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error on %s", request.path)
        return error_response(500, "internal_error", "Something went wrong on our side.")
