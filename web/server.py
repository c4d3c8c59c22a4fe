"""Serve the app on gunicorn: worker processes with threads, raw UTF-8 URLs, JSON errors."""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import re
import time
from collections.abc import Callable

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.http.errors import (
    ConfigurationProblem,
    ExpectationFailed,
    InvalidResponseHeader,
    InvalidResponseHeaderName,
    LimitRequestHeaders,
    LimitRequestLine,
    ParseException,
    UnsupportedTransferCoding,
)
from gunicorn.http.message import Request
from gunicorn.http.parser import RequestParser
from gunicorn.workers.gthread import ThreadWorker

from web.accesslog import printable

log = logging.getLogger("digest.server")

_RAW_BYTE = re.compile(rb"[\x80-\xff]")

# Errors gunicorn answers before the app sees the request, first match wins:
# (exception classes, status, reason, code); any other exception is a 500.
_ERRORS: tuple[tuple[tuple[type[Exception], ...], int, str, str], ...] = (
    ((InvalidResponseHeader, InvalidResponseHeaderName, ConfigurationProblem), 500, "", ""),
    ((LimitRequestLine,), 414, "URI Too Long", "uri_too_long"),
    ((LimitRequestHeaders,), 431, "Request Header Fields Too Large", "headers_too_large"),
    ((UnsupportedTransferCoding,), 501, "Not Implemented", "not_implemented"),
    ((ExpectationFailed,), 417, "Expectation Failed", "expectation_failed"),
    ((ParseException,), 400, "Bad Request", "bad_request"),
)


def default_workers() -> int:
    """One worker process per CPU this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class Utf8Request(Request):
    """A request whose target may hold raw UTF-8 bytes, as curl sends them."""

    def parse_request_line(self, line_bytes: bytes) -> None:
        """Percent-encode raw bytes of the target so it means what its encoded form means."""
        bits = bytes(line_bytes).split(b" ", 2)
        if len(bits) == 3 and _RAW_BYTE.search(bits[1]):
            bits[1] = _RAW_BYTE.sub(lambda m: b"%%%02X" % m[0][0], bits[1])
            line_bytes = b" ".join(bits)
        super().parse_request_line(line_bytes)


class Utf8RequestParser(RequestParser):
    """gunicorn's HTTP/1.1 parser, reading requests as Utf8Request."""

    mesg_class = Utf8Request


def error_bytes(status: int, reason: str, code: str, message: str) -> bytes:
    """A complete HTTP response in the API's error shape."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class StartGate:
    """Hold each booted worker until all have booted, so they take connections together.

    A worker that took connections alone would keep them (keep-alive) while its siblings
    loaded, and serve every client on one core. A worker started later passes at once.
    """

    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("fork")
        self.workers = workers
        self.booted = context.Value("i", 0)
        self.opened = context.Event()

    def wait(self, notify: Callable[[], None], timeout: float = 20.0) -> None:
        """Count this worker in, then wait for the others (calling ``notify`` meanwhile)."""
        with self.booted.get_lock():
            self.booted.value += 1
            if self.booted.value >= self.workers:
                self.opened.set()
        deadline = time.monotonic() + timeout
        while not self.opened.wait(0.25) and time.monotonic() < deadline:
            notify()  # the master restarts a worker silent for its timeout


class Worker(ThreadWorker):
    """gunicorn's threaded worker, with the UTF-8 tolerant parser and JSON error answers."""

    def run(self) -> None:
        """Start serving once every sibling has loaded the app (see StartGate)."""
        gate = getattr(self.app, "gate", None)
        if gate is not None:
            gate.wait(self.notify)
        super().run()

    def handle(self, conn):
        """Hand each new plain-HTTP connection our parser before gunicorn makes its own."""
        if conn.parser is None and not self.cfg.is_ssl:
            conn.parser = Utf8RequestParser(self.cfg, conn.sock, conn.client)
        return super().handle(conn)

    def handle_error(self, req, client, addr, exc) -> None:
        """Answer a request gunicorn could not parse in the same JSON shape as the app."""
        match = next((e for e in _ERRORS if isinstance(exc, e[0])), None)
        if match is None or match[1] == 500:
            status, reason, code = 500, "Internal Server Error", "internal_error"
            message = "Something went wrong on our side."
            log.error("server error: %s", printable(repr(exc)))
        else:
            _, status, reason, code = match
            message = f"The request cannot be read ({reason.lower()})."
            log.warning("refused with %s: %s", status, printable(repr(exc)))
        try:
            client.sendall(error_bytes(status, reason, code, message))
        except OSError:
            pass


class Server(BaseApplication):
    """gunicorn driven from our command line: each worker builds its own app after the fork."""

    def __init__(self, index: str, options: dict):
        self.index = index
        self.options = options
        self.gate = StartGate(options.get("workers", 1))
        super().__init__()

    def load_config(self) -> None:
        """Copy our options into gunicorn's settings."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the app in the worker, so no open index file is shared between processes.

        One search before the worker takes requests loads its segmenter and its view of the
        index, so no reader's first search waits for them.
        """
        from searchengine.errors import SearchEngineError
        from searchengine.search import SearchRequest, search
        from web import create_app

        app = create_app({"INDEX": self.index})
        with contextlib.suppress(SearchEngineError):
            search(app.extensions["digest_index"], SearchRequest(q="美联储降息 rate"))
        return app


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict:
    """The settings we run gunicorn with (see the README's serve row)."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return {
        "bind": [bind],
        "workers": workers,
        "worker_class": Worker,
        "threads": threads,
        # A worker silent this long is restarted; gthread heartbeats while a request runs.
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        # Our parser hook only applies to the pure-Python parser.
        "http_parser": "python",
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
        "accesslog": None,  # the app logs each request itself (web/__init__.py)
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "digest-search",
        "control_socket_disable": True,  # no ~/.gunicorn socket: stop it with a signal
        "preload_app": False,
    }


def run(index: str, host: str, port: int, workers: int, threads: int) -> None:
    """Run gunicorn until it is stopped (Ctrl+C or SIGTERM)."""
    Server(index, gunicorn_options(host, port, workers, threads)).run()
