"""Browser test fixtures: a real streamlit server and Debian's Chromium driven by Playwright.

The driver itself (server, browser, page helpers) is devtools/browser.py, shared with the app
benchmark; this module turns it into pytest fixtures and re-exports its helpers for the tests.
The fixtures are imported into tests/conftest.py, so a test just asks for them:

    @pytest.mark.browser
    def test_something(app_server, page, screenshot):
        page.goto(app_server)
        wait_for_app(page)
        screenshot(page, "something")

- ``app_server`` (session): ``python -m streamlit run app.py`` on a free port of 127.0.0.1, run
  from the repository root with FEATVIZ_CACHE_DIR in a temporary folder; yields the base URL
  once ``/_stcore/health`` answers ``ok``; the process group is killed at the end.
- ``browser`` (session): Chromium at /usr/bin/chromium, headless, launched by Playwright. The
  browser that Playwright can download is never used (nor downloaded).
- ``page`` (per test): a fresh context and page, viewport 1400x1000. ``page.featviz_errors``
  collects uncaught page errors.
- ``screenshot``: ``screenshot(page, name)`` saves artifacts/screenshots/<name>.png
  (``screenshot(locator, name)``: that element only).
- ``fresh_server`` (per test): like ``app_server`` but a new process with an empty cache, for tests
  that need a server's first request or a clean memory reading.
- ``shared_page``: one page (viewport 1400x1800) reused by every test that asks for it; each
  goto starts a new streamlit session, but plotly.js stays compiled in the browser, which about
  halves the time to a figure. Its error lists are cleared before each test.
- ``new_page``: ``new_page(viewport=...)`` opens another page in its own context (another user);
  closed at the end of the test, screenshotted as FAILED-<test>-<i>.png when the test fails.

Both server fixtures yield a ``ServerURL``: a str (the base URL) with ``.pid``, the streamlit
process id, and ``.log_path``; ``server_memory_mb(server)`` reads its current and peak resident
memory from /proc.

When Chromium, Playwright or app.py is missing these fixtures skip the test, except with
FEATVIZ_REQUIRE_BROWSER=1 or CI set, where they fail it: CI must never pass by skipping.
A failing test that used ``page`` leaves artifacts/screenshots/FAILED-<test>.png behind.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from devtools import browser as driver
from devtools.browser import (  # noqa: F401 - re-exported for the browser tests
    ALERT,
    APP,
    CHROMIUM,
    EXCEPTION,
    FIGURE,
    FIGURE_TIMEOUT_MS,
    REPO_ROOT,
    SCREENSHOT_DIR,
    TALL_VIEWPORT,
    VIEWPORT,
    DriverError,
    ServerURL,
    assert_clean,
    assert_console_clean,
    chart_events,
    click_loneliest_point,
    console_errors,
    figure_texts,
    launch_chromium,
    nan_messages,
    neuron_path,
    only_the_local_server,
    open_link,
    open_page,
    page_errors,
    save_screenshot,
    server_memory_mb,
    streamlit_server,
    url_params,
    wait_for_app,
    wait_for_figure,
    wait_for_slider_change,
    wait_for_state,
    wait_until,
    wait_until_still,
)


def assert_neuron_path(page, fig, j: int) -> None:
    """The chart's path of clicked neuron j is the run's own positions of it, frame after frame.

    fig: the run's animation_figure; its frames' first trace is the neuron view, the second the
    angle-vs-mass view. The chart's note names the neuron.
    """
    path = neuron_path(page, j)
    want_x = [float(f.data[0].x[j]) for f in fig.frames]
    want_y = [float(f.data[0].y[j]) for f in fig.frames]
    np.testing.assert_allclose(path[0]["x"], want_x, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(path[0]["y"], want_y, rtol=1e-5, atol=1e-6)
    angle = [float(f.data[1].x[j]) for f in fig.frames]
    np.testing.assert_allclose(path[1]["x"], angle, rtol=1e-5, atol=1e-6)
    note = page.locator(".featviz-chart-note").inner_text()
    assert note.startswith(f"neuron {j}: ") and "mass" in note and "angle" in note


def browser_required() -> bool:
    """True when a missing browser must fail the run rather than skip (CI, scripts/test)."""
    if os.environ.get("FEATVIZ_REQUIRE_BROWSER", "") not in ("", "0"):
        return True
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    """Skip the test, or fail it when browser tests are required."""
    if browser_required():
        pytest.fail(f"{reason} (browser tests are required: FEATVIZ_REQUIRE_BROWSER=1 or CI is set)", pytrace=False)
    pytest.skip(reason)


# ---- fixtures ---------------------------------------------------------------------------------


def _check_app() -> None:
    if not APP.exists():
        unavailable(f"{APP.name} does not exist yet")
    try:
        import streamlit  # noqa: F401
    except ImportError:
        unavailable("streamlit is not installed")


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerURL]:
    """Base URL (http://127.0.0.1:<port>) of a streamlit server running app.py."""
    _check_app()
    tmp = tmp_path_factory.mktemp("app_server")
    (tmp / "cache").mkdir()
    driver.current_log = tmp / "streamlit.log"
    with streamlit_server(APP, tmp / "cache", driver.current_log) as base:
        yield base


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ServerURL]:
    """A new streamlit server for this test only, with an empty cache; killed after the test.

    While it runs, wait_for_app quotes its log on an app exception.
    """
    _check_app()
    (tmp_path / "fresh-cache").mkdir()
    previous, driver.current_log = driver.current_log, tmp_path / "fresh-streamlit.log"
    try:
        with streamlit_server(APP, tmp_path / "fresh-cache", driver.current_log) as base:
            yield base
    finally:
        driver.current_log = previous


@pytest.fixture(scope="session")
def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Python playwright is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(_playwright):
    """Headless Debian Chromium (/usr/bin/chromium) under Playwright."""
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    b = launch_chromium(_playwright)
    yield b
    b.close()


@pytest.fixture
def page(browser):
    """A fresh page (own context, viewport 1400x1000); page.featviz_errors lists page errors."""
    p = open_page(browser)
    yield p
    p.context.close()


@pytest.fixture(scope="session")
def _shared_page(browser):
    p = open_page(browser, TALL_VIEWPORT)
    yield p
    p.context.close()


@pytest.fixture
def shared_page(_shared_page):
    """The session's reused page, with its error and console lists cleared."""
    _shared_page.featviz_errors.clear()
    _shared_page.featviz_console.clear()
    return _shared_page


@pytest.fixture
def new_page(browser):
    """new_page(viewport=None) -> another page in its own context; all are closed after the test."""
    pages = []

    def make(viewport: dict | None = None):
        p = open_page(browser, viewport)
        pages.append(p)
        return p

    make.pages = pages
    yield make
    for p in pages:
        with contextlib.suppress(Exception):
            p.context.close()


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """screenshot(page, name, full_page=True) -> artifacts/screenshots/<name>.png."""
    return save_screenshot


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep a screenshot of the page of a failing browser test."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        shots = []
        for name, value in getattr(item, "funcargs", {}).items():
            if hasattr(value, "featviz_errors"):  # a page made by open_page (the page fixture, ...)
                shots.append(("" if name == "page" else f"-{name}", value))
            for i, extra in enumerate(getattr(value, "pages", None) or []):  # new_page's pages
                if hasattr(extra, "featviz_errors"):
                    shots.append((f"-{i}", extra))
        seen = set()
        for suffix, p in shots:
            if id(p) in seen:
                continue
            seen.add(id(p))
            with contextlib.suppress(Exception):
                save_screenshot(p, f"FAILED-{item.name}{suffix}")
