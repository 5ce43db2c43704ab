"""Playground in a real browser: link round trip, the animation, hostile links, downloads."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from browser_support import (
    ALERT,
    DriverError,
    assert_clean,
    chart_events,
    figure_texts,
    url_params,
    wait_for_figure,
    wait_until,
    wait_until_still,
)

from featviz.chart import PLOTLY_JS_VERSION
from featviz.config import PARAMS, Config

pytestmark = pytest.mark.browser

LINK = "/?k=2&teachers=planar&angles=0,70&a_star=1,-1&m=16&seed=3"
LINK_CONFIG = Config(k=2, teachers="planar", angles=(0.0, 70.0), a_star=(1.0, -1.0), m=16, seed=3)


def _frame(slider: str) -> tuple[int, int, int]:
    """(frame, frames, step) from the slider's line, e.g. "showing: frame 3/52 · step 2 · gd · ..."."""
    m = re.match(r"showing: frame (\d+)/(\d+) · step ([\d,]+) · ", slider)
    assert m, slider
    return int(m.group(1)), int(m.group(2)), int(m.group(3).replace(",", ""))


def _result_line(page) -> str:
    return page.locator('[data-testid="stMarkdownContainer"]', has_text="Result (last frame):").inner_text()


def _points(page) -> list[str]:
    """Where the figure's markers are drawn (the transforms of its scatter points)."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('.js-plotly-plot .scatterlayer path.point'))"
        ".map(p => p.getAttribute('transform'))"
    )


def _play(page, frames: int) -> dict:
    """Click Play: it replays the training from the first frame, so the slider moves on from an
    early frame (of `frames`). The figure's texts while it plays."""
    page.locator(".updatemenu-button", has_text="▶ Play").click()
    try:
        playing = wait_until(
            lambda: (t := figure_texts(page)) and 1 < _frame(t["slider"])[0] < frames and t,
            timeout=30,
            what="Play replays the training",
        )
    except DriverError as e:
        console = "\n".join(page.featviz_console[-30:])
        raise DriverError(f"{e}; the chart's events:\n{chart_events(page)}\nconsole:\n{console}") from None
    frame, _, step = _frame(playing["slider"])
    assert 1 < frame < frames and step > 0, playing
    return playing


@pytest.mark.browser
def test_link_round_trip_and_animation(app_server, shared_page, screenshot):
    page = shared_page
    page.goto(app_server + LINK)
    wait_for_figure(page)

    # The app rewrites the URL to hold every config parameter, with the link's values.
    params = url_params(page.url)
    assert set(params) == set(PARAMS)
    assert params == LINK_CONFIG.to_mapping()
    assert (params["k"], params["angles"], params["a_star"], params["m"], params["seed"]) == (
        "2",
        "0,70",
        "1,-1",
        "16",
        "3",
    )
    assert "of 16 neurons" in _result_line(page)
    # The copy-link box holds the same link.
    code = page.locator(".featviz-link-text").first.inner_text()
    assert url_params(code.replace("\n", "")) == LINK_CONFIG.to_mapping()
    # Its Copy button puts that link on the clipboard.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator(".featviz-link button").first.click()
    copied = wait_until(
        lambda: page.evaluate("navigator.clipboard.readText()"), timeout=10, what="the link is on the clipboard"
    )
    assert copied == code.replace("\n", "")

    before = figure_texts(page)
    frame, frames, step = _frame(before["slider"])
    # The figure opens on the result: the last frame, a title that states it, the settings below.
    assert (frame, step) == (frames, LINK_CONFIG.total_steps) and frames > 10, before
    assert "of 16 neurons within 5° of a teacher line" in before["slider"]
    title, subtitle = before["titles"]
    assert "of 16 neurons on a teacher line" in title
    assert "d=10, k=2 planar at 0°, 70°, m=16" in subtitle
    assert "Play" in subtitle  # a static hint; the slider's line describes the frame shown
    points = _points(page)
    assert len(points) >= 16

    playing = _play(page, frames)
    frame = _frame(playing["slider"])[0]
    wait_until(lambda: _points(page) != points, timeout=30, what="Play moves the neurons")
    assert _points(page) != points, "Play did not move the neurons"
    assert playing["titles"] == [title, subtitle]

    page.locator(".updatemenu-button", has_text="Pause").click()
    # Still for 700 ms (about 6 frames at 120 ms each, had it kept playing), a frame already on
    # its way allowed to land first.
    paused = wait_until_still(
        lambda: (figure_texts(page), _points(page)), still_for=0.7, timeout=15, what="Pause did not stop the animation"
    )
    assert (figure_texts(page), _points(page)) == paused, "Pause did not stop the animation"
    assert _frame(paused[0]["slider"])[0] >= frame
    assert_clean(page)
    screenshot(page, "playground-link-animation")


@pytest.mark.browser
def test_animation_3d(app_server, shared_page, screenshot):
    """A 3-D neuron view (k=3 orthonormal teachers, the default) redraws its WebGL scene per frame."""
    page = shared_page
    page.goto(app_server + "/?m=12&seed=4")
    wait_for_figure(page)
    assert url_params(page.url) == Config(m=12, seed=4).to_mapping()
    assert page.locator(".js-plotly-plot .gl-container").count() >= 1
    before = figure_texts(page)
    last, frames, _ = _frame(before["slider"])
    assert last == frames  # it opens on the result
    assert "neurons projected on the 3-D teacher span" in page.locator(".featviz-chart").inner_text()
    playing = _play(page, frames)
    assert playing["titles"] == before["titles"]
    page.locator(".updatemenu-button", has_text="Pause").click()
    assert_clean(page)
    screenshot(page, "playground-animation-3d")


