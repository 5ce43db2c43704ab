"""Smoke test: the real app renders in a real browser without an exception."""

import pytest
from browser_support import wait_for_app


@pytest.mark.browser
def test_app_renders(app_server, page, screenshot):
    page.goto(app_server)
    wait_for_app(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.featviz_errors == []
    path = screenshot(page, "smoke-home")
    assert path.stat().st_size > 0
