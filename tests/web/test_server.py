"""The production server (`searchengine serve`, gunicorn) over real HTTP."""

from __future__ import annotations

import json
import os
import re
import socket
import struct
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import psutil
import pytest
import requests
from htmltree import parse
from test_costly_queries import COSTLY

from indexer.corpus import SAMPLE_CORPUS
from indexer.rebuild import rebuild
from searchengine.config import Settings
from searchengine.store import IndexStore

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


# --- HTTP at the byte level ---------------------------------------------------------


def raw_request(port: int, head: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send exact request bytes (no client-side quoting) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head_bytes.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines)}
    return int(status_line.split()[1]), headers, body


def get_raw(port: int, target: bytes, host: bytes = b"127.0.0.1", extra: bytes = b"") -> tuple:
    return raw_request(
        port,
        b"GET "
        + target
        + b" HTTP/1.1\r\nHost: "
        + host
        + b"\r\nConnection: close\r\n"
        + extra
        + b"\r\n",
    )


def test_a_url_typed_with_raw_utf8_works_like_its_percent_encoded_form(live_server):
    raw = "/api/search?q=美联储 降息&tag=us&per_page=1".replace(" ", "%20").encode()
    status, headers, body = get_raw(live_server.port, raw)
    assert status == 200 and headers["content-type"] == "application/json"
    encoded = requests.get(
        f"{live_server.url}/api/search",
        params={"q": "美联储 降息", "tag": "us", "per_page": 1},
        timeout=10,
    ).json()
    got = json.loads(body)
    assert got["query"] == "美联储 降息" and got["total"] == encoded["total"] > 0
    assert [r["id"] for r in got["results"]] == [r["id"] for r in encoded["results"]]
    # A raw UTF-8 document id and page too.
    status, _, body = get_raw(live_server.port, f"/api/doc/{PANDA}".replace(" ", "%20").encode())
    assert status == 200 and json.loads(body)["id"] == PANDA
    status, headers, _ = get_raw(live_server.port, "/search?q=降息".encode())
    assert status == 200 and headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("target", "extra", "status"),
    [
        (b"/api/search?q=\x01", b"", 400),  # a control character in the request line
        (b"/api/search?q=" + b"x" * 9000, b"", 414),  # longer than the server reads
        (b"/api/search", b"Bad Header\r\n", 400),
        (b"/api/search", b"".join(b"X-%d: y\r\n" % i for i in range(150)), 431),
        (b"/api/search", b"Transfer-Encoding: chunked, gzip\r\n", 400),
    ],
    ids=["control-char", "long-url", "bad-header", "many-headers", "transfer-coding"],
)
def test_requests_the_server_refuses_still_get_the_json_error_shape(
    live_server, target, extra, status
):
    got_status, headers, body = get_raw(live_server.port, target, extra=extra)
    assert got_status == status
    assert headers["content-type"] == "application/json"
    assert set(json.loads(body)["error"]) == {"code", "message"}
    assert live_server.proc.poll() is None


def test_a_double_slash_never_redirects_to_the_host_header(live_server, sample_docs):
    doc_id = sorted(sample_docs)[0]
    for target in (f"//doc/{doc_id}", f"/doc//{doc_id}", "//search?q=rate", "//api/search"):
        status, headers, body = get_raw(live_server.port, target.encode(), host=b"evil.example")
        assert status < 500
        assert "evil.example" not in headers.get("location", "")
        assert b"evil.example" not in body
        if "location" in headers:
            assert headers["location"].startswith("/") and not headers["location"].startswith("//")
            follow = requests.get(live_server.url + headers["location"], timeout=10)
            assert follow.status_code == 200


def test_a_newline_in_the_url_cannot_forge_a_log_line(live_server):
    marker = f"zzforged{uuid.uuid4().hex[:8]}"
    for target in (
        f"/doc/x%0a{marker}%0d%0aGET%20/fake",
        f"/search?q=%0a{marker}",
        f"/api/doc/%E2%80%A8{marker}%0b",
    ):
        requests.get(live_server.url + target, timeout=10)

    def lines():
        found = [ln for ln in live_server.log().splitlines() if marker in ln]
        return found if len(found) >= 3 else None

    found = wait_for(lines)
    assert found and len(found) == 3, live_server.log()[-2000:]
    for line in found:
        assert re.match(r"^\S+ \S+ digest\.access 127\.0\.0\.1 \"GET /", line), line
        assert "\u2028" not in line and "\x0b" not in line


