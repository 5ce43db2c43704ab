"""Browser test harness: a real streamlit server and Debian's Chromium driven by Playwright.

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
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
APP = REPO_ROOT / "app.py"
SCREENSHOT_DIR = REPO_ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1400, "height": 1000}
TALL_VIEWPORT = {"width": 1400, "height": 1800}  # the Playground's whole figure fits on screen
SERVER_START_TIMEOUT_S = 60.0
DEFAULT_TIMEOUT_MS = 30_000

# The log of the running app_server: a failure quotes its tail, since the page itself shows no
# traceback (client.showErrorDetails = "none" in .streamlit/config.toml).
_server_log: Path | None = None


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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.read().decode(errors="replace").strip()
    except (urllib.error.URLError, OSError):
        return None


def _kill_group(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


class ServerURL(str):
    """The base URL of a running streamlit server, with its process id and log file."""

    pid: int
    log_path: Path

    def __new__(cls, url: str, pid: int, log_path: Path) -> ServerURL:
        obj = super().__new__(cls, url)
        obj.pid = pid
        obj.log_path = log_path
        return obj


def server_memory_mb(server: ServerURL) -> dict[str, float]:
    """{"rss": current, "peak": high-water mark} resident memory of the server process, in MB.

    From VmRSS and VmHWM of /proc/<pid>/status; VmHWM is the peak over the process's life.
    """
    fields = {}
    for line in Path(f"/proc/{server.pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024  # kB -> MB
    return {"rss": fields["VmRSS"], "peak": fields["VmHWM"]}


@contextlib.contextmanager
def streamlit_server(
    app: Path, cache_dir: Path, log_path: Path, *, timeout: float = SERVER_START_TIMEOUT_S
) -> Iterator[ServerURL]:
    """Run `streamlit run app` on 127.0.0.1:<free port>; yield its base URL once healthy."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]
    env = os.environ | {"FEATVIZ_CACHE_DIR": str(cache_dir), "PYTHONUNBUFFERED": "1"}
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed whole at the end
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"streamlit exited with status {proc.returncode} before answering; log:\n{_tail(log_path)}",
                    pytrace=False,
                )
            if _health(base + "/_stcore/health") == "ok":
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit did not answer {base}/_stcore/health within {timeout:.0f} s; log:\n{_tail(log_path)}",
                    pytrace=False,
                )
            time.sleep(0.25)
        yield ServerURL(base, proc.pid, log_path)
    finally:
        _kill_group(proc)


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
    global _server_log
    _server_log = tmp / "streamlit.log"
    with streamlit_server(APP, tmp / "cache", _server_log) as base:
        yield base


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ServerURL]:
    """A new streamlit server for this test only, with an empty cache; killed after the test.

    While it runs, wait_for_app quotes its log on an app exception.
    """
    _check_app()
    global _server_log
    (tmp_path / "fresh-cache").mkdir()
    previous, _server_log = _server_log, tmp_path / "fresh-streamlit.log"
    try:
        with streamlit_server(APP, tmp_path / "fresh-cache", _server_log) as base:
            yield base
    finally:
        _server_log = previous


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
    b = _playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()


def open_page(browser, viewport: dict | None = None):
    """A page in a new context (a separate user: own cookies, own streamlit session).

    page.featviz_errors lists the page's uncaught errors, page.featviz_console its console
    messages as "type: text"; close it with page.context.close().
    """
    context = browser.new_context(viewport=viewport or VIEWPORT)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    p = context.new_page()
    p.featviz_errors = []
    p.featviz_console = []
    p.on("pageerror", lambda exc: p.featviz_errors.append(str(exc)))
    p.on("console", lambda msg: p.featviz_console.append(f"{msg.type}: {msg.text}"))
    return p


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


def save_screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save artifacts/screenshots/<name>.png and return its path.

    `page` may also be a Locator: then only that element is captured. (Streamlit scrolls its
    main area inside the page, so a full-page shot holds one viewport; an element shot is
    how to capture what lies below it.)
    """
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "screenshot"
    path = SCREENSHOT_DIR / f"{safe}.png"
    if hasattr(page, "evaluate_all"):  # a Locator
        page.screenshot(path=str(path))
    else:
        page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """screenshot(page, name, full_page=True) -> artifacts/screenshots/<name>.png."""
    return save_screenshot


_APP_STATE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) return "absent";
    if (document.querySelector('[data-testid="stException"]')) return "exception";
    const busy = document.querySelector('[data-testid="stSkeleton"], [data-stale="true"]');
    const state = app.getAttribute("data-test-script-state");
    const conn = app.getAttribute("data-test-connection-state");
    return conn === "CONNECTED" && state === "notRunning" && !busy ? "idle" : "busy:" + conn + "/" + state;
}"""


