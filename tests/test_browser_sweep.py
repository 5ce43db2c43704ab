"""The Sweep page in a real browser: a preset's heatmap, and a cell opened in the Playground."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from browser_support import FIGURE, assert_clean, assert_console_clean, url_params, wait_for_figure, wait_until

from featviz.ui.sweep import PRESETS

pytestmark = pytest.mark.browser


def _open(page, server: str, slug: str) -> None:
    page.goto(server + "/sweep?" + urlencode(PRESETS[slug].spec.link()))
    wait_for_figure(page)


@pytest.mark.browser
@pytest.mark.parametrize("slug", list(PRESETS))
def test_preset_renders(app_server, page, screenshot, slug):
    _open(page, app_server, slug)
    assert url_params(page.url) == PRESETS[slug].spec.link()
    assert PRESETS[slug].title in page.locator("h3").first.inner_text()
    heatmap = PRESETS[slug].spec.y != ""
    texts = page.locator(FIGURE).first.locator("text").all_text_contents()
    if heatmap:  # the values are written in the cells
        assert page.locator(f"{FIGURE} .hm").count() == 1
        assert sum(t.replace(".", "", 1).isdigit() for t in texts) >= 20, texts
    else:
        assert "final mse · slope 1.99" in texts, texts  # mse grows as λ²
    assert_clean(page)
    assert_console_clean(page)
    screenshot(page, f"page-sweep-{slug}")


@pytest.mark.browser
def test_choosing_a_cell_opens_it_in_the_playground(app_server, page):
    spec = PRESETS["recovery"].spec
    _open(page, app_server, "recovery")
    page.locator('[data-testid="stSelectbox"]', has_text="Open a cell in the Playground").click()
    page.keyboard.type("lam=0.01, m=10 ")  # the list is long: filter it
    page.get_by_role("option", name="lam=0.01, m=10 →").first.click()
    wait_until(lambda: page.locator("h1", has_text="Playground").count(), timeout=60, what="the Playground opens")
    wait_for_figure(page)
    assert url_params(page.url) == spec.base.replace(lam=0.01, m=10).to_mapping()


@pytest.mark.browser
def test_clicking_a_heatmap_cell_opens_it_in_the_playground(app_server, page):
    spec = PRESETS["lazy"].spec
    _open(page, app_server, "lazy")
    box = page.locator(f"{FIGURE} .nsewdrag").first.bounding_box()
    # The lazy preset's 6 × 5 grid: the cell in the first column (lam=0) and the top row (init=1).
    page.mouse.click(box["x"] + box["width"] / 12, box["y"] + box["height"] / 10)
    wait_until(lambda: page.locator("h1", has_text="Playground").count(), timeout=60, what="the Playground opens")
    wait_for_figure(page)
    assert url_params(page.url) == spec.base.replace(lam=0.0, init=1.0).to_mapping()
