"""Browser fixtures: the sample corpus served by `searchengine serve`, driven in Debian's chromium.

The server is the session's one `sample_server` (tests/conftest.py), shared with the web tests.

Every page a test opens is watched: a console error, an uncaught exception or a dialog
(alert, confirm, prompt) fails the test after its body has run.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("DIGEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]
TIMEOUT_MS = 5_000

if importlib.util.find_spec("playwright") is None:  # the test modules import it
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium and the Playwright package, or skip the browser tests."""
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM}")
    pytest.importorskip("playwright.sync_api")
    return CHROMIUM


@pytest.fixture(scope="session")
def server(chromium, sample_server) -> str:
    """The session's `searchengine serve` over the sample index (tests/conftest.py); its URL."""
    return sample_server.url


@pytest.fixture(scope="session")
def browser(chromium):
    """One headless chromium for the whole session."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Browse:
    """Open pages in fresh contexts and remember everything that went wrong on them."""

    browser: object
    base_url: str
    problems: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)
    contexts: list = field(default_factory=list)

    def __call__(self, profile: str = "desktop", **options):
        """A new page in a new context (fresh cookies) set up as `profile`, plus `options`."""
        from person import PROFILES

        context = self.browser.new_context(
            base_url=self.base_url, **{**PROFILES[profile], **options}
        )
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", lambda msg: self._console(msg))
        page.on("pageerror", lambda exc: self.problems.append(f"uncaught exception: {exc}"))
        page.on(
            "dialog", lambda d: (self.problems.append(f"{d.type} dialog: {d.message}"), d.dismiss())
        )
        return page

    def allow(self, pattern: str) -> None:
        """Let console errors matching `pattern` pass (say why where you call it)."""
        self.allowed.append(re.compile(pattern))

    def _console(self, msg) -> None:
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url", "")
        text = f"console error: {msg.text} ({where})"
        if not any(p.search(text) for p in self.allowed):
            self.problems.append(text)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browse(browser, server):
    """Open pages (``browse("phone")``); console errors and dialogs fail the test."""
    session = Browse(browser, server)
    yield session
    session.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After a test body passes, fail it if any page it opened logged an error or a dialog."""
    result = yield
    session = item.funcargs.get("browse")
    if isinstance(session, Browse) and session.problems:
        pytest.fail("problems in the browser:\n  " + "\n  ".join(session.problems))
    return result