HOSTILE = {
    "m": "abc",
    "lr": "nan",
    "d": "-5",
    "a_star": "1,2,3,4",
    "teachers": "<script>alert(1)</script>",
    "seed": "1e400",
    "frames": "",
}


@pytest.mark.browser
def test_hostile_link_falls_back_with_warnings(app_server, shared_page, screenshot, request):
    page = shared_page
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    # The bad values fall back to the default config; have its run cached, so the page shows
    # the figure in its first run. (When it must train first, the page reruns once training is
    # done and the warnings vanish from it.)
    page.goto(app_server + "/")
    wait_for_figure(page)
    page.on("dialog", on_dialog)
    request.addfinalizer(lambda: page.remove_listener("dialog", on_dialog))
    query = "&".join(f"{k}={quote(v, safe=',')}" for k, v in HOSTILE.items()) + "&k=2&k=3"
    page.goto(app_server + "/?" + query)
    wait_for_figure(page)

    warnings = page.locator(ALERT).all_inner_texts()
    text = "\n".join(warnings)
    for name in HOSTILE:
        assert re.search(rf"Parameter {name}:", text), f"no warning names {name}: {warnings}"
    assert "'abc' is not valid: must be an integer in [1, 1000]; using the default instead." in text
    # The script is shown as text, never run nor inserted as an element.
    assert "<script>alert(1)</script>" in text
    assert page.locator("script", has_text="alert(1)").count() == 0
    assert dialogs == []
    # The last of repeated keys wins (k=3); every bad value is replaced by its default.
    assert url_params(page.url) == Config(k=3).to_mapping()
    assert "of 30 neurons" in _result_line(page)
    assert_clean(page)
    screenshot(page, "playground-hostile-link")


def _download(page, button: str, folder: Path) -> Path:
    """Click a download button; the file saved under its suggested name in folder."""
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path


@pytest.mark.browser
def test_downloads(app_server, shared_page, screenshot, tmp_path):
    cfg = Config(m=16, epochs=4, steps=300, seed=5)
    page = shared_page
    page.goto(app_server + "/?m=16&epochs=4&steps=300&seed=5")
    wait_for_figure(page)

    path = _download(page, "Download run (.npz)", tmp_path)
    assert path.name == f"featviz-{cfg.key()[:10]}.npz"
    with np.load(io.BytesIO(path.read_bytes()), allow_pickle=False) as z:
        assert {"teacher_w", "w", "a", "step", "mse", "config"} <= set(z.files)
        frames = z["step"].shape[0]
        assert z["teacher_w"].shape == (3, 10)
        assert z["w"].shape == (frames, 16, 10)
        assert z["a"].shape == (frames, 16)
        assert z["mse"].shape == (frames,)
        assert z["step"][0] == 0 and z["step"][-1] == cfg.total_steps
        assert np.all(np.isfinite(z["mse"])) and z["mse"][-1] < z["mse"][0]
        assert json.loads(str(z["config"])) == cfg.to_mapping()

    html_path = _download(page, "Download animation (.html)", tmp_path)
    assert html_path.name == f"featviz-{cfg.key()[:10]}.html"
    html = html_path.read_text(encoding="utf-8")
    assert "plotly" in html
    assert html.lstrip().lower().startswith(("<!doctype html", "<html"))
    assert "m=16" in html and "neurons projected on the 3-D teacher span" in html  # settings in the subtitle
    assert len(html) > 1_000_000  # plotly.js is inlined: the file works offline
    assert_clean(page)
    screenshot(page, "playground-downloads")


_PLOTLY_SCRIPTS_JS = """() => performance.getEntriesByType('resource').map(e => e.name.split('/').pop())
    .filter(n => /plotly/i.test(n))"""
_DRAWS_JS = """() => (window.__featvizEvents || []).filter(e => e.key === 'animation')
    .filter(e => e.what === 'draw' || e.what === 'report width').map(e => [e.what, e.width])"""


def test_a_new_tab_draws_once_for_the_width_this_browser_reported(app_server, new_page):
    """The chart keeps its reported width in a cookie: a new tab builds its first figure for it
    (one draw, no report and redraw). The page loads one plotly.js, the app's own: the theorem
    section's charts draw with it too."""
    link = app_server + "/?" + "&".join(f"{k}={quote(v)}" for k, v in LINK_CONFIG.to_mapping().items())
    page = new_page({"width": 1280, "height": 800})  # a chart narrower than the figure built without a width
    page.goto(link)
    wait_for_figure(page)
    reported = wait_until(
        lambda: [w for what, w in page.evaluate(_DRAWS_JS) if what == "report width"],
        timeout=30,
        what="the chart reports its width",
    )[-1]
    assert abs(reported - page.locator(".featviz-chart").evaluate("gd => gd.parentElement.clientWidth")) <= 100
    scripts = page.evaluate(_PLOTLY_SCRIPTS_JS)
    assert scripts == [f"plotly-featviz-{PLOTLY_JS_VERSION}.min.js"], scripts  # not Streamlit's PlotlyChart bundle
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 0
    static = page.locator(".featviz-static")
    assert static.count() >= 2
    for i in range(static.count()):
        wait_until(lambda i=i: static.nth(i).locator(".main-svg").count(), timeout=30, what=f"static chart {i} drawn")

    tab = page.context.new_page()
    tab.set_viewport_size({"width": 1280, "height": 800})
    tab.goto(link)
    wait_for_figure(tab)
    events = wait_until_still(lambda: tab.evaluate(_DRAWS_JS), still_for=1.5, timeout=30, what="the new tab's chart")
    assert events == [["draw", reported]], chart_events(tab)
    tab.close()
