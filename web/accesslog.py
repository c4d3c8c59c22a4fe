"""One line per request in the log, with nothing a URL can use to forge another line."""

from __future__ import annotations

import logging
import re

from flask import Request, Response

log = logging.getLogger("digest.access")

# Control characters (C0, DEL, C1), Unicode line and paragraph separators, quote, backslash.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f\u2028\u2029"\\]')
MAX_LOGGED_PATH = 300


def _escape(match: re.Match) -> str:
    ch = match.group()
    return (
        "\\" + ch if ch in '"\\' else f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}"
    )


def printable(value: object) -> str:
    r"""Escape what could end or fake a log line, as Apache does.

    >>> printable('/a\nGET /b "x"')
    '/a\\x0aGET /b \\"x\\"'
    """
    return _UNSAFE.sub(_escape, str(value))


def log_request(request: Request, response: Response, took_ms: float) -> None:
    """Log the request line, status and duration; the path is cut and escaped."""
    path = request.full_path.rstrip("?")
    log.info(
        '%s "%s %s" %s %.1fms',
        request.remote_addr,
        printable(request.method[:20]),
        printable(path[:MAX_LOGGED_PATH]),
        response.status_code,
        took_ms,
    )
