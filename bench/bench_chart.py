"""Time from a click on a config to the new animation drawn: featviz.chart in place vs st.plotly_chart.

Starts devtools/chart_demo.py twice (the chart; `-- floor`: the same cached figures through
st.plotly_chart, which remounts) and in one Chromium switches between the two cached configs
a few times on each. Prints median and all times in seconds.

    .venv-test/bin/python bench/bench_chart.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from devtools.browser import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

# Drawn = the neuron trace of the target config is in the page's chart, and no render is pending.
_DRAWN_JS = """(want) => {
    const gds = document.querySelectorAll('.js-plotly-plot');
    if (gds.length !== 1) return false;
    const gd = gds[0];
    const t = (gd._fullData || []).find(t => t.name === 'student neurons');
    return !!t && t.type === want && !!gd.querySelector('.main-svg');
}"""


def start(args: list[str]):
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "devtools/chart_demo.py", "--server.port", str(port)]
    cmd += ["--server.headless", "true", *(["--", *args] if args else [])]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if urllib.request.urlopen(base + "/_stcore/health", timeout=1).read() == b"ok":
                return proc, base
        except OSError:
            time.sleep(0.25)
    raise RuntimeError("server did not start")


def switch_times(page, base: str, repeats: int) -> list[float]:
    page.goto(base + "/?cfg=a")
    page.wait_for_function(_DRAWN_JS, arg="scatter3d", timeout=90_000)
    page.wait_for_timeout(1500)
    out = []
    for i in range(2 * repeats):
        name, kind = ("b", "scatter") if i % 2 == 0 else ("a", "scatter3d")
        label = page.locator('[data-testid="stRadio"] label').filter(has_text=name)
        t0 = time.perf_counter()
        label.click()
        page.wait_for_function(_DRAWN_JS, arg=kind, timeout=30_000, polling=16)
        out.append(time.perf_counter() - t0)
        page.wait_for_timeout(800)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    n = ap.parse_args().repeats
    from playwright.sync_api import sync_playwright

    servers = {"chart": start([]), "floor": start(["floor"])}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for name, (_, base) in servers.items():
                page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
                times = switch_times(page, base, n)
                print(f"{name:6s} median {statistics.median(times):.3f} s  all " + " ".join(f"{t:.3f}" for t in times))
                page.context.close()
            browser.close()
    finally:
        for proc, _ in servers.values():
            os.killpg(proc.pid, 15)


if __name__ == "__main__":
    main()
