"""Helpers shared by the AppTest tests: open the app on a page and link, settle it, read its charts."""

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT = 120  # a cold `import torch` alone can take seconds


def settle(at: AppTest, *, timeout: float = TIMEOUT) -> AppTest:
    """Run, and rerun while a run trains in the background (a real browser polls instead)."""
    at.run()
    deadline = time.monotonic() + timeout
    while at.get("progress"):
        if time.monotonic() > deadline:
            pytest.fail(f"still training after {timeout} s")
        time.sleep(0.3)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_app(params: dict | None = None, *, page: str | None = None, timeout: float = TIMEOUT) -> AppTest:
    """The app opened with these link parameters (on `page`, a file under pages/, if given), settled."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    if page:
        at.switch_page(page)
    return settle(at, timeout=timeout)


def _figures(block, component: str) -> dict[str, dict]:
    """The figure each element of `component` (or of its feed) in block carries, by its key: the
    last one for a key (the element itself, then the figures pushed to it in the same run)."""
    out = {}
    for e in block.get("bidi_component"):
        if e.proto.component_name.startswith(component):
            payload = json.loads(e.proto.bytes)
            out[payload["opts"]["key"]] = payload["figure"]
    return out


def animations(at: AppTest) -> dict[str, dict]:
    """The figure each animation chart shows, by chart key: the last one its elements carry
    (the chart element itself, then the figures pushed to it in the same run)."""
    return _figures(at, "featviz.animation_chart")


def static_charts(block) -> dict[str, dict]:
    """The figures of the static charts (featviz.chart.static_chart) in an AppTest or a block of it, by key."""
    return _figures(block, "featviz.static_chart")


def copied_links(at: AppTest) -> list[str]:
    """The links the page's Copy-link boxes (featviz.ui.copy_link) hold."""
    return [
        json.loads(e.proto.json)["link"]
        for e in at.get("bidi_component")
        if e.proto.component_name == "featviz.copy_link"
    ]
