"""The Flask app: server-rendered search pages and their JSON twins."""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, g, redirect, request
from werkzeug.routing import PathConverter

from searchengine.config import Settings
from web.accesslog import log_request

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class IdConverter(PathConverter):
    """A document id: any characters, slashes and newlines included (file names hold them)."""

    regex = r"[^/][\s\S]*?"


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app; ``INDEX`` in the config (or DIGEST_INDEX) says which index to serve."""
    from searchengine.index import open_index  # the engine loads here, in the worker

    app = Flask(__name__)
    app.config.from_mapping(
        INDEX=str(Settings.resolve().index),
        MAX_CONTENT_LENGTH=64 * 1024,
        MAX_URL_CHARS=8192,
        JSON_AS_ASCII=False,
    )
    if test_config:
        app.config.update(test_config)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["digest_index"] = open_index(app.config["INDEX"])

    app.url_map.converters["id"] = IdConverter
    from web import api, errors, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    errors.register(app)

    @app.before_request
    def _time_and_bound() -> None:
        g.started = time.perf_counter()
        errors.check_request_size()

    @app.after_request
    def _secure_and_log(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        location = response.headers.get("Location")
        if location and (safe := same_site(location)) != location:
            # A redirect built from the Host header (e.g. //doc/x → /doc/x): keep it on this site.
            response.headers["Location"] = safe
            response.set_data(redirect(safe, response.status_code).get_data())
        took = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log_request(request, response, took)
        return response

    return app


def same_site(location: str) -> str:
    """Drop scheme and host from a redirect, so a forged Host header cannot send readers away.

    >>> same_site("http://evil.example/doc/x?q=1")
    '/doc/x?q=1'
    >>> same_site("//evil.example/x")
    '/x'
    >>> same_site("?lang=en")
    '?lang=en'
    """
    parts = urlsplit(location)
    if not (parts.scheme or parts.netloc or location.startswith(("//", "/\\"))):
        return location
    path = "/" + parts.path.lstrip("/\\")
    return urlunsplit(("", "", path, parts.query, parts.fragment))
