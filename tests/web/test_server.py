"""The production server (`searchengine serve`, waitress) over real HTTP."""

from __future__ import annotations

import re
import socket
import struct
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import psutil
import pytest
import requests
from htmltree import parse

from indexer.rebuild import rebuild
from searchengine.config import SAMPLE_CORPUS, Settings

PANDA = "odd/file with spaces 中文名"


def wait_for(predicate, timeout: float = 5.0):
    """Poll until predicate() is truthy (the log is written by another process)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/", "text/html"),
        ("/search?q=美联储", "text/html"),
        ("/doc/" + quote(PANDA), "text/html"),
        ("/api/search?q=美联储", "application/json"),
        ("/api/doc/" + quote(PANDA), "application/json"),
        ("/healthz", "application/json"),
        ("/api/openapi.json", "application/json"),
    ],
)
def test_endpoints_answer_over_http(live_server, path, kind):
    resp = requests.get(live_server.url + path, timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].split(";")[0] == kind
    assert "frame-ancestors" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_search_over_http_matches_the_page(live_server, sample_docs):
    api = requests.get(f"{live_server.url}/api/search", params={"q": "美联储"}, timeout=10).json()
    assert api["total"] == 13
    tree = parse(requests.get(f"{live_server.url}/search", params={"q": "美联储"}, timeout=10).text)
    assert tree.one("input#q").get("value") == "美联储"
    assert [a.get("href").split("?")[0] for a in tree.select("a.hit-link")] == [
        "/doc/" + quote(r["id"]) for r in api["results"]
    ]
    health = requests.get(f"{live_server.url}/healthz", timeout=10).json()
    assert health["status"] == "ok" and health["documents"] == len(sample_docs)
    doc = requests.get(f"{live_server.url}/api/doc/{quote(PANDA)}", timeout=10).json()
    assert doc["id"] == PANDA and "大熊猫" in doc["body"]


def test_errors_over_http_keep_their_shape(live_server):
    resp = requests.get(f"{live_server.url}/api/search", params={"per_page": "0"}, timeout=10)
    assert resp.status_code == 400 and set(resp.json()["error"]) == {"code", "message"}
    resp = requests.get(f"{live_server.url}/api/doc/..%2F..%2Fetc%2Fpasswd", timeout=10)
    assert resp.status_code == 404 and "root:" not in resp.text
    resp = requests.get(f"{live_server.url}/doc/no-such-doc", timeout=10)
    assert resp.status_code == 404 and resp.headers["Content-Type"].startswith("text/html")


def test_each_request_is_logged_once_with_its_duration(live_server):
    marker = f"zzlog{uuid.uuid4().hex[:12]}"
    assert requests.get(f"{live_server.url}/api/search", params={"q": marker}, timeout=10).ok
    assert requests.get(f"{live_server.url}/search", params={"q": marker}, timeout=10).ok

    def lines():
        found = [ln for ln in live_server.log().splitlines() if marker in ln]
        return found if len(found) >= 2 else None

    found = wait_for(lines)
    assert found and len(found) == 2, live_server.log()[-2000:]
    for line, path in zip(found, ("/api/search", "/search"), strict=True):
        assert f"GET {path}?q={marker}" in line
        assert " 200 " in line
        assert re.search(r"\b\d+(\.\d+)?\s?ms\b", line), line


def test_server_binds_loopback_by_default(live_server):
    listening = {
        c.laddr
        for c in psutil.Process(live_server.proc.pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    }
    assert listening, "the server listens"
    assert {addr.ip for addr in listening} == {"127.0.0.1"}
    assert {addr.port for addr in listening} == {live_server.port}
    assert f"127.0.0.1:{live_server.port}" in live_server.log()


def _abort(port: int, request: bytes, reset: bool) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        if reset:  # close with RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.sendall(request)


def test_a_client_that_disconnects_mid_response_does_not_kill_the_server(live_server):
    host = f"Host: 127.0.0.1:{live_server.port}\r\n"
    requests_to_drop = [
        f"GET /search?q=rate&per_page=100 HTTP/1.1\r\n{host}\r\n".encode(),
        f"GET /api/search?per_page=100 HTTP/1.1\r\n{host}\r\n".encode(),
        f"GET /doc/{quote(PANDA)} HTTP/1.1\r\n{host}\r\n".encode(),
        f"GET /search?q=rate HTTP/1.1\r\n{host}".encode(),  # headers never finished
        b"GET /api/search?q=%E7%BE%8E HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
    ]
    for _ in range(3):
        for raw in requests_to_drop:
            for reset in (False, True):
                _abort(live_server.port, raw, reset)
    # A reader that starts a big response, reads a little and hangs up.
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=5) as sock:
        sock.sendall(f"GET /search?per_page=100 HTTP/1.1\r\n{host}\r\n".encode())
        assert sock.recv(64).startswith(b"HTTP/1.1 200")
    assert live_server.proc.poll() is None, "the server is still running"
    resp = requests.get(f"{live_server.url}/search", params={"q": "rate"}, timeout=10)
    assert resp.status_code == 200
    assert requests.get(f"{live_server.url}/healthz", timeout=10).json()["status"] == "ok"
    assert "Traceback" not in live_server.log()


def test_concurrent_readers_all_get_answers(live_server):
    urls = [f"{live_server.url}/api/search?q={q}" for q in ("美联储", "rate", "降息", "AI", "")] * 8
    urls += [f"{live_server.url}/search?q=降息&page={p}" for p in (1, 2)] * 4
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda u: requests.get(u, timeout=20).status_code, urls))
    assert statuses == [200] * len(urls)


def test_a_rebuild_is_served_without_a_restart(live_server, sample_index):
    before = requests.get(f"{live_server.url}/healthz", timeout=10).json()
    with ThreadPoolExecutor(max_workers=1) as pool:
        job = pool.submit(rebuild, Settings.resolve(SAMPLE_CORPUS, sample_index), jobs=1)
        during = []
        while not job.done():
            during.append(
                requests.get(f"{live_server.url}/api/search?q=降息", timeout=10).status_code
            )
        job.result()

    def switched():
        health = requests.get(f"{live_server.url}/healthz", timeout=10).json()
        return health if health["built_at"] != before["built_at"] else None

    after = wait_for(switched, timeout=10)
    assert after, "the server picked up the new index"
    assert after["documents"] == before["documents"]
    assert set(during) <= {200}, "readers kept being served during the rebuild"
    assert requests.get(f"{live_server.url}/api/search?q=降息", timeout=10).json()["total"] == 17
