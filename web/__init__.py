"""The Flask app: server-rendered search pages and their JSON twins."""

from __future__ import annotations

import logging
import time

from flask import Flask, g, request

from searchengine.config import Settings
from searchengine.index import open_index

log = logging.getLogger("digest.access")

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


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app; ``INDEX`` in the config (or DIGEST_INDEX) says which index to serve."""
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

    from web import api, errors, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    errors.register(app)

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        errors.check_request_size()

    @app.after_request
    def _finish(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        took = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info(
            '%s "%s %s" %s %.1fms',
            request.remote_addr,
            request.method,
            request.full_path.rstrip("?")[:300],
            response.status_code,
            took,
        )
        return response

    return app
