"""Shared fixtures: a seeded random generator and a private disk cache folder."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """A fresh cache folder for featviz.cache, via FEATVIZ_CACHE_DIR."""
    root = tmp_path / "cache"
    monkeypatch.setenv("FEATVIZ_CACHE_DIR", str(root))
    monkeypatch.delenv("FEATVIZ_CACHE_MB", raising=False)
    return root


# ---- figure tests: small runs of each teacher-span shape and their animations (see tests/figures_support.py)
# ---- browser tests: a real streamlit server and Debian's Chromium (see tests/browser_support.py)
from browser_support import (  # noqa: E402, F401
    _playwright,
    _shared_page,
    app_server,
    browser,
    fresh_server,
    new_page,
    page,
    pytest_runtest_makereport,
    screenshot,
    shared_page,
)
from figures_support import diverged, figs, runs, settled  # noqa: E402, F401
