"""Every page from a link in a real browser: Playground, the seven lessons, Theory, Compare.

Also a direct link to a page on a fresh server, whose first page request is that link.
"""

from __future__ import annotations

import re

import pytest
from browser_support import (
    ALERT,
    FIGURE,
    TALL_VIEWPORT,
    assert_clean,
    assert_console_clean,
    figure_texts,
    open_link,
    url_params,
    wait_for_figure,
)

from featviz.config import Config
from featviz.lessons import LESSONS

pytestmark = pytest.mark.browser

NAV = ["Playground", "Lessons", "Theory", "Compare", "Sweep", "Open a run"]
COMPARE_A = Config(m=40, init=1.0, lam=0.0, epochs=8, steps=500, lr=0.05)  # the Compare page's default A


def _markdown(page, text: str) -> str:
    return page.locator('[data-testid="stMarkdownContainer"]', has_text=text).first.inner_text()


def _nav_labels(page) -> list[str]:
    return page.locator('[data-testid="stSidebarNavLink"] [data-testid="stMarkdownContainer"]').all_inner_texts()


def _metric(page, label: str) -> str:
    # The last metric with this label: the Theory page shows the Playground's teachers first.
    metric = page.locator('[data-testid="stMetric"]', has_text=label).last
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


@pytest.mark.browser
def test_playground_page(app_server, shared_page, screenshot):
    page = shared_page
    cfg = Config(m=20, lam=0.02, seed=2)
    page.goto(app_server + "/?m=20&lam=0.02&seed=2")
    wait_for_figure(page)
    assert url_params(page.url) == cfg.to_mapping()
    assert page.locator("h1").first.inner_text().strip() == "Playground"
    assert _nav_labels(page) == NAV
    assert "of 20 neurons" in _markdown(page, "Result (last frame):")
    title, subtitle = figure_texts(page)["titles"]
    assert "of 20 neurons on a teacher line" in title  # the result, then the settings
    assert "d=10, k=3 orthonormal, m=20, gd, λ=0.02, init=0.1" in subtitle
    assert page.get_by_role("button", name="Train").is_visible()
    assert page.locator(ALERT).count() == 0
    assert_clean(page)
    assert_console_clean(page)
    screenshot(page, "page-playground")


@pytest.mark.browser
@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.slug for lesson in LESSONS])
def test_lesson_page(app_server, shared_page, screenshot, lesson):
    page = shared_page
    page.goto(f"{app_server}/lessons?lesson={lesson.slug}")
    wait_for_figure(page)
    assert url_params(page.url) == {"lesson": lesson.slug}
    assert lesson.title in page.locator("h2").first.inner_text()
    # The acceptance test of the lesson: its check passes on the run the server made.
    alerts = [a for a in page.locator(ALERT).all_inner_texts() if "Check" in a]
    assert len(alerts) == 1 and "Check passed:" in alerts[0], alerts
    assert "Check failed" not in page.locator('[data-testid="stMain"]').inner_text()
    checked = page.locator('[data-testid="stRadio"] input:checked')
    assert checked.count() == 1
    assert f"of {lesson.config.m} neurons" in _markdown(page, "Last frame:")
    title, subtitle = figure_texts(page)["titles"]
    assert f"of {lesson.config.m} neurons" in title and f"m={lesson.config.m}" in subtitle
    assert page.locator(".featviz-link-text").inner_text().strip().endswith(f"/lessons?lesson={lesson.slug}")
    href = page.get_by_role("link", name=re.compile("Open in the Playground")).get_attribute("href")
    assert url_params(href) == lesson.config.to_mapping()
    assert_clean(page)
    assert_console_clean(page)
    screenshot(page, f"lesson-{lesson.slug}")


@pytest.mark.browser
def test_theory_page(app_server, shared_page, screenshot):
    page = shared_page
    page.goto(app_server + "/theory?angles=0,45,100&a_star=1,1,-1")
    wait_for_figure(page, count=2)
    assert url_params(page.url) == {"angles": "0,45,100", "a_star": "1,1,-1"}
    assert page.locator(FIGURE).count() == 2
    assert _metric(page, "valid certificate") == "yes"
    assert float(_metric(page, "max |η|")) == pytest.approx(1.0, abs=1e-6)
    assert float(_metric(page, "ρ in the plane")) > 0
    inputs = page.locator('[data-testid="stTextInput"] input')
    assert [inputs.nth(i).input_value() for i in range(2)] == ["0,45,100", "1,1,-1"]
    cert_title, cert_sub = figure_texts(page, 0)["titles"]
    assert cert_title.startswith("Dual certificate η")
    assert "max |η| = 1.0000" in cert_sub
    assert figure_texts(page, 1)["titles"][0].startswith("Descent direction")
    assert page.locator(ALERT).count() == 0
    assert_clean(page)
    assert_console_clean(page)
    screenshot(page, "page-theory")
    screenshot(page.locator(FIGURE).nth(1), "page-theory-descent")


