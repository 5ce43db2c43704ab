"""The Open page's upload and a forked run on the Playground, in a real browser."""

from __future__ import annotations

import pytest
from browser_support import ALERT, assert_clean, assert_console_clean, url_params, wait_for_app, wait_for_figure

from featviz.config import Config
from featviz.engine import train

pytestmark = pytest.mark.browser
VIEW = {"width": 1400, "height": 1000}


def test_open_page_upload(app_server, new_page, screenshot, tmp_path):
    page = new_page(VIEW)
    cfg = Config(m=20, seed=4)
    run = train(cfg)
    good = tmp_path / "run.npz"
    run.save_npz(good)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    page.goto(app_server + "/open_run")
    wait_for_app(page)
    assert page.locator("h1").first.inner_text().strip() == "Open a run"
    upload = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    upload.set_input_files(str(bad))
    page.locator(ALERT).first.wait_for(state="visible", timeout=30_000)
    wait_for_app(page)
    alerts = page.locator(ALERT).all_inner_texts()
    assert len(alerts) == 1 and "bad.npz" in alerts[0] and "cannot be opened" in alerts[0]
    upload.set_input_files(str(good))
    wait_for_figure(page)
    text = page.locator('[data-testid="stMarkdownContainer"]', has_text="Result (last frame):").first.inner_text()
    assert f"{run.n_frames} frames up to step {int(run.step[-1]):,}" in text and "of 20 neurons" in text
    assert page.locator(ALERT).count() == 0
    assert page.get_by_role("button", name="Make GIF").is_visible()
    assert_clean(page)
    assert_console_clean(page)
    screenshot(page, "page-open-run", full_page=False)


def test_playground_fork(app_server, new_page, screenshot):
    page = new_page(VIEW)
    page.goto(app_server + "/?fork.step=980&fork.lam=1&fork.lam_decay=1")
    wait_for_figure(page)
    assert url_params(page.url)["fork.step"] == "980"
    banner = page.locator(ALERT, has_text="Forked at step 980").first.inner_text()
    assert "λ decay per epoch = 1" in banner
    text = page.locator('[data-testid="stMarkdownContainer"]', has_text="Result (last frame):").first.inner_text()
    assert "0 of 30 neurons on a teacher line, 30 vanished" in text  # the fork with λ = 1 killed all
    screenshot(page, "page-playground-fork-top", full_page=False)
    page.get_by_text("Fork from this frame").click()
    page.get_by_role("button", name="Fork", exact=True).wait_for(state="visible")
    assert_clean(page)
    screenshot(page, "page-playground-fork", full_page=True)
