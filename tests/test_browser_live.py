"""The pages' animation chart in Chromium: updated in place, live while training, a neuron's path,
Cancel keeping the frames, the presentation view and its keys, and no network but the app's server.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from browser_support import (
    assert_console_clean,
    assert_neuron_path,
    click_loneliest_point,
    nan_messages,
    only_the_local_server,
    open_page,
    url_params,
    wait_for_app,
    wait_for_state,
    wait_until,
)

from featviz.config import Config

pytestmark = pytest.mark.browser

CHART = ".featviz-chart"
PROGRESS = '[data-testid="stProgress"]'
NEURONS = "student neurons"
# About 40 000 steps of the default size: several seconds of training, a little under the budget.
# Long enough (200,000 steps) for several live snapshots even on a quiet machine.
# Long enough (100 x 6000 steps, about 12 s on a quiet machine) for several live snapshots.
LIVE_LINK = "/?epochs=100&steps=6000&seed={seed}"
LIVE_CONFIG = Config(epochs=100, steps=6000)
# Long enough (100 x 5000 steps) that Cancel always arrives before the end, even on a quiet machine.
CANCEL_LINK = "/?epochs=100&steps=5000&seed={seed}"
# Two runs of 100,000 steps at once: several live comparisons before both finish.
COMPARE_LINK = "/compare?m=30&init=0.1&lam=0.05&epochs=20&steps=5000&seed={seed}&b.lam=0.01"
PLANAR = Config(k=2, teachers="planar", angles=(0.0, 70.0), a_star=(1.0, -1.0), m=16, epochs=2, steps=300, seed=5)

_STATE_JS = """(name) => {
    const gd = document.querySelector('.featviz-chart');
    if (!gd || !gd._fullData) return null;
    const i = gd._fullData.findIndex(t => t.name === name);
    const cur = gd.querySelector('.slider-currentvalue, .slider-group > text.slider-label');
    const frames = (gd._transitionData && gd._transitionData._frames) || [];
    return {
        draws: Number(gd.dataset.featvizDraws || 0),
        tag: gd.__testTag || null,
        type: i >= 0 ? gd._fullData[i].type : null,
        x: i >= 0 ? Array.from(gd._fullData[i].x) : null,
        frames: frames.length,
        slider: cur ? cur.textContent : null,
        title: gd._fullLayout.title && gd._fullLayout.title.text || "",
        subtitle: gd._fullLayout.title && gd._fullLayout.title.subtitle && gd._fullLayout.title.subtitle.text || "",
        frame: gd.dataset.featvizFrame || "",
        selected: gd.dataset.featvizSelected || "",
        traces: gd.data.length,
    };
}"""


def _state(page) -> dict | None:
    return page.evaluate(_STATE_JS, NEURONS)


def _wait(page, cond, what: str, timeout_s: float = 90.0) -> dict:
    return wait_for_state(lambda: _state(page), cond, page=page, what=what, timeout=timeout_s)


def _tag(page, tag: str) -> None:
    page.evaluate("(t) => { document.querySelector('.featviz-chart').__testTag = t; }", tag)


def _link(cfg: Config) -> str:
    from urllib.parse import urlencode

    return "/?" + urlencode(cfg.to_mapping())


@pytest.fixture
def big_page(browser):
    p = open_page(browser, {"width": 1400, "height": 1400})
    yield p
    p.context.close()


def _start_training(page, url: str):
    """Open a link whose run trains for a while; returns the page once its progress bar shows."""
    page.goto(url)
    page.locator(PROGRESS).wait_for(state="visible", timeout=90_000)
    return page


def _watch_training(page, *, done: str, tag: str, shot_after: int, on_shot, each=None) -> tuple[set, set]:
    """Poll the chart until the text `done` shows (the progress bars can leave the page for a
    moment while it reruns, e.g. for the width the chart reports, so their absence is not the
    end). Every state must be the chart tagged `tag` (never remounted); each(state) checks more.
    on_shot() runs once, when `shot_after` distinct snapshots were seen. Returns (the distinct
    neuron x positions, the slider lines) seen."""
    seen, sliders, shot = set(), set(), False
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if page.get_by_text(done).count():
            return seen, sliders
        s = _state(page)
        if s and s["x"]:
            assert s["tag"] == tag, "the chart was remounted while training"
            seen.add(tuple(np.round(s["x"], 6)))
            sliders.add(s["slider"])
            if each is not None:
                each(s)
            if not shot and len(seen) >= shot_after:
                on_shot()
                shot = True
        page.wait_for_timeout(60)
    pytest.fail(f"training did not end ({done!r} never showed)")


def test_config_change_keeps_the_chart(app_server, big_page, screenshot):
    page = big_page
    page.goto(app_server + "/?m=12&epochs=2&steps=100&seed=31")
    _wait(page, lambda s: s["frames"] > 1 and len(s["x"]) == 12, "the first animation")
    wait_for_app(page)
    _tag(page, "first mount")
    side = page.get_by_test_id("stSidebar")
    box = side.locator('input[aria-label="m · student width"]')
    box.fill("14")
    box.press("Enter")
    wait_for_app(page)
    side.get_by_role("button", name="Train").click()
    s = _wait(page, lambda s: s["x"] is not None and len(s["x"]) == 14 and s["frames"] > 1, "the m=14 animation")
    # The same DOM node (its JS property survived) shows the new run: updated in place, not remounted.
    assert s["tag"] == "first mount"
    assert page.locator(CHART).count() == 1
    assert "of 14 neurons" in s["title"] and "m=14" in s["subtitle"]  # the result, then the settings
    wait_for_app(page)
    assert page.featviz_errors == []


def test_live_run_draws_snapshots_then_the_animation(app_server, big_page, screenshot):
    page = _start_training(big_page, app_server + LIVE_LINK.format(seed=901))
    assert (url_params(page.url)["epochs"], url_params(page.url)["steps"]) == ("100", "6000")  # not a default
    _wait(page, lambda s: s["draws"] >= 1, "the chart while training")
    _tag(page, "live mount")

    def shoot():
        page.locator(CHART).scroll_into_view_if_needed()
        screenshot(page, "live-run-mid-training")
        # Then 900 px wide (a chart of about 440 px), where plotly drew the empty panels that
        # follow a 3-D live snapshot ("Trained. Loading the animation…") with axis lines of NaN.
        page.set_viewport_size({"width": 900, "height": 1400})

    def no_nan(_state):
        assert nan_messages(page) == [], "NaN in the console while the run trains"

    seen, sliders = _watch_training(
        page, done="Result (last frame):", tag="live mount", shot_after=3, on_shot=shoot, each=no_nan
    )
    # Several distinct snapshots were drawn while it trained.
    assert len(seen) >= 3, len(seen)
    assert len(sliders) >= 3, sliders
    page.get_by_text("Result (last frame):").wait_for(timeout=60_000)
    final = _wait(page, lambda s: s["frames"] == LIVE_CONFIG.frames, "the full animation")
    assert final["tag"] == "live mount"
    wait_for_app(page)
    assert page.featviz_errors == []
    assert_console_clean(page)  # no error, and no NaN in an error or warning, after it finished


def test_compare_shows_both_runs_live(app_server, big_page, screenshot):
    page = big_page
    page.goto(app_server + COMPARE_LINK.format(seed=903))
    # Both runs' progress and Cancel, side by side, while they train.
    page.locator(PROGRESS).nth(1).wait_for(state="visible", timeout=90_000)
    assert page.get_by_role("button", name="Cancel training").count() == 2
    _wait(page, lambda s: s["draws"] >= 1, "the comparison while both runs train")
    _tag(page, "compare live")
    seen, sliders = _watch_training(
        page,
        done="How to read this",  # what follows the comparison
        tag="compare live",
        shot_after=2,
        on_shot=lambda: screenshot(page, "compare-live-mid-training"),
    )
    assert len(seen) >= 2 and len(sliders - {None}) >= 2, (len(seen), sliders)
    final = _wait(page, lambda s: s["frames"] == Config().frames, "the full comparison")
    assert final["tag"] == "compare live"
    wait_for_app(page)
    assert page.featviz_errors == []
    assert_console_clean(page)


def test_cancel_keeps_the_frames_trained(app_server, big_page, screenshot):
    page = _start_training(big_page, app_server + CANCEL_LINK.format(seed=902))
    live = _wait(page, lambda s: s["frames"] >= 3 and s["slider"], "a live snapshot with a few frames")
    _tag(page, "before cancel")
    # Clicked as a user does: Playwright waits until the button is visible, stable and enabled,
    # which it stays while live snapshots arrive (only the bar and the chart's feed change).
    page.get_by_role("button", name="Cancel training").click(timeout=60_000)
    page.get_by_text("Training was cancelled").wait_for(timeout=90_000)
    wait_for_app(page)
    s = _wait(page, lambda s: s["frames"] >= live["frames"] - 1 and s["x"], "the trained frames after Cancel")
    assert page.locator(PROGRESS).count() == 0
    assert s["tag"] == "before cancel"
    assert len(s["x"]) == Config().m and s["frames"] >= 2
    assert s["slider"] and "step" in s["slider"]
    screenshot(page, "live-run-cancelled")
    assert page.featviz_errors == []


def test_click_draws_the_neurons_path(app_server, big_page, screenshot):
    from featviz.engine import train
    from featviz.figures import animation_figure

    page = big_page
    page.goto(app_server + _link(PLANAR))
    _wait(page, lambda s: s["frames"] > 1 and s["type"] == "scatter", "the planar animation")
    wait_for_app(page)
    before = _state(page)["traces"]
    j = click_loneliest_point(page, NEURONS)["j"]
    s = _wait(page, lambda s: s["selected"] == str(j), "the clicked neuron's path")
    assert s["traces"] == before + 2  # its path in the neuron view and in the angle-vs-mass view
    # The path is the run's own positions of that neuron, frame after frame.
    assert_neuron_path(page, animation_figure(train(PLANAR)), j)
    screenshot(page, "live-clicked-neuron-path")
    assert page.featviz_errors == []


def _fonts(page) -> dict:
    return page.evaluate(
        """() => {
        const gd = document.querySelector('.featviz-chart');
        const sizes = Array.from(gd.querySelectorAll('svg text'))
            .filter(t => t.textContent.trim() && t.getBoundingClientRect().width > 0)
            .map(t => parseFloat(getComputedStyle(t).fontSize));
        return {min: Math.min(...sizes), n: sizes.length, height: gd.getBoundingClientRect().height};
    }"""
    )


def test_presentation_view(app_server, new_page, screenshot):
    page = new_page({"width": 1920, "height": 1080})
    page.goto(app_server + _link(PLANAR) + "&view=present")
    _wait(page, lambda s: s["frames"] > 1, "the animation in the presentation view")
    wait_for_app(page)
    assert not page.get_by_test_id("stSidebar").is_visible()
    fonts = _fonts(page)
    assert fonts["n"] > 20 and fonts["min"] >= 24, fonts
    assert fonts["height"] >= 900, fonts  # it fills the window
    # The neuron view takes most of the window; its tick labels and axis titles are large.
    hero = page.evaluate(
        """(name) => {
        const gd = document.querySelector('.featviz-chart');
        const t = gd._fullData.find(t => t.name === name);
        const xa = gd._fullLayout[t.xaxis.replace('x', 'xaxis')], ya = gd._fullLayout[t.yaxis.replace('y', 'yaxis')];
        const texts = Array.from(gd.querySelectorAll(
            `.xaxislayer-above .${t.xaxis}tick text, .yaxislayer-above .${t.yaxis}tick text, `
            + `.g-${t.xaxis}title text, .g-${t.yaxis}title text`))
            .filter(e => e.textContent.trim()).map(e => parseFloat(getComputedStyle(e).fontSize));
        return {w: xa._length, h: ya._length, vw: innerWidth, vh: innerHeight, fonts: texts};
    }""",
        NEURONS,
    )
    # Equal scales on both axes make it square: it is as tall as most of the window, and wider
    # than the side strip it leaves (the curves are hidden).
    assert hero["h"] >= 0.6 * hero["vh"] and hero["w"] >= 0.6 * hero["vh"] and hero["w"] >= 0.3 * hero["vw"], hero
    assert len(hero["fonts"]) >= 6 and min(hero["fonts"]) >= 24, hero
    screenshot(page, "present-playground-1920x1080", full_page=False)
    # Keys: End, ←, Home, →.
    frames = _state(page)["frames"]
    page.locator("body").press("End")
    s = _wait(page, lambda s: s["frame"] == str(frames - 1), "End: the last frame")
    assert s["slider"].startswith(f"showing: frame {frames}/{frames}")
    page.keyboard.press("ArrowLeft")
    s = _wait(page, lambda s: s["frame"] == str(frames - 2), "←: one frame back")
    assert s["slider"].startswith(f"showing: frame {frames - 1}/{frames}")
    page.keyboard.press("Home")
    _wait(page, lambda s: s["frame"] == "0", "Home: the first frame")
    page.keyboard.press("ArrowRight")
    s = _wait(page, lambda s: s["frame"] == "1", "→: one frame on")
    assert s["slider"].startswith(f"showing: frame 2/{frames}")
    page.keyboard.press(" ")
    _wait(page, lambda s: s["frame"] not in ("", "0", "1"), "space: Play moves the frames")
    page.keyboard.press(" ")
    # The link keeps the view; the button leaves it.
    assert "view=present" in page.url
    page.get_by_role("button", name="Leave presentation view").click()
    wait_for_app(page)
    assert page.get_by_test_id("stSidebar").is_visible()
    href = wait_until(
        lambda: (h := page.evaluate("location.href")) and "view=present" not in h and h,
        timeout=30,
        what=f"the view leaves the URL ({page.evaluate('location.href')})",
    )
    assert "m=16" in href
    assert page.featviz_errors == []


def test_lesson_presentation_view(app_server, new_page, screenshot):
    page = new_page({"width": 1920, "height": 1080})
    page.goto(app_server + "/lessons?lesson=lazy&view=present")
    _wait(page, lambda s: s["frames"] > 1, "the lesson's animation in the presentation view")
    wait_for_app(page)
    assert not page.get_by_test_id("stSidebar").is_visible()
    assert _fonts(page)["min"] >= 24
    assert "view=present" in page.url and "lesson=lazy" in page.url
    screenshot(page, "present-lesson-1920x1080", full_page=False)
    assert page.featviz_errors == []


def test_pages_work_with_only_the_apps_server(app_server, big_page):
    page = big_page
    blocked, plotly_loads = only_the_local_server(page)
    page.goto(app_server + "/?m=10&epochs=2&steps=100&seed=41")
    _wait(page, lambda s: s["frames"] > 1 and len(s["x"]) == 10, "the animation, offline")
    wait_for_app(page)
    page.goto(app_server + "/compare?m=10&epochs=2&steps=100&b.lam=0.05")
    _wait(page, lambda s: s["frames"] > 1, "the comparison, offline")
    wait_for_app(page)
    assert page.locator(CHART).count() == 1
    assert len(plotly_loads) == 2, plotly_loads  # from the app's server, once per page load
    assert all("/app/static/featviz/plotly-" in u for u in plotly_loads)
    assert all("plotly" not in u for u in blocked), blocked
    assert page.featviz_errors == []