def _open_compare(page, url: str, a_cfg: Config, b_lam: str) -> tuple[str, str]:
    """The Compare page from url: its link holds A's config and B's λ; the result lines of A and B."""
    open_link(page, url)
    assert url_params(page.url) == a_cfg.to_mapping() | {"b.lam": b_lam}
    return _markdown(page, "A: "), _markdown(page, "B: ")


@pytest.mark.browser
def test_compare_default(app_server, shared_page, screenshot):
    page = shared_page
    a, b = _open_compare(page, app_server + "/compare", COMPARE_A, "0.1")
    assert a.startswith("A: λ = 0 — ") and "of 40 neurons" in a
    assert b.startswith("B: λ = 0.1 — ") and "of 40 neurons" in b
    assert page.locator(FIGURE).count() == 1
    assert figure_texts(page)["titles"][0].startswith("A: 3 of 40 aligned · B: ")
    assert url_params(page.locator(".featviz-link-text").inner_text().replace("\n", "")) == url_params(page.url)
    assert_clean(page)
    assert_console_clean(page)
    screenshot(page, "page-compare-default")


@pytest.mark.browser
def test_compare_custom_link(app_server, shared_page, screenshot):
    page = shared_page
    a_cfg = Config(m=20, epochs=4, steps=300, lam=0.05)
    a, b = _open_compare(page, app_server + "/compare?m=20&epochs=4&steps=300&lam=0.05&b.lam=0.5", a_cfg, "0.5")
    assert a.startswith("A: λ = 0.05 — ") and "of 20 neurons" in a
    # lam=0.5 is far too much weight decay for this teacher: every neuron of B dies.
    assert b.startswith("B: λ = 0.5 — ") and "20 vanished" in b
    assert figure_texts(page)["titles"][0].endswith("B: 0 of 20 aligned, 20 vanished")
    assert page.locator(ALERT).count() == 0
    assert_clean(page)
    assert_console_clean(page)
    screenshot(page, "page-compare-custom")


@pytest.mark.browser
def test_direct_link_on_fresh_server(fresh_server, new_page, screenshot):
    """The server's first page request is a link to a lesson: the frame (navigation, page
    config) still runs, so the sidebar lists the five pages and the lesson renders."""
    page = new_page(TALL_VIEWPORT)
    page.goto(fresh_server + "/lessons?lesson=lazy")
    wait_for_figure(page)
    assert _nav_labels(page) == NAV
    assert "app" not in [label.lower() for label in _nav_labels(page)]
    active = page.locator('[data-testid="stSidebarNavLink"][aria-current="page"]')
    assert active.count() == 1 and active.inner_text().strip().endswith("Lessons")
    assert page.title() == "featviz · how gradient descent learns features"
    assert url_params(page.url) == {"lesson": "lazy"}
    assert page.url.startswith(fresh_server + "/lessons?")
    assert "3 · The lazy (NTK) regime" in page.locator("h2").first.inner_text()
    assert "Check passed:" in page.locator(ALERT).first.inner_text()
    assert_clean(page)
    screenshot(page, "fresh-server-direct-lesson")


@pytest.mark.browser
def test_playground_theorem_section_draws_its_figures(app_server, shared_page, screenshot):
    # Three figures: the animation, then the bound and the λ² law.
    page = open_link(shared_page, app_server + "/?epochs=4&steps=300", figures=3)
    section = page.locator('[data-testid="stExpander"]', has_text="The theorem, measured")
    figures = section.locator(FIGURE)
    assert figures.count() == 2
    titles = [figure_texts(page, i)["titles"][0] for i in (1, 2)]
    assert titles == ["The certificate's bound on this run", "The λ² law"]
    # The figures have drawn their curves: a far-mass line with as many points as frames, and the law's points.
    paths = section.locator(".scatterlayer .trace").count()
    assert paths >= 4
    assert "fitted slope 2.0" in figure_texts(page, 2)["titles"][1]
    assert_clean(page)
    screenshot(section, "playground-theorem-section")
