"""App benchmark: time to a drawn animation in a real browser, figure payload, many users at once.

    python bench/bench_app.py [--repeat 3] [--users 8] [--class-size 30] [--all]

Starts ``streamlit run app.py`` with an empty cache (the browser driver the tests use too,
devtools/browser.py) and drives Debian's Chromium (/usr/bin/chromium) with Playwright.
Prints Markdown tables.

Times are taken inside the page: ``performance.now()`` (milliseconds since the navigation
started) when, in an animation frame, the animation's neuron traces and slider are drawn. The
same page also records when the result line appeared (the server answered) and when the
chart element was first on the page (the browser had loaded plotly.js). Scenarios:

- fresh server: a new server process (nothing imported, empty cache), first visit of a new
  browser context to the default Playground link;
- new config: the server is running and has trained other configs; a link with a seed not
  trained before, in a new browser context;
- cached, new context: the same link again in a new browser context (a browser that has never
  loaded the app's files: it loads and compiles plotly.js again);
- cached, new tab: a new tab of a browser context that has shown the app before (its files are
  in the browser's cache);
- cached, reload: the same tab loads the link again;
- cached, in the app: the page is open; the sidebar's m is set to a value whose run is cached
  and Train is pressed; time from the click to the new animation drawn (no page load).

Each scenario runs ``--repeat`` times; the table gives the median and the range. Also: the
default figure's payload, and N users at once (N new contexts, each on its own link, runs not
cached, every navigation started before any is awaited): wall time until every figure is
visible, the server's CPU time meanwhile, and its peak resident memory.

The animation chart (featviz.chart, one element kept across reruns), in one run and one browser:

- switch inside the app to a cached config (m in the sidebar, Train) against a **floor**: a
  minimal Streamlit page (bench/floor_app.py) showing the same figures with st.plotly_chart,
  switched by a radio between two cached figures; from the click to the new animation drawn;
- a cached link in a new tab of a browser that has shown the page, app against floor;
- live: a run of about 10 s; snapshots drawn per second while it trains (the chart's draw
  counter) and the server CPU time meanwhile;
- a classroom: N sessions (new browser contexts, plotly.js blocked so the browser costs little
  and the server is measured) open the same lesson link at once on a fresh server; one
  training; time until each shows its result line (p50/p95), server CPU, peak memory; then N
  sessions with N different small configs.

The older scenarios (fresh server, new context, reload, users at once) run with ``--all``.

Run it when the machine is otherwise quiet (``uptime``): the browser and the server share the
CPU. It is not a test; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.browser import (  # noqa: E402
    APP,
    FIGURE,
    FIGURE_TIMEOUT_MS,
    VIEWPORT,
    launch_chromium,
    open_page,
    server_memory_mb,
    streamlit_server,
    wait_for_app,
)

RESULT = "Result (last frame):"
FLOOR_APP = ROOT / "bench" / "floor_app.py"
CHART_DRAWS = "() => Number(document.querySelector('.featviz-chart')?.dataset.featvizDraws || 0)"
PROGRESS = '[data-testid="stProgress"]'
LIVE_LINK = "/?epochs=100&steps=6000&seed=7"  # 600 000 steps of the default size: about 10 s with the kernel
CLASS_LESSON = "three-stages"  # the Lessons page's largest run
ANIMATION = f"{FIGURE} .slider-group"  # the animation is drawn (the preview shown while training has no slider)
M_LABEL = "m · student width"

# Marks in page time (performance.now(), ms): "result" (the result line is on the page),
# "chart" (a plotly figure element: plotly.js is loaded and drawing), "drawn" (an animation frame after the
# animation's traces and slider exist). window.__fv_title: the drawn animation's title.
MARKS = """
window.__fv = {};
const fvMark = (k) => { if (!(k in window.__fv)) window.__fv[k] = performance.now(); };
new MutationObserver(() => {
  if ([...document.querySelectorAll('strong')].some((e) => e.textContent.startsWith('Result'))) fvMark('result');
  if (document.querySelector('.js-plotly-plot')) fvMark('chart');
}).observe(document, { subtree: true, childList: true });
const fvLoop = () => {
  const plot = document.querySelector('.js-plotly-plot');
  if (plot && plot.querySelector('.slider-group') && plot.querySelector('.scatterlayer .trace, .gl-container canvas')) {
    fvMark('drawn');
    const t = plot.querySelector('.g-gtitle');
    window.__fv_title = t ? t.textContent : '';
  }
  requestAnimationFrame(fvLoop);
};
requestAnimationFrame(fvLoop);
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def marked_context(browser):
    page = open_page(browser)
    page.context.add_init_script(MARKS)
    return page


