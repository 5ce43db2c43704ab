"""The app in a real browser: a streamlit server and Debian's Chromium driven by Playwright.

Shared by the browser tests (tests/browser_support.py turns it into pytest fixtures) and the
app benchmark (bench/bench_app.py); it imports neither pytest nor featviz.

- ``streamlit_server(app, cache_dir, log_path)``: ``python -m streamlit run app`` on a free port of
  127.0.0.1, run from the repository root with FEATVIZ_CACHE_DIR set; yields a ``ServerURL`` (the
  base URL, a str, with ``.pid`` and ``.log_path``) once ``/_stcore/health`` answers ``ok``; the
  process group is killed at the end. ``server_memory_mb(server)`` reads its current and peak
  resident memory from /proc.
- ``launch_chromium(playwright)``: Chromium at /usr/bin/chromium, headless. The browser that
  Playwright can download is never used (nor downloaded).
- ``open_page(browser, viewport)``: a page in a new context; ``page.featviz_errors`` collects its
  uncaught errors, ``page.featviz_console`` its console messages.
- ``wait_for_app``, ``wait_for_figure``, ``wait_for_state``, ``open_link``, ``figure_texts``,
  ``url_params``, ``page_errors``, ``assert_clean``, ``save_screenshot``: what the featviz pages
  are checked with;
  ``click_loneliest_point`` and ``neuron_path``: a neuron clicked on the animation chart, its path;
  ``only_the_local_server``: a page offline but for the app's server.

Every wait is a condition with a deadline; a wait that runs out raises ``DriverError`` (an
AssertionError) saying what did not happen, with the server log's tail where it helps.
``current_log`` is the log of the server the pages talk to, quoted when the app shows an exception.
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

# The log of the server the pages talk to: a failure quotes its tail, since the page itself shows
# no traceback (client.showErrorDetails = "none" in .streamlit/config.toml). Set by whoever starts it.
current_log: Path | None = None


class DriverError(AssertionError):
    """A wait ran out, or the server or the app failed."""


def wait_until(condition: Callable[[], object], *, timeout: float, what: str, interval: float = 0.05):
    """condition()'s first true value, polled every interval seconds; DriverError after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise DriverError(f"timed out after {timeout:g} s waiting until {what}")
        time.sleep(interval)


def wait_for_state(read: Callable[[], object], cond: Callable[[object], bool], *, page, what: str, timeout: float):
    """read()'s first value for which cond holds, read every 50 ms of the page's time.

    DriverError after timeout s, quoting the last value read.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = read()
        if value and cond(value):
            return value
        page.wait_for_timeout(50)
    raise DriverError(f"timed out after {timeout:g} s waiting for {what}; last state: {read()}")


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

    def healthy() -> bool:
        if proc.poll() is not None:
            raise DriverError(
                f"streamlit exited with status {proc.returncode} before answering; log:\n{_tail(log_path)}"
            )
        return _health(base + "/_stcore/health") == "ok"

    try:
        try:
            wait_until(healthy, timeout=timeout, what=f"streamlit answers {base}/_stcore/health", interval=0.25)
        except DriverError as e:
            raise DriverError(f"{e}; log:\n{_tail(log_path)}") from None
        yield ServerURL(base, proc.pid, log_path)
    finally:
        _kill_group(proc)


def wait_until_still(read: Callable[[], object], *, still_for: float, timeout: float, what: str):
    """read()'s value once it has stayed the same for still_for seconds; DriverError if it is
    still changing after timeout seconds. (Something stopped: a negative claim needs a window,
    but the window starts over on every change, so a slow machine only takes longer.)"""
    deadline = time.monotonic() + timeout
    value, since = read(), time.monotonic()
    while True:
        time.sleep(min(0.1, still_for / 4))
        now, current = time.monotonic(), read()
        if current != value:
            value, since = current, now
        elif now - since >= still_for:
            return value
        if now > deadline:
            raise DriverError(f"{what}: still changing after {timeout:g} s")


def launch_chromium(playwright):
    """Headless Debian Chromium (/usr/bin/chromium) under Playwright."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def open_page(browser, viewport: dict | None = None):
    """A page in a new context (a separate user: own cookies, own streamlit session).

    page.featviz_errors lists the page's uncaught errors, page.featviz_console its console
    messages as "type: text" (a resource that failed to load: "type: text @ url"); close it
    with page.context.close().
    """
    context = browser.new_context(viewport=viewport or VIEWPORT)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    p = context.new_page()
    p.featviz_errors = []
    p.featviz_console = []
    p.on("pageerror", lambda exc: p.featviz_errors.append(str(exc)))
    p.on("console", lambda msg: p.featviz_console.append(_console_line(msg)))
    return p


def _console_line(msg) -> str:
    line = f"{msg.type}: {msg.text}"
    url = (msg.location or {}).get("url", "")
    # "Failed to load resource" names no resource in its text; its location is the resource.
    return f"{line} @ {url}" if msg.text.startswith("Failed to load resource") and url else line


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
        raise DriverError(f"the app did not finish running within {timeout_ms} ms (last state: {state})")
    errors = page.locator('[data-testid="stException"]')
    if errors.count():
        log = f"\n--- streamlit log (tail) ---\n{_tail(current_log)}" if current_log else ""
        raise DriverError("the app shows an exception:\n" + errors.first.inner_text() + log)


# ---- helpers for the featviz pages ------------------------------------------------------------

