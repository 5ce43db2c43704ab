"""featviz.chart in Chromium: the chart stays mounted, streams live frames, draws a clicked neuron's path.

Runs devtools/chart_demo.py (two small configs, a live stream, trails) on its own server.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from browser_support import (
    REPO_ROOT,
    assert_neuron_path,
    click_loneliest_point,
    only_the_local_server,
    open_page,
    streamlit_server,
    wait_for_app,
    wait_for_state,
)

pytestmark = pytest.mark.browser

DEMO = REPO_ROOT / "devtools" / "chart_demo.py"
CHART = ".featviz-chart"
NEURONS = "student neurons"

_STATE_JS = """(name) => {
    const gd = document.querySelector('.featviz-chart');
    if (!gd || !gd._fullData) return null;
    const i = gd._fullData.findIndex(t => t.name === name);
    const cur = gd.querySelector('.slider-currentvalue, .slider-group > text.slider-label');
    return {
        draws: Number(gd.dataset.featvizDraws || 0),
        tag: gd.__testTag || null,
        type: i >= 0 ? gd._fullData[i].type : null,
        x: i >= 0 ? Array.from(gd._fullData[i].x) : null,
        slider: cur ? cur.textContent : null,
        traces: gd.data.length,
        selected: gd.dataset.featvizSelected || "",
    };
}"""


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chart_demo")
    (tmp / "cache").mkdir()
    with streamlit_server(DEMO, tmp / "cache", tmp / "streamlit.log") as base:
        yield base


@pytest.fixture
def chart_page(browser):
    p = open_page(browser, {"width": 1400, "height": 1100})
    yield p
    p.context.close()


def _state(page) -> dict | None:
    return page.evaluate(_STATE_JS, NEURONS)


def _wait(page, cond, what: str, timeout_s: float = 60.0) -> dict:
    return wait_for_state(lambda: _state(page), cond, page=page, what=what, timeout=timeout_s)


def _demo_figure(name: str):
    from devtools.chart_demo import CONFIGS
    from featviz import figures
    from featviz.engine import train

    return figures.animation_figure(train(CONFIGS[name]))


def test_config_switch_updates_in_place(demo_server, chart_page, screenshot):
    page = chart_page
    page.goto(demo_server + "/?cfg=a")
    first = _wait(page, lambda s: s["draws"] >= 1, "the first figure")
    assert first["type"] == "scatter3d"  # config a: 3-D teacher span
    page.evaluate("() => { document.querySelector('.featviz-chart').__testTag = 'first mount'; }")
    wait_for_app(page)
    page.locator('[data-testid="stRadio"] label').filter(has_text="b").click()
    after = _wait(page, lambda s: s["draws"] >= 2 and s["type"] == "scatter", "the switch to config b")
    # The same DOM node (its JS property survived) shows the other run: no remount.
    assert after["tag"] == "first mount"
    assert page.locator(CHART).count() == 1
    assert len(after["x"]) == 20  # config b has m = 20 neurons (a: 30)
    screenshot(page, "chart_switched_in_place")
    assert page.featviz_errors == []


_FAKE_PLOTLY = """() => {
    window.Plotly = {version: 'not the chart\\'s', react() { throw new Error('window.Plotly used'); }};
}"""
_FRAMES_JS = """() => {
    const gd = document.querySelector('.featviz-chart');
    return {frames: Object.keys(gd._transitionData?._frameHash || {}).length,
            version: gd.parentElement.__featvizChart.Plotly.version};
}"""


def test_the_chart_keeps_its_own_plotly(demo_server, chart_page):
    """Streamlit's st.plotly_chart sets window.Plotly to its own plotly.js (another version); the
    chart draws and redraws with the plotly.js it loaded, whatever window.Plotly is."""
    from featviz.chart import _plotly_js_version

    page = chart_page
    page.add_init_script(_FAKE_PLOTLY)  # there before the chart loads its plotly.js ...
    page.goto(demo_server + "/?cfg=b")
    _wait(page, lambda s: s["draws"] >= 1 and s["type"] == "scatter", "config b")
    wait_for_app(page)
    assert page.evaluate(_FRAMES_JS) == {"frames": 60, "version": _plotly_js_version()}
    page.evaluate(_FAKE_PLOTLY)  # ... and set again after it loaded
    page.locator('[data-testid="stRadio"] label').filter(has_text="a").click()
    _wait(page, lambda s: s["type"] == "scatter3d", "the switch to config a")
    page.locator('[data-testid="stRadio"] label').filter(has_text="b").click()
    _wait(page, lambda s: s["type"] == "scatter", "the switch back to config b")
    wait_for_app(page)
    # Every redraw kept the figure's frames (Play needs them) and used the chart's plotly.js.
    assert page.evaluate(_FRAMES_JS) == {"frames": 60, "version": _plotly_js_version()}
    assert page.evaluate("() => window.Plotly.version") == "not the chart's"
    assert page.featviz_errors == []


def test_live_stream_draws_many_frames(demo_server, chart_page, screenshot):
    page = chart_page
    page.goto(demo_server + "/?live=1&interval=0.25")
    s = _wait(page, lambda s: s["draws"] >= 1, "the first live snapshot")
    page.evaluate("() => { document.querySelector('.featviz-chart').__testTag = 'live mount'; }")
    sliders, xs, shot = set(), set(), False
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        s = _state(page)
        if s:
            assert s["tag"] == "live mount", "the chart was remounted during the live stream"
            sliders.add(s["slider"])
            xs.add(tuple(np.round(s["x"], 6)))
            if not shot and len(sliders) >= 8:
                screenshot(page, "chart_live_mid_training")
                shot = True
        if page.get_by_text("live: done").count():
            break
        page.wait_for_timeout(80)
    else:
        pytest.fail("the live stream did not finish")
    # Several distinct snapshots were drawn while the stream ran, each one a different frame.
    assert len(sliders) >= 8, sliders
    assert len(xs) >= 8
    # The full animation (60 frames) replaces the snapshots in the same chart, opening on its last frame.
    final = _wait(page, lambda s: s["slider"] and s["slider"].startswith("showing: frame 60/60"), "the full animation")
    assert final["tag"] == "live mount"
    assert page.featviz_errors == []


def test_click_draws_the_neurons_path(demo_server, chart_page, screenshot):
    page = chart_page
    page.goto(demo_server + "/?cfg=b")
    _wait(page, lambda s: s["draws"] >= 1 and s["type"] == "scatter", "config b")
    wait_for_app(page)
    # Go to the last frame, then click the neuron farthest from the others (no overlap).
    before = _state(page)["traces"]
    target = click_loneliest_point(page, NEURONS)
    s = _wait(page, lambda s: s["selected"] == str(target["j"]), "the clicked neuron's path")
    assert s["traces"] == before + 2  # its path in the neuron view and in the angle-vs-mass view
    assert_neuron_path(page, _demo_figure("b"), target["j"])
    screenshot(page, "chart_clicked_neuron_path")
    # A click on empty plot area clears it.
    page.mouse.click(*target["area"])
    s = _wait(page, lambda s: s["selected"] == "", "the path to clear")
    assert s["traces"] == before
    assert page.featviz_errors == []


def test_trails_follow_the_frames(demo_server, chart_page, screenshot):
    page = chart_page
    page.goto(demo_server + "/?cfg=b&trails=1")
    s = _wait(page, lambda s: s["draws"] >= 1, "the chart with trails")
    counts = page.evaluate(
        """async () => {
        const gd = document.querySelector('.featviz-chart');
        const frames = gd._transitionData._frames;
        const trail = () => gd._fullData.filter(t => t.name === 'trail' && t.mode === 'lines')
            .map(t => Array.from(t.x).filter(v => v !== null && !Number.isNaN(v)).length);
        const at0 = trail();
        await window.__featvizPlotlyLib.animate(gd, [frames[30].name],
            {mode: 'immediate', frame: {duration: 0, redraw: false}, transition: {duration: 0}});
        return {at0, at30: trail(), frame30: frames[30].traces.length};
    }"""
    )
    # Frame 0 has no past; at frame 30 every neuron's line holds its last 6 moves (7 points).
    assert counts["at0"] == [20, 20]
    assert counts["at30"] == [20 * 7, 20 * 7]
    screenshot(page, "chart_trails")
    assert s["tag"] is None and page.featviz_errors == []


def test_works_offline(demo_server, chart_page):
    page = chart_page
    blocked, plotly_loads = only_the_local_server(page)
    page.goto(demo_server + "/?cfg=a")
    _wait(page, lambda s: s["draws"] >= 1, "the chart with the network blocked")
    wait_for_app(page)
    page.locator('[data-testid="stRadio"] label').filter(has_text="b").click()
    _wait(page, lambda s: s["draws"] >= 2 and s["type"] == "scatter", "the switch, offline")
    assert len(plotly_loads) == 1, plotly_loads  # plotly.js from the app's server, once per page
    assert "/app/static/featviz/plotly-" in plotly_loads[0]
    assert page.featviz_errors == []
    assert all("plotly" not in u for u in blocked), blocked