def visit(page, url: str) -> dict[str, float]:
    """Load url in page; the page's marks in seconds since its navigation started."""
    page.goto(url)
    page.wait_for_function("window.__fv && 'drawn' in window.__fv", timeout=FIGURE_TIMEOUT_MS, polling=100)
    wait_for_app(page, timeout_ms=FIGURE_TIMEOUT_MS)
    return {k: v / 1000 for k, v in page.evaluate("window.__fv").items()}


def in_app_switch(page, m: int) -> float:
    """Seconds from pressing Train with the sidebar's m set to m until that animation is drawn."""
    side = page.get_by_test_id("stSidebar")
    box = side.locator(f'input[aria-label="{M_LABEL}"]')
    box.fill(str(m))
    box.press("Enter")
    wait_for_app(page)
    page.evaluate("window.__fv_title = ''")
    t0 = page.evaluate("performance.now()")
    side.get_by_role("button", name="Train").click()
    page.wait_for_function(f"(window.__fv_title || '').includes('m={m},')", timeout=FIGURE_TIMEOUT_MS, polling="raf")
    t1 = page.evaluate("performance.now()")
    wait_for_app(page)
    return (t1 - t0) / 1000


def many_users(browser, base: str, users: int) -> dict:
    links = [f"/?m={10 + 2 * i}&epochs=4&steps=300&seed={1000 + i}" for i in range(users)]
    pages = [open_page(browser) for _ in links]
    t0 = time.monotonic()
    for p, link in zip(pages, links, strict=True):
        p.goto(base + link, wait_until="commit")
    answered: dict[int, float] = {}
    shown: dict[int, float] = {}
    while len(shown) < len(pages) and time.monotonic() - t0 < 300:
        for i, p in enumerate(pages):
            if i not in answered and p.get_by_text(RESULT).count():
                answered[i] = time.monotonic() - t0
            if i not in shown and p.locator(ANIMATION).count():
                shown[i] = time.monotonic() - t0
        time.sleep(0.1)
    wall = time.monotonic() - t0
    for p in pages:
        p.context.close()
    if len(shown) < len(pages):
        raise RuntimeError(f"only {len(shown)} of {len(pages)} pages showed a figure within {wall:.0f} s")
    return {"wall": wall, "first": min(shown.values()), "last_result": max(answered.values(), default=float("nan"))}


def payload() -> tuple[int, float, float]:
    """(bytes of the default config's animation figure as JSON, train seconds, figure seconds)."""
    from featviz.config import Config
    from featviz.engine import train
    from featviz.figures import animation_figure

    t0 = time.monotonic()
    run = train(Config())
    t1 = time.monotonic()
    fig = animation_figure(run)
    size = len(fig.to_json())
    return size, t1 - t0, time.monotonic() - t1


