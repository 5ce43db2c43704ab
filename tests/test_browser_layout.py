"""The animation and compare figures in Chromium at the widths the pages give them: no text overlaps.

A page at 1280x800, 1400x1000 and 1920x1080 gives its chart about 900, 1050 and 1550 px (the
sidebar takes about 300). Each figure is loaded as standalone HTML in a container that wide; every
SVG text of the figure (titles, axis titles, tick labels, annotations, slider labels, legend) must
lie inside the figure and overlap no other. 3-D axis labels are drawn by WebGL, not SVG: the
screenshots (artifacts/screenshots/layout-*.png) are where those are looked at.
"""

from __future__ import annotations

import pytest
from browser_support import FIGURE_TIMEOUT_MS, open_page, save_screenshot, wait_for_app

from featviz import figures as F
from featviz.config import Config
from featviz.engine import train

pytestmark = pytest.mark.browser

WIDTHS = {"1280x800": (900, 800), "1400x1000": (1050, 1000), "1920x1080": (1550, 1080)}

# Every visible SVG text element of a plotly figure, with its box (hidden slider step labels excluded).
_TEXT_BOXES = """
() => {
  const root = document.querySelector('.js-plotly-plot');
  const fig = root.getBoundingClientRect();
  const sel = ['.gtitle', '.g-gtitle text', '.g-xtitle text', '.g-ytitle text', '.annotation-text',
    '.slider-current-value', '.legendtext', '.updatemenu-item-text',
    '.xaxislayer-above text', '.yaxislayer-above text'];
  const out = [];
  for (const el of root.querySelectorAll(sel.join(','))) {
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1 || !el.textContent.trim()) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none' || parseFloat(style.opacity) === 0) continue;
    out.push({text: el.textContent, cls: el.getAttribute('class') || el.parentNode.getAttribute('class'),
              x0: r.left, x1: r.right, y0: r.top, y1: r.bottom, size: parseFloat(style.fontSize)});
  }
  return {fig: {x0: fig.left, x1: fig.right, y0: fig.top, y1: fig.bottom}, texts: out};
}
"""


# Each key's background box where it is painted (a fill that is not fully transparent).
_OPAQUE_KEYS = r"""
() => Array.from(document.querySelectorAll('.js-plotly-plot .infolayer > g[class^="legend"]')).flatMap(g => {
  const bg = g.querySelector(':scope > rect.bg');
  if (!bg) return [];
  const fill = getComputedStyle(bg).fill, op = parseFloat(getComputedStyle(bg).fillOpacity);
  if (fill === 'none' || op === 0 || /rgba\(.*,\s*0\)$/.test(fill)) return [];
  const r = bg.getBoundingClientRect();
  return [{name: g.getAttribute('class'), x0: r.left, x1: r.right, y0: r.top, y1: r.bottom}];
})
"""


def _overlap(a: dict, b: dict, tol: float = 1.0) -> bool:
    return min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) > tol and min(a["y1"], b["y1"]) - max(a["y0"], b["y0"]) > tol


@pytest.fixture(scope="module")
def figures_html(tmp_path_factory):
    base = Config(steps=200, epochs=4)
    built = {
        "playground-3d": F.animation_figure(train(base.replace(algo="paper"))),
        "planar-2d": F.animation_figure(train(base.replace(k=3, teachers="planar", angles=(0.0, 60.0, 120.0)))),
        # 100 000 steps: step axes to 100k, whose labels plotly turned and ran into the keys.
        "long-run": F.animation_figure(train(base.replace(epochs=100, steps=1000))),
        "compare": F.compare_figure(
            train(base.replace(lam=0.0)), train(base), labels=F.compare_labels(base.replace(lam=0.0), base)
        ),
    }
    out = {}
    for name, fig in built.items():
        path = tmp_path_factory.mktemp("layout") / f"{name}.html"
        path.write_text(F.figure_html(fig))
        out[name] = path
    return out


@pytest.mark.parametrize("screen", sorted(WIDTHS))
@pytest.mark.parametrize("name", ["playground-3d", "planar-2d", "long-run", "compare"])
def test_figure_text_neither_overlaps_nor_is_clipped(browser, figures_html, name, screen):
    width, height = WIDTHS[screen]
    page = open_page(browser, viewport={"width": width, "height": height})
    try:
        page.goto(figures_html[name].as_uri())
        page.wait_for_selector(".slider-container", timeout=60_000)
        page.wait_for_function("document.querySelectorAll('.legendtext').length > 0", timeout=30_000)
        boxes = page.evaluate(_TEXT_BOXES)
        keys = page.evaluate(_OPAQUE_KEYS)
        save_screenshot(page, f"layout-{name}-{screen}")
    finally:
        page.context.close()
    _assert_texts_clear(boxes)
    # No key's background covers a text outside it (a white box had cut the fate panel's tick labels).
    others = [t for t in boxes["texts"] if t["cls"] != "legendtext"]
    covered = [(k["name"], t["text"]) for k in keys for t in others if _overlap(k, t)]
    assert not covered, covered
    small = sorted({(t["text"], t["size"]) for t in boxes["texts"] if t["size"] < 13})
    assert not small, small  # readable from the back of a room