def wait_for_app(page, timeout_ms: int = DEFAULT_TIMEOUT_MS, settle_ms: int = 1000) -> None:
    """Wait until Streamlit is connected and its script has stopped running for settle_ms.

    Streamlit marks the app root with data-test-script-state ("running" / "notRunning"); a
    script may rerun right after its first run (query parameters, session state), hence the
    settle time. Fails with the exception text when the app shows a Streamlit exception box.
    """
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    idle_since = None
    state = "absent"
    while time.monotonic() < deadline:
        state = page.evaluate(_APP_STATE_JS)
        if state == "exception":
            break
        now = time.monotonic()
        if state == "idle":
            idle_since = idle_since or now
            if now - idle_since >= settle_ms / 1000:
                break
        else:
            idle_since = None
        page.wait_for_timeout(100)
    else:
        pytest.fail(f"the app did not finish running within {timeout_ms} ms (last state: {state})", pytrace=False)
    errors = page.locator('[data-testid="stException"]')
    if errors.count():
        log = f"\n--- streamlit log (tail) ---\n{_tail(_server_log)}" if _server_log else ""
        pytest.fail("the app shows an exception:\n" + errors.first.inner_text() + log, pytrace=False)


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


# ---- helpers for the featviz pages ------------------------------------------------------------

FIGURE = ".js-plotly-plot"
EXCEPTION = '[data-testid="stException"]'
ALERT = '[data-testid="stAlert"]'
FIGURE_TIMEOUT_MS = 90_000  # a cold server imports torch and trains before the first figure

# plotly.js draws the slider's current value as the first text.slider-label of its group (older
# versions used text.slider-currentvalue); the title and subtitle are the texts of .g-gtitle.
_FIGURE_TEXTS_JS = """(i) => {
    const fig = document.querySelectorAll('.js-plotly-plot')[i];
    if (!fig) return null;
    const cur = fig.querySelector('.slider-currentvalue, .slider-group > text.slider-label');
    const titles = Array.from(fig.querySelectorAll('.g-gtitle text')).map(t => t.textContent);
    return {slider: cur ? cur.textContent : null, titles: titles};
}"""


def wait_for_figure(page, count: int = 1, timeout_ms: int = FIGURE_TIMEOUT_MS) -> None:
    """Wait until `count` plotly figures are visible and the app has stopped running.

    A figure is drawn at the end of a page's run, so a shorter settle time than
    wait_for_app's default suffices.
    """
    page.locator(FIGURE).nth(count - 1).wait_for(state="visible", timeout=timeout_ms)
    wait_for_app(page, timeout_ms=timeout_ms, settle_ms=500)


def figure_texts(page, index: int = 0) -> dict:
    """{"slider": current-value text of the slider, "titles": [title, subtitle]} of a figure."""
    return page.evaluate(_FIGURE_TEXTS_JS, index)


def url_params(url: str) -> dict[str, str]:
    """The query string of a URL as str -> str (the last value of a repeated key)."""
    from urllib.parse import parse_qs, urlsplit

    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


# Pause interrupts Play's Plotly.animate, whose promise then rejects with no reason: plotly.js
# logs this line and the page reports an uncaught error "undefined", once per interruption.
_ANIMATE_REJECTED = "API call to Plotly.animate rejected."


def page_errors(page) -> list[str]:
    """The page's uncaught errors, less the ones an interrupted plotly animation explains."""
    errors = list(page.featviz_errors)
    for _ in range(sum(_ANIMATE_REJECTED in m for m in page.featviz_console)):
        if "undefined" in errors:
            errors.remove("undefined")
    return errors


def assert_clean(page) -> None:
    """No Streamlit exception box on the page and no uncaught page error."""
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()
    errors = page_errors(page)
    assert errors == [], errors
