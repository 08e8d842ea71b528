"""Fixtures for the drawing-page tests: the real server on loopback and Debian Chromium.

The server is the app itself (uvicorn, a fresh DIGITS_HOME in a temporary folder), started once
per session; each test gets a new browser context, so no state leaks between tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from e2e_support import DrawingPage, chromium_path, launch_chromium, running_server


@pytest.fixture(scope="session")
def server_url(tmp_path_factory) -> Iterator[str]:
    """Base URL of the running app, e.g. http://127.0.0.1:54321.

    Set DIGITS_E2E_BASE_URL to drive a server that is already running instead.
    """
    if os.environ.get("DIGITS_E2E_BASE_URL"):
        yield os.environ["DIGITS_E2E_BASE_URL"].rstrip("/")
        return
    home = tmp_path_factory.mktemp("digits-home")
    log = tmp_path_factory.mktemp("server-log") / "server.log"
    with running_server(home, log) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the whole session."""
    if chromium_path() is None:
        pytest.skip("Chromium is not installed (the e2e tests use the system's /usr/bin/chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def drawing(browser, server_url) -> Iterator[DrawingPage]:
    """The drawing page on a 1200×800 desktop viewport."""
    page = DrawingPage.open(browser, server_url)
    try:
        yield page
    finally:
        page.close()


@pytest.fixture
def phone(browser, server_url) -> Iterator[DrawingPage]:
    """The drawing page on a 360×740 touch phone at devicePixelRatio 2."""
    page = DrawingPage.open(
        browser,
        server_url,
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        yield page
    finally:
        page.close()