# Each key's top as plotly placed it (its group's translate), and the bottom margin in force.
_KEY_TOPS = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  const top = (n) => +gd.querySelector('.' + n).getAttribute('transform').match(/,\\s*([-\\d.e]+)/)[1];
  return {legend: top('legend'), legend2: top('legend2'), b: gd._fullLayout._size.b};
}"""


def test_keys_stay_where_the_geometry_puts_them_at_any_width(browser, tmp_path):
    """A figure built for 940 px, first drawn while its page is narrower (a page still laying
    out), then at 940 px: both keys sit at the px the figure's geometry gives them, every time.

    plotly.js used to push the bottom margin for a key that wrapped at the narrow width, and after
    the margin went back, a redraw of the app's chart left both keys 12 and 22 px too high (the
    neuron key then covered the fate panel's tick labels)."""
    fig = F.animation_figure(train(Config(steps=200, epochs=4)), width_hint=940)
    lay = fig.layout
    t, b, H = lay.margin.t, lay.margin.b, lay.height

    def top(y: float) -> float:
        return t + (H - t - b) * (1 - y)

    want = {"legend": top(lay.legend.y), "legend2": top(lay.legend2.y), "b": b}
    path = tmp_path / "figure.html"
    path.write_text(F.figure_html(fig))
    page = open_page(browser, viewport={"width": 700, "height": 1000})
    try:
        page.goto(path.as_uri())
        page.wait_for_selector(".legend2", timeout=60_000)
        narrow = page.evaluate(_KEY_TOPS)
        page.set_viewport_size({"width": 960, "height": 1000})
        page.wait_for_function(
            "() => document.querySelector('.js-plotly-plot')._fullLayout.width >= 940", timeout=30_000
        )
        wide = page.evaluate(_KEY_TOPS)
    finally:
        page.context.close()
    for got in (narrow, wide):
        assert got == pytest.approx(want, abs=0.5), (got, want)


def _assert_texts_clear(boxes: dict, at_least: int = 31) -> None:
    """The figure's texts (boxes: what _TEXT_BOXES found; at least `at_least`, so the query found
    the figure's titles, ticks, keys and slider) lie inside the figure and clear of each other."""
    fig, texts = boxes["fig"], boxes["texts"]
    assert len(texts) >= at_least, texts
    clipped = [
        t["text"]
        for t in texts
        if t["x0"] < fig["x0"] - 1 or t["x1"] > fig["x1"] + 1 or t["y0"] < fig["y0"] - 1 or t["y1"] > fig["y1"] + 1
    ]
    assert not clipped, clipped
    overlaps = [(a["text"], b["text"]) for i, a in enumerate(texts) for b in texts[i + 1 :] if _overlap(a, b)]
    assert not overlaps, overlaps


# ---- the real pages: the chart element as the app mounts it -----------------------------------

SCREENS = {"1280x800": (1280, 800), "1400x1000": (1400, 1000), "1920x1080": (1920, 1080)}
PAGES = {
    "playground": "/",
    "lesson-recovery": "/lessons?lesson=recovery",  # a 3-D lesson
    "compare": "/compare",
}
_CHART_TEXTS = _TEXT_BOXES.replace(".querySelector('.js-plotly-plot')", ".querySelector('.featviz-chart')")
# The full animation is drawn (not the preview): it has a slider, a legend and a shown frame, and
# it was built for the chart's width (within the 100 px the chart lets pass without reporting it).
_ANIMATION_DRAWN = """() => {
  const gd = document.querySelector('.featviz-chart');
  const built = gd?.parentElement?.__featvizChart?.opts?.width;
  return !!gd && gd.dataset.featvizFrame !== undefined && !!gd.querySelector('.slider-container')
    && gd.querySelectorAll('.legendtext').length > 0
    && built !== undefined && Math.abs(built - gd.parentElement.clientWidth) <= 100;
}"""
_PLAY_BOX = """() => {
  for (const b of document.querySelectorAll('.featviz-chart .updatemenu-button')) {
    if (!b.textContent.includes('Play')) continue;
    const r = b.getBoundingClientRect();
    return {x0: r.left, x1: r.right, y0: r.top, y1: r.bottom};
  }
  return null;
}"""


