"""App benchmark: time to a visible figure in a real browser, figure payload, many users at once.

    python bench/bench_app.py [--users 8]

Starts a fresh ``streamlit run app.py`` with an empty cache (the browser tests' harness,
tests/browser_support.py) and drives Debian's Chromium (/usr/bin/chromium) with Playwright.
Prints a Markdown table:

- cold link: a new browser context opens the default Playground link on the new server; time
  from ``page.goto`` to a visible ``.js-plotly-plot`` (server imports, trains, sends the figure;
  the browser loads plotly.js and draws it);
- cached revisit: the same link in another new context (the run is cached in the server);
- cached revisit in the same page: the browser keeps plotly.js compiled, so the difference to
  the row above is the browser's share;
- figure payload: ``len(animation_figure(train(Config())).to_json())`` in this process;
- N users at once: N new contexts, each on its own link (different seeds and widths, runs not
  cached), every navigation started before any is awaited; wall time until every figure is
  visible, when the last page showed its result line (the server's share), the server's CPU
  time meanwhile (the rest of the machine's CPU went to the browser), and the server
  process's peak resident memory (VmHWM of /proc/<pid>/status) over its whole life.

Run it when the machine is otherwise quiet (``uptime``): the browser and the server share the
CPU. It is not a test; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from browser_support import (  # noqa: E402
    APP,
    CHROMIUM,
    CHROMIUM_ARGS,
    FIGURE,
    FIGURE_TIMEOUT_MS,
    open_page,
    server_memory_mb,
    streamlit_server,
    wait_for_app,
)

RESULT = "Result (last frame):"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_to_figure(page, url: str) -> float:
    t0 = time.monotonic()
    page.goto(url)
    page.locator(FIGURE).first.wait_for(state="visible", timeout=FIGURE_TIMEOUT_MS)
    elapsed = time.monotonic() - t0
    wait_for_app(page, timeout_ms=FIGURE_TIMEOUT_MS)
    return elapsed


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
            if i not in shown and p.locator(FIGURE).count() and p.locator(FIGURE).first.is_visible():
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=8, help="pages opened at once (default 8)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="featviz-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "cache").mkdir()
        with streamlit_server(APP, tmp / "cache", tmp / "streamlit.log") as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                idle = server_memory_mb(base)
                cold_page = open_page(browser)
                cold = time_to_figure(cold_page, base + "/")
                after_cold = server_memory_mb(base)
                cold_page.context.close()

                cached_page = open_page(browser)
                cached = time_to_figure(cached_page, base + "/")
                same_page = time_to_figure(cached_page, base + "/")
                cached_page.context.close()

                cpu0 = cpu_seconds(base.pid)
                load = many_users(browser, base, args.users)
                load["server_cpu"] = cpu_seconds(base.pid) - cpu0
                peak = server_memory_mb(base)
            finally:
                browser.close()
    size, train_s, figure_s = payload()

    rows += [
        ("cold link → visible figure (default Playground link, fresh server, empty cache)", f"{cold:.2f} s"),
        ("cached revisit → visible figure (new browser context)", f"{cached:.2f} s"),
        ("cached revisit → visible figure (same browser page)", f"{same_page:.2f} s"),
        (
            "figure payload, default config (`animation_figure(train(Config())).to_json()`)",
            f"{size / 1e3:.0f} kB (train {train_s:.2f} s, figure {figure_s:.2f} s)",
        ),
        (f"{args.users} users at once → every figure visible (wall)", f"{load['wall']:.1f} s"),
        (
            f"{args.users} users at once → first figure / last result line",
            f"{load['first']:.1f} s / {load['last_result']:.1f} s",
        ),
        (
            f"{args.users} users at once → server CPU time / CPU time available (wall × CPUs)",
            f"{load['server_cpu']:.1f} s / {load['wall'] * (os.cpu_count() or 1):.0f} s",
        ),
        ("server resident memory: idle / after the cold link", f"{idle['rss']:.0f} MB / {after_cold['rss']:.0f} MB"),
        (f"server peak memory (VmHWM) after {args.users} users", f"{peak['peak']:.0f} MB"),
    ]
    load_after = os.getloadavg()
    print(
        f"featviz app benchmark · {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} CPUs · "
        f"Python {platform.python_version()} · load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after\n"
    )
    print("| measure | value |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
