"""Training in the browser: progress and cancel without blocking others, and many users at once.

Both tests run on a server of their own (fresh_server): a long run or eight new runs must not
slow the other tests, a cancelled run must not outlive its test, and the memory reading of
the load test starts from a clean process.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from browser_support import (
    FIGURE,
    REPO_ROOT,
    TALL_VIEWPORT,
    assert_clean,
    figure_texts,
    server_memory_mb,
    url_params,
    wait_for_app,
    wait_for_figure,
    wait_until,
)

from featviz.config import Config

pytestmark = pytest.mark.browser

PROGRESS = '[data-testid="stProgress"]'
# 1.95e10 work units, just under the default cap of 2e10: about a minute of training here.
LONG = Config(m=200, d=40, epochs=12, steps=1000, seed=11)
LONG_LINK = "/?m=200&d=40&epochs=12&steps=1000&seed=11"


def _progress(page) -> tuple[int, int]:
    """(step, total) from the progress text "Training: step N of T · exact mse … · s"."""
    text = page.locator(PROGRESS).inner_text()
    m = re.search(r"Training: step ([\d,]+) of ([\d,]+) · exact mse ", text)
    assert m, text
    return int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.browser
@pytest.mark.slow
def test_progress_cancel_and_other_users_not_blocked(fresh_server, new_page, screenshot):
    long = new_page(TALL_VIEWPORT)
    long.goto(fresh_server + LONG_LINK)
    long.locator(PROGRESS).wait_for(state="visible", timeout=90_000)
    long.get_by_text("Training: step").wait_for(timeout=30_000)
    step1, total = _progress(long)
    assert total == LONG.total_steps == 12_000
    # The progress moves, long before the run ends (about a minute): seen within 60 s.
    long.wait_for_function(
        """(before) => {
            const el = document.querySelector('[data-testid="stProgress"]');
            const m = el && el.innerText.match(/Training: step ([\\d,]+) of/);
            return !!m && Number(m[1].replaceAll(",", "")) > before;
        }""",
        arg=step1,
        timeout=60_000,
    )
    step2, _ = _progress(long)
    assert step2 > step1, f"the progress did not move: step {step1} then {step2}"
    assert url_params(long.url) == LONG.to_mapping()

    # Another user with a small run gets a figure while the long run trains.
    quick_cfg = Config(m=12, epochs=2, steps=200, seed=21)
    quick = new_page(TALL_VIEWPORT)
    quick.goto(fresh_server + "/?m=12&epochs=2&steps=200&seed=21")
    wait_for_figure(quick)
    assert url_params(quick.url) == quick_cfg.to_mapping()
    assert "of 12 neurons" in quick.locator('[data-testid="stMarkdownContainer"]', has_text="Result").inner_text()
    assert_clean(quick)
    screenshot(quick, "training-other-user-not-blocked")

    step3, _ = _progress(long)
    assert step2 < step3 < total, "the long run should still be training"
    # While it trains, the animation's place shows the run so far, its latest snapshot on the slider.
    assert long.locator(FIGURE).count() == 1
    assert long.locator(FIGURE).first.is_visible()
    texts = wait_until(
        lambda: (t := figure_texts(long)) and t["slider"] and t,
        timeout=60,
        what="the live snapshot of the long run is drawn",
    )
    assert "m=200" in texts["titles"][1], texts  # the settings line under the result title
    live_step = int(re.search(r"step ([\d,]+)", texts["slider"]).group(1).replace(",", ""))
    assert 0 < live_step < total, texts
    screenshot(long, "training-progress")

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    long.get_by_role("button", name="Cancel training").click()
    try:
        long.get_by_text("Training was cancelled").wait_for(timeout=15_000)
    except PlaywrightTimeout:
        # Say whether the page froze (progress text unchanged) or kept training.
        shown = long.locator(PROGRESS).all_inner_texts()
        long.wait_for_timeout(2000)
        later = long.locator(PROGRESS).all_inner_texts()
        pytest.fail(
            f"no 'Training was cancelled' 15 s after Cancel; progress {shown} then, 2 s later, {later}; "
            f"server log (tail):\n{fresh_server.log_path.read_text(errors='replace')[-3000:]}",
            pytrace=False,
        )
    assert long.locator(PROGRESS).count() == 0
    assert long.locator(FIGURE).count() == 1  # the frames trained before Cancel stay on screen

    # The run has stopped: the server is (nearly) idle, where training kept a core busy. Seen as
    # a 1.5 s window with under 0.5 s of CPU, within 30 s (a slow machine may need a few windows).
    def idle_window() -> bool:
        cpu0 = _cpu_seconds(fresh_server.pid)
        time.sleep(1.5)
        return _cpu_seconds(fresh_server.pid) - cpu0 < 0.5

    assert wait_until(idle_window, timeout=30, what="the server is idle after Cancel", interval=0)
    assert_clean(long)
    screenshot(long, "training-cancelled")


LOAD_USERS = 8


@pytest.mark.browser
@pytest.mark.slow
def test_many_users_at_once(fresh_server, new_page, screenshot):
    configs = [Config(m=10 + 2 * i, epochs=4, steps=300, seed=100 + i) for i in range(LOAD_USERS)]
    links = [f"/?m={c.m}&epochs=4&steps=300&seed={c.seed}" for c in configs]
    pages = [new_page() for _ in configs]
    memory_before = server_memory_mb(fresh_server)

    t0 = time.monotonic()
    for p, link in zip(pages, links, strict=True):
        p.goto(fresh_server + link, wait_until="commit")  # start every navigation before waiting
    # When each page shows its result line (the server has its run) and its figure (drawn).
    answered: dict[int, float] = {}
    shown: dict[int, float] = {}
    deadline = t0 + 180
    while len(shown) < len(pages) and time.monotonic() < deadline:
        for i, p in enumerate(pages):
            if i not in answered and p.get_by_text("Result (last frame):").count():
                answered[i] = time.monotonic() - t0
            if i not in shown and p.locator(FIGURE).count() and p.locator(FIGURE).first.is_visible():
                shown[i] = time.monotonic() - t0
        time.sleep(0.2)
    wall = time.monotonic() - t0
    memory = server_memory_mb(fresh_server)
    assert len(shown) == len(pages), f"figures shown on pages {sorted(shown)} of {len(pages)} after {wall:.0f} s"

    for p, cfg in zip(pages, configs, strict=True):
        wait_for_app(p)
        assert url_params(p.url) == cfg.to_mapping()
        result = p.locator('[data-testid="stMarkdownContainer"]', has_text="Result (last frame):").inner_text()
        assert f"of {cfg.m} neurons" in result
        # The sidebar still shows this page's config (Streamlit may drop widget state under load).
        side = p.locator('[data-testid="stSidebar"]')
        assert side.locator('input[aria-label="m · student width"]').input_value() == str(cfg.m)
        assert side.locator('input[aria-label="a* · teacher output weights"]').input_value() == "1,-1,1"
        assert side.locator('input[aria-label="seed"]').input_value() == str(cfg.seed)
        assert_clean(p)
    screenshot(pages[-1], "load-last-page")

    report = {
        "pages": len(pages),
        "wall_s": round(wall, 2),
        "result_s": [round(answered.get(i, float("nan")), 2) for i in range(len(pages))],
        "figure_s": [round(shown[i], 2) for i in range(len(pages))],
        "server_rss_before_mb": round(memory_before["rss"], 1),
        "server_rss_after_mb": round(memory["rss"], 1),
        "server_peak_mb": round(memory["peak"], 1),
        "links": links,
    }
    out = REPO_ROOT / "artifacts" / "load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"\n{len(pages)} pages at once: all figures in {wall:.1f} s "
        f"(first {min(shown.values()):.1f} s); server peak memory {memory['peak']:.0f} MB "
        f"(before: {memory_before['rss']:.0f} MB); written to {out}"
    )
    assert memory["peak"] < 4000, report
