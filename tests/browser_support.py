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
- ``screenshot``: ``screenshot(page, name)`` saves artifacts/screenshots/<name>.png.

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


@contextlib.contextmanager
def streamlit_server(
    app: Path, cache_dir: Path, log_path: Path, *, timeout: float = SERVER_START_TIMEOUT_S
) -> Iterator[str]:
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
        yield base
    finally:
        _kill_group(proc)


# ---- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (http://127.0.0.1:<port>) of a streamlit server running app.py."""
    if not APP.exists():
        unavailable(f"{APP.name} does not exist yet")
    try:
        import streamlit  # noqa: F401
    except ImportError:
        unavailable("streamlit is not installed")
    tmp = tmp_path_factory.mktemp("app_server")
    (tmp / "cache").mkdir()
    global _server_log
    _server_log = tmp / "streamlit.log"
    with streamlit_server(APP, tmp / "cache", _server_log) as base:
        yield base


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


@pytest.fixture
def page(browser):
    """A fresh page (own context, viewport 1400x1000); page.featviz_errors lists page errors."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    p = context.new_page()
    p.featviz_errors = []
    p.on("pageerror", lambda exc: p.featviz_errors.append(str(exc)))
    yield p
    context.close()


def save_screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save artifacts/screenshots/<name>.png and return its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "screenshot"
    path = SCREENSHOT_DIR / f"{safe}.png"
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
        p = getattr(item, "funcargs", {}).get("page")
        if p is not None:
            with contextlib.suppress(Exception):
                save_screenshot(p, f"FAILED-{item.name}")