# The neuron view's key (plotly.js draws the first legend as g.legend, the curves' as g.legend2).
_KEY_BOX = """() => {
  const el = document.querySelector('.featviz-chart g.legend');
  if (!el) return null;
  const r = el.getBoundingClientRect();
  return {x0: r.left, x1: r.right, y0: r.top, y1: r.bottom};
}"""
# Screens whose first screen shows ▶ Play and the neuron view's key, by page.
KEY_ON_FIRST_SCREEN = {"1400x1000": set(PAGES), "1920x1080": set(PAGES)}


@pytest.mark.parametrize("screen", sorted(SCREENS))
@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_animation_text_neither_overlaps_nor_is_clipped(app_server, browser, name, screen):
    """The app's own pages at three screen sizes: the animation's texts (legends included) are
    clear of each other and of the figure's edge; at 1400x1000 and 1920x1080 the figure's Play
    and the neuron view's key are on the first screen."""
    width, height = SCREENS[screen]
    page = open_page(browser, viewport={"width": width, "height": height})
    try:
        page.goto(app_server + PAGES[name])
        page.wait_for_function(_ANIMATION_DRAWN, timeout=FIGURE_TIMEOUT_MS)
        wait_for_app(page, timeout_ms=FIGURE_TIMEOUT_MS, settle_ms=500)
        page.wait_for_function(_ANIMATION_DRAWN, timeout=30_000)
        boxes = page.evaluate(_CHART_TEXTS)
        play = page.evaluate(_PLAY_BOX)
        key = page.evaluate(_KEY_BOX)
        save_screenshot(page, f"screen-{name}-{screen}", full_page=False)
    finally:
        page.context.close()
    _assert_texts_clear(boxes)
    fig = boxes["fig"]
    assert play is not None  # the figure's ▶ Play button was found
    assert play["x0"] >= fig["x0"] - 1 and play["x1"] <= fig["x1"] + 1
    assert any(t["cls"] == "legendtext" for t in boxes["texts"])  # the keys' texts were checked too
    if screen in ("1400x1000", "1920x1080"):
        assert 0 <= play["y0"] and play["y1"] <= height, (play, height)  # on the first screen
    if name in KEY_ON_FIRST_SCREEN.get(screen, ()):
        assert key is not None
        assert 0 <= key["y0"] and key["y1"] <= height, (key, height)  # the key too


# ---- the presentation view (a lecturer's projector: 1280x800 and 1920x1080) -------------------

PRESENT_SCREENS = {"1280x800": (1280, 800), "1920x1080": (1920, 1080)}
# Drawn in the presentation view: its slider and a shown frame (the keys are hidden there).
_PRESENT_DRAWN = """() => {
  const gd = document.querySelector('.featviz-chart.featviz-present');
  return !!gd && gd.dataset.featvizFrame !== undefined && !!gd.querySelector('.slider-container');
}"""
_BUTTON_BOXES = """() => Array.from(document.querySelectorAll('.featviz-chart .updatemenu-button')).map(b => {
  const r = b.getBoundingClientRect();
  return {text: b.textContent, x0: r.left, x1: r.right, y0: r.top, y1: r.bottom};
})"""


@pytest.mark.parametrize("screen", sorted(PRESENT_SCREENS))
@pytest.mark.parametrize("name", ["playground", "lesson-recovery"])
def test_presentation_view_text_neither_overlaps_nor_is_clipped(app_server, browser, name, screen):
    """The presentation view's texts are clear of each other and of the figure's edge, and Play
    and Pause cover none of them (the frame line starts right of Pause)."""
    width, height = PRESENT_SCREENS[screen]
    page = open_page(browser, viewport={"width": width, "height": height})
    try:
        page.goto(app_server + PAGES[name] + ("&" if "?" in PAGES[name] else "?") + "view=present")
        page.wait_for_function(_PRESENT_DRAWN, timeout=FIGURE_TIMEOUT_MS)
        wait_for_app(page, timeout_ms=FIGURE_TIMEOUT_MS, settle_ms=500)
        page.wait_for_function(_PRESENT_DRAWN, timeout=30_000)
        boxes = page.evaluate(_CHART_TEXTS)
        buttons = page.evaluate(_BUTTON_BOXES)
        save_screenshot(page, f"present-{name}-{screen}", full_page=False)
    finally:
        page.context.close()
    _assert_texts_clear(boxes, at_least=20)  # no keys, no curves: the side panels and the slider
    assert [b["text"] for b in buttons] == ["▶ Play", "❚❚ Pause"], buttons
    covered = [
        (b["text"], t["text"])
        for b in buttons
        for t in boxes["texts"]
        if t["cls"] != "updatemenu-item-text" and _overlap(b, t)
    ]
    assert not covered, covered