FIGURE = ".js-plotly-plot"
EXCEPTION = '[data-testid="stException"]'
ALERT = '[data-testid="stAlert"]'
FIGURE_TIMEOUT_MS = 90_000  # a cold server imports torch and trains before the first figure
# Every animation chart (featviz.chart) on the page shows a figure built for its width (within
# the 100 px the chart lets pass without reporting), or one not built for a width.
CHARTS_AT_THEIR_WIDTH = """() => Array.from(document.querySelectorAll('.featviz-chart')).every(gd => {
  const built = gd.parentElement?.__featvizChart?.opts?.width;
  return built == null || Math.abs(built - gd.parentElement.clientWidth) <= 100;
})"""

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
    # A chart first drawn for a guessed width reports the width it got; the rerun that follows
    # draws the figure again for it. Wait for that, or a later redraw resets what a test does next.
    page.wait_for_function(CHARTS_AT_THEIR_WIDTH, timeout=timeout_ms)
    wait_for_app(page, timeout_ms=timeout_ms, settle_ms=500)


def open_link(page, url: str, *, figures: int = 1):
    """Go to url and wait until its first `figures` figures are drawn; returns the page."""
    page.goto(url)
    wait_for_figure(page, count=figures)
    return page


def chart_events(page) -> str:
    """The charts' last draws, width reports and animation events (chart.js keeps 200), one a line."""
    events = page.evaluate("() => window.__featvizEvents || []")
    return "\n".join(" ".join(f"{k}={v}" for k, v in e.items()) for e in events)


def figure_texts(page, index: int = 0) -> dict:
    """{"slider": current-value text of the slider, "titles": [title, subtitle]} of a figure."""
    return page.evaluate(_FIGURE_TEXTS_JS, index)


def wait_for_slider_change(page, previous: str | None, index: int = 0, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> dict:
    """figure_texts(page, index) once the figure's slider shows another value than `previous`."""
    page.wait_for_function(
        f"([i, prev]) => {{ const t = ({_FIGURE_TEXTS_JS})(i); "
        "return !!t && t.slider !== null && t.slider !== prev; }",
        arg=[index, previous],
        timeout=timeout_ms,
    )
    return figure_texts(page, index)


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


# ---- the animation chart (featviz.chart): a neuron and its path ----------------------------------

# On the chart's last frame, the point of a 2-D trace farthest from the others (a click there hits
# nothing else): its index j and its page position, and a spot in the plot's empty corner.
_LONELIEST_POINT_JS = """async (name) => {
    const gd = document.querySelector('.featviz-chart');
    const frames = gd._transitionData._frames;
    await window.__featvizPlotlyLib.animate(gd, [frames[frames.length - 1].name],
        {mode: 'immediate', frame: {duration: 0, redraw: false}, transition: {duration: 0}});
    const i = gd._fullData.findIndex(t => t.name === name);
    const t = gd._fullData[i], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    const box = gd.getBoundingClientRect();
    const px = Array.from(t.x, (x, j) =>
        [box.left + xa._offset + xa.l2p(x), box.top + ya._offset + ya.l2p(t.y[j])]);
    let best = 0, bestD = -1;
    px.forEach((p, j) => {
        const d = Math.min(...px.map((q, k) => k === j ? Infinity : Math.hypot(p[0] - q[0], p[1] - q[1])));
        if (d > bestD) { bestD = d; best = j; }
    });
    return {j: best, x: px[best][0], y: px[best][1], area: [box.left + xa._offset + 5, box.top + ya._offset + 5]};
}"""

_PATH_JS = """(j) => document.querySelector('.featviz-chart').data
    .filter(t => t.name === 'path of neuron ' + j).map(t => ({x: Array.from(t.x), y: Array.from(t.y)}))"""


def click_loneliest_point(page, trace_name: str) -> dict:
    """Show the chart's last frame and click the point of trace_name farthest from the others.

    Returns {"j": its index, "x", "y": where it was clicked, "area": [x, y] of an empty spot}.
    """
    target = page.evaluate(_LONELIEST_POINT_JS, trace_name)
    page.mouse.move(target["x"], target["y"])
    page.mouse.click(target["x"], target["y"])
    return target


def neuron_path(page, j: int) -> list[dict]:
    """The chart's path traces of neuron j ({"x": [...], "y": [...]} each): its neuron view's, then its angle view's."""
    return page.evaluate(_PATH_JS, j)


def only_the_local_server(page) -> tuple[list[str], list[str]]:
    """Let the page's context reach only 127.0.0.1 (and data:, blob: URLs), as on a machine offline.

    Returns (blocked URLs, plotly.js URLs loaded), two lists that fill as the page runs.
    """
    blocked, plotly_loads = [], []

    def route(r):
        url = r.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            if "plotly" in url and url.endswith(".js"):
                plotly_loads.append(url)
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    page.context.route("**/*", route)
    return blocked, plotly_loads


# Console errors that are not the app's, each matched with the resource it names:
# - Streamlit's client, opened on a page's own path (/lessons, /compare, ...), first asks for
#   <page path>/_stcore/health and /_stcore/host-config, taking the path for a possible base URL;
#   the server answers 404, then the client asks the root, which answers (streamlit/streamlit#7074).
_NOT_OURS = (
    re.compile(r"^error: Failed to load resource: .*404.* @ https?://[^/]+/[^?]+/_stcore/(health|host-config)$"),
)


def console_errors(page) -> list[str]:
    """The page's console errors ("error: ..." lines of page.featviz_console), less the ones _NOT_OURS explains."""
    return [m for m in page.featviz_console if m.startswith("error:") and not any(r.match(m) for r in _NOT_OURS)]


def nan_messages(page) -> list[str]:
    """Console errors and warnings that mention NaN (for example an SVG path "MNaN,NaN..." that plotly drew)."""
    return [m for m in page.featviz_console if m.startswith(("error:", "warning:")) and "NaN" in m]


def assert_console_clean(page) -> None:
    """No error in the page's console (console_errors) and no NaN in an error or warning."""
    assert console_errors(page) == [], console_errors(page)
    assert nan_messages(page) == [], nan_messages(page)