def summary(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def browser_rows(pw, repeat: int) -> list[tuple[str, dict[str, list[float]]]]:
    """Per scenario, the marks of each repetition."""
    scenarios: dict[str, dict[str, list[float]]] = {}

    def add(name: str, marks: dict[str, float]) -> None:
        row = scenarios.setdefault(name, {"result": [], "chart": [], "drawn": []})
        for k in row:
            row[k].append(marks.get(k, float("nan")))

    browser = launch_chromium(pw)
    try:
        for r in range(repeat):
            with tempfile.TemporaryDirectory(prefix="featviz-bench-") as tmp:
                tmp = Path(tmp)
                (tmp / "cache").mkdir()
                with streamlit_server(APP, tmp / "cache", tmp / "streamlit.log") as base:
                    page = marked_context(browser)
                    add("fresh server: first visit, default link", visit(page, base + "/"))
                    page.context.close()

                    page = marked_context(browser)
                    add("new config, running server, new context", visit(page, base + f"/?seed={100 + r}"))
                    page.context.close()

                    page = marked_context(browser)
                    add("cached run, new browser context", visit(page, base + "/"))
                    tab = page.context.new_page()
                    tab.set_viewport_size(VIEWPORT)
                    add("cached run, new tab of a browser that has shown the app", visit(tab, base + "/"))
                    add("cached run, same tab reloads the link", visit(tab, base + "/"))
                    visit(tab, base + "/?m=20")  # trains m=20 (cached from here on), back to m=30 below
                    visit(tab, base + "/")
                    seconds = in_app_switch(tab, 20)
                    add("cached run, in the app: set m, press Train (from the click)", {"drawn": seconds})
                    page.context.close()
    finally:
        browser.close()
    return list(scenarios.items())


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(q / 100 * (len(v) - 1))))]


def floor_switch(page, m: int) -> float:
    """Seconds from a click on the floor page's radio until the m animation is drawn."""
    page.evaluate("window.__fv_title = ''")
    t0 = page.evaluate("performance.now()")
    page.locator('[data-testid="stRadio"] label').filter(has_text=str(m)).click()
    page.wait_for_function(f"(window.__fv_title || '').includes('m={m},')", timeout=FIGURE_TIMEOUT_MS, polling="raf")
    t1 = page.evaluate("performance.now()")
    wait_for_app(page)
    return (t1 - t0) / 1000


def chart_rows(browser, app: str, floor: str, repeat: int) -> list[tuple[str, str, str]]:
    """(scenario, app, floor) rows: switch to a cached config, a cached link in a new tab."""
    app_page, floor_page = marked_context(browser), marked_context(browser)
    for page, base in ((app_page, app), (floor_page, floor)):  # both runs cached, both pages warm
        visit(page, base + "/?m=20")
        visit(page, base + "/?m=30" if base == floor else base + "/")
    switch_app, switch_floor, tab_app, tab_floor = [], [], [], []
    for _ in range(repeat):
        for m in (20, 30):
            switch_app.append(in_app_switch(app_page, m))
            switch_floor.append(floor_switch(floor_page, m))
        for page, base, out in ((app_page, app + "/", tab_app), (floor_page, floor + "/?m=30", tab_floor)):
            tab = page.context.new_page()
            tab.set_viewport_size(VIEWPORT)
            out.append(visit(tab, base)["drawn"])
            tab.close()
    app_page.context.close()
    floor_page.context.close()
    return [
        (
            "switch to a cached config in the page (click → new animation drawn)",
            summary(switch_app),
            summary(switch_floor),
        ),
        ("cached link, new tab of a browser that has shown the page", summary(tab_app), summary(tab_floor)),
    ]


def live_rate(browser, base: str, pid: int) -> dict:
    """Snapshots drawn per second while a run of about 10 s trains, and the server CPU meanwhile."""
    page = marked_context(browser)
    page.goto(base + LIVE_LINK)
    page.locator(PROGRESS).wait_for(state="visible", timeout=FIGURE_TIMEOUT_MS)
    draws0, cpu0, t0 = page.evaluate(CHART_DRAWS), cpu_seconds(pid), time.monotonic()
    sliders = set()
    # Until the result line shows: the progress bar leaves the page for a moment while the page
    # reruns for the width the chart reports, so its absence does not mean the run has ended.
    while not page.get_by_text(RESULT).count() and time.monotonic() - t0 < 300:
        sliders.add(
            page.evaluate(
                "() => document.querySelector('.featviz-chart .slider-group > text.slider-label')?.textContent"
            )
        )
        page.wait_for_timeout(50)
    seconds, cpu = time.monotonic() - t0, cpu_seconds(pid) - cpu0
    draws = page.evaluate(CHART_DRAWS) - draws0
    page.wait_for_function(
        "document.querySelector('.featviz-chart')?._transitionData?._frames?.length === 60", timeout=FIGURE_TIMEOUT_MS
    )
    page.context.close()
    return {"seconds": seconds, "draws": draws, "fps": draws / seconds, "cpu": cpu, "distinct": len(sliders - {None})}


