"""Headless Chromium for the end-to-end tests: Playwright for Python driving Debian's ``/usr/bin/chromium``.

Playwright cannot download its own browsers here, so the tests use the system Chromium that
``scripts/install-test-prereqs.sh`` installs. Without it, a test skips locally and fails when ``CI=true``
(the suite must run its browser tests in CI, never skip them).

The browser is told to refuse every host but loopback (``--host-resolver-rules``), so a page that tries to load
anything from another host fails in the test instead of reaching the network; ``offsite_requests()`` collects such
attempts so a test can assert there were none.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def chromium_path() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if os.path.exists(candidate):
            return candidate
    return shutil.which("chromium")


def require_chromium() -> str:
    """The browser's path; skip (locally) or fail (CI) without it."""
    path = chromium_path()
    if path is None:
        message = "Debian's chromium is not installed (scripts/install-test-prereqs.sh installs it as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@asynccontextmanager
async def browser() -> AsyncIterator[Any]:
    """A launched headless Chromium (``playwright.async_api.Browser``); closed on exit."""
    path = require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


def offsite_requests(page: Any) -> list[str]:
    """Start collecting the URLs a page requests from any host but loopback (data: and blob: URLs pass)."""
    seen: list[str] = []

    def note(request: Any) -> None:
        url = request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if (parts.hostname or "") not in LOOPBACK:
            seen.append(url)

    page.on("request", note)
    return seen