def test_healthz_answers_while_costly_searches_run(live_server):
    """Four costly searches at once must not hold /healthz up by more than a second.

    The costliest shape found: 64 common characters OR-ed, 100 per page (about 2.5 s each
    on the 9,800 hkcnews articles; quick on the sample corpus, so this is a floor).
    """
    common = "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之"
    common += "过家学对可里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前"
    queries = [" OR ".join(common[i : i + 64]) for i in range(0, 40, 10)]
    queries += [q for q in COSTLY if len(q) > 200]
    done = threading.Event()
    probes: list[tuple[int, float]] = []

    def probe() -> None:
        while not done.is_set():
            started = time.perf_counter()
            status = requests.get(f"{live_server.url}/healthz", timeout=10).status_code
            probes.append((status, time.perf_counter() - started))
            time.sleep(0.05)

    def costly(q: str) -> float:
        started = time.perf_counter()
        requests.get(f"{live_server.url}/api/search", params={"q": q, "per_page": 100}, timeout=30)
        return time.perf_counter() - started

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            took = list(pool.map(costly, queries))
    finally:
        done.set()
        prober.join()
    assert probes and {status for status, _ in probes} == {200}
    slowest = max(seconds for _, seconds in probes)
    assert slowest < 1.0, f"/healthz took {slowest:.2f} s while searches took {max(took):.2f} s"


def test_healthz_shows_no_file_system_paths(live_server, sample_index):
    text = requests.get(f"{live_server.url}/healthz", timeout=10).text
    assert str(sample_index) not in text and "/" not in json.loads(text)["generation"]
    assert not re.search(r'"/[^"]*"', text), text


def test_serve_runs_the_asked_number_of_worker_processes(serve, sample_index):
    server = serve(sample_index, workers=3)
    proc = server.proc
    workers = wait_for(lambda: len(psutil.Process(proc.pid).children()) == 3, timeout=10)
    assert workers, psutil.Process(proc.pid).children()
    assert "Listening at: http://127.0.0.1:" in server.log()
    assert server.stop() == 0, server.log()


def test_the_live_server_runs_its_workers(live_server):
    children = psutil.Process(live_server.proc.pid).children()
    assert len(children) == live_server.workers
    assert "gunicorn" in live_server.log() and "waitress" not in live_server.log()


def _resident_kb(pid: int, path_part: str) -> int:
    """Resident KB of a process's mappings whose file path holds ``path_part``."""
    total, current = 0, ""
    with open(f"/proc/{pid}/smaps", encoding="utf-8", errors="replace") as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                parts = line.split(maxsplit=5)
                current = parts[5].strip() if len(parts) > 5 else ""
            elif line.startswith("Rss:") and path_part in current:
                total += int(line.split()[1])
    return total


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="reads Linux's /proc")
def test_the_master_holds_no_engine_and_idle_workers_hand_index_pages_back(serve, sample_index):
    """What keeps all server processes small: the engine lives in the workers only, and a
    worker keeps the index pages its searches touched for a moment, idle or not."""
    server = serve(sample_index, workers=2)
    for q in ("美联储", "rate", "AI", "市场 market", "tag:us"):
        requests.get(server.url + "/api/search", params={"q": q}, timeout=10).raise_for_status()
    master = psutil.Process(server.proc.pid)
    for library in ("numpy", "rjieba", "opencc"):
        assert _resident_kb(master.pid, library) == 0, library
    workers = master.children()
    assert len(workers) == 2
    assert all(_resident_kb(w.pid, "rjieba") > 0 for w in workers)  # each loaded its own
    generation = str(IndexStore(sample_index).require_current())
    assert wait_for(
        lambda: all(_resident_kb(w.pid, generation) == 0 for w in workers), timeout=3
    ), [_resident_kb(w.pid, generation) for w in workers]


def test_a_booted_worker_waits_for_its_siblings_and_a_restarted_one_does_not():
    """Workers take connections together: an early one would keep every kept-alive client."""
    import multiprocessing

    from web.server import StartGate

    gate = StartGate(2)
    sibling = multiprocessing.get_context("fork").Process(
        target=lambda: (time.sleep(0.5), gate.wait(lambda: None))
    )
    sibling.start()
    started = time.monotonic()
    gate.wait(lambda: None)
    waited = time.monotonic() - started
    sibling.join(5)
    assert waited >= 0.4
    started = time.monotonic()
    gate.wait(lambda: None)  # a worker restarted later: everyone is already serving
    assert time.monotonic() - started < 0.2