def classroom(browser, base: str, links: list[str], result: str) -> dict:
    """Sessions opening links at once (plotly.js blocked): when each shows its result line."""
    pages = []
    for _ in links:
        ctx = browser.new_context(viewport=VIEWPORT)
        ctx.route("**/plotly-*.min.js", lambda r: r.abort())
        pages.append(ctx.new_page())
    cpu0, t0 = cpu_seconds(base.pid), time.monotonic()
    for p, link in zip(pages, links, strict=True):
        p.goto(base + link, wait_until="commit")
    shown: dict[int, float] = {}
    while len(shown) < len(pages) and time.monotonic() - t0 < 600:
        for i, p in enumerate(pages):
            if i not in shown and p.get_by_text(result).count():
                shown[i] = time.monotonic() - t0
        time.sleep(0.1)
    cpu = cpu_seconds(base.pid) - cpu0
    for p in pages:
        p.context.close()
    times = list(shown.values())
    return {
        "shown": len(shown),
        "of": len(pages),
        "p50": pct(times, 50),
        "p95": pct(times, 95),
        "cpu": cpu,
        "peak": server_memory_mb(base)["peak"],
    }


def chart_bench(pw, repeat: int, class_size: int) -> None:
    with tempfile.TemporaryDirectory(prefix="featviz-bench-") as tmp:
        tmp = Path(tmp)
        for name in ("app", "floor", "class"):
            (tmp / name).mkdir()
        browser = launch_chromium(pw)
        try:
            with (
                streamlit_server(APP, tmp / "app", tmp / "app.log") as app,
                streamlit_server(FLOOR_APP, tmp / "floor", tmp / "floor.log") as floor,
            ):
                rows = chart_rows(browser, app, floor, repeat)
                live = live_rate(browser, app, app.pid)
            with streamlit_server(APP, tmp / "class", tmp / "class.log") as base:
                lesson = classroom(browser, base, [f"/lessons?lesson={CLASS_LESSON}"] * class_size, "Last frame:")
                links = [f"/?m={8 + i}&epochs=2&steps=300&seed={500 + i}" for i in range(class_size)]
                configs = classroom(browser, base, links, RESULT)
        finally:
            browser.close()
    print("| scenario | app (animation chart) | floor (st.plotly_chart page) |")
    print("| --- | --- | --- |")
    for name, a, f in rows:
        print(f"| {name} | {a} | {f} |")
    print()
    print("| measure | value |")
    print("| --- | --- |")
    print(
        f"| live run ({LIVE_LINK}): snapshots drawn while training | {live['draws']} in {live['seconds']:.1f} s = "
        f"{live['fps']:.1f} per s ({live['distinct']} distinct slider lines seen) |"
    )
    print(
        f"| live run: server CPU while training (training included) | {live['cpu']:.1f} s in {live['seconds']:.1f} s |"
    )
    for name, r in (
        (f"{class_size} sessions, one lesson link ({CLASS_LESSON})", lesson),
        (f"{class_size} sessions, {class_size} small configs", configs),
    ):
        print(
            f"| {name}: result line p50 / p95 | {r['p50']:.1f} s / {r['p95']:.1f} s ({r['shown']} of {r['of']} shown) |"
        )
        print(f"| {name}: server CPU / peak memory (VmHWM) | {r['cpu']:.1f} s / {r['peak']:.0f} MB |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each scenario (default 3)")
    parser.add_argument("--users", type=int, default=8, help="pages opened at once (default 8)")
    parser.add_argument("--class-size", type=int, default=30, help="sessions of the classroom (default 30)")
    parser.add_argument("--all", action="store_true", help="also the older page-load scenarios")
    parser.add_argument("--live-only", action="store_true", help="only the live run")
    args = parser.parse_args()
    if args.live_only:
        from playwright.sync_api import sync_playwright

        with tempfile.TemporaryDirectory(prefix="featviz-bench-") as tmp, sync_playwright() as pw:
            (Path(tmp) / "cache").mkdir()
            browser = launch_chromium(pw)
            with streamlit_server(APP, Path(tmp) / "cache", Path(tmp) / "log") as app:
                live = live_rate(browser, app, app.pid)
            browser.close()
        print(f"load average {os.getloadavg()[0]:.2f}: {live}")
        return

    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()
    print(
        f"featviz animation chart benchmark · {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} CPUs · "
        f"load average {load_before[0]:.2f} before · {args.repeat} repetitions: median (min–max), seconds\n"
    )
    with sync_playwright() as pw:
        chart_bench(pw, args.repeat, args.class_size)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}\n")
    if not args.all:
        return
    with sync_playwright() as pw:
        timings = browser_rows(pw, args.repeat)
        with tempfile.TemporaryDirectory(prefix="featviz-bench-") as tmp:
            tmp = Path(tmp)
            (tmp / "cache").mkdir()
            with streamlit_server(APP, tmp / "cache", tmp / "streamlit.log") as base:
                browser = launch_chromium(pw)
                try:
                    idle = server_memory_mb(base)
                    warm = open_page(browser)
                    warm.goto(base + "/")
                    warm.locator(ANIMATION).first.wait_for(state="attached", timeout=FIGURE_TIMEOUT_MS)
                    wait_for_app(warm, timeout_ms=FIGURE_TIMEOUT_MS)
                    after_first = server_memory_mb(base)
                    warm.context.close()
                    cpu0 = cpu_seconds(base.pid)
                    load = many_users(browser, base, args.users)
                    load["server_cpu"] = cpu_seconds(base.pid) - cpu0
                    peak = server_memory_mb(base)
                finally:
                    browser.close()
    size, train_s, figure_s = payload()
    load_after = os.getloadavg()

    print(
        f"featviz app benchmark · {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} CPUs · "
        f"Python {platform.python_version()} · load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after · {args.repeat} repetitions: median (min–max), seconds\n"
    )
    print("| scenario | animation drawn | result line shown | plotly.js loaded (chart element) |")
    print("| --- | --- | --- | --- |")
    for name, marks in timings:
        cells = [summary(marks[k]) if all(v == v for v in marks[k]) else "–" for k in ("drawn", "result", "chart")]
        print(f"| {name} | " + " | ".join(cells) + " |")
    rows = [
        (
            "figure payload, default config (`animation_figure(train(Config())).to_json()`)",
            f"{size / 1e3:.0f} kB (train {train_s:.2f} s, figure {figure_s:.2f} s)",
        ),
        (f"{args.users} users at once → every animation drawn (wall)", f"{load['wall']:.1f} s"),
        (
            f"{args.users} users at once → first animation / last result line",
            f"{load['first']:.1f} s / {load['last_result']:.1f} s",
        ),
        (
            f"{args.users} users at once → server CPU time / CPU time available (wall × CPUs)",
            f"{load['server_cpu']:.1f} s / {load['wall'] * (os.cpu_count() or 1):.0f} s",
        ),
        ("server resident memory: idle / after the first visit", f"{idle['rss']:.0f} MB / {after_first['rss']:.0f} MB"),
        (f"server peak memory (VmHWM) after {args.users} users", f"{peak['peak']:.0f} MB"),
    ]
    print()
    print("| measure | value |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
