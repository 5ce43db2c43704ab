"""The compute budget: how much work a run is, which runs are refused, which are slow."""

import sys

import pytest

from featviz.budget import BudgetError, check_budget, likely_slow, work_of
from featviz.config import Config


def test_budget_refuses_large_runs_with_what_to_reduce(monkeypatch):
    cfg = Config()
    assert work_of(cfg) == cfg.m * (cfg.m + cfg.k) * cfg.d * cfg.epochs * cfg.steps
    check_budget(cfg)  # the default fits the default budget
    monkeypatch.setenv("FEATVIZ_MAX_WORK", str(work_of(cfg) - 1))
    with pytest.raises(BudgetError, match="Reduce steps, epochs, m or d"):
        check_budget(cfg)
    monkeypatch.setenv("FEATVIZ_MAX_WORK", "not a number")
    check_budget(cfg)  # a broken setting falls back to the default
    monkeypatch.setenv("FEATVIZ_MAX_SNAPSHOT_FLOATS", str(cfg.frames * cfg.m * cfg.d - 1))
    with pytest.raises(BudgetError, match="Reduce frames, m or d"):
        check_budget(cfg)


def test_likely_slow_means_heavy_or_the_first_torch_import(monkeypatch):
    """The Playground shows the figure's empty panels first for runs expected to take a second or more."""
    assert not likely_slow(Config())  # 4e7 of work, NumPy: about 0.3 s
    assert likely_slow(Config(m=200, epochs=12))  # heavy
    monkeypatch.delitem(sys.modules, "torch", raising=False)  # as in a fresh server process
    assert likely_slow(Config(data="samples", m=8, epochs=1, steps=10))  # needs torch, not imported
    assert not likely_slow(Config())  # small population runs never import torch


def test_budget_messages_are_markdown_safe(monkeypatch):
    """Shown with st.error: no character Markdown would read as emphasis, a link or maths."""
    cfg = Config()
    monkeypatch.setenv("FEATVIZ_MAX_WORK", "1")
    with pytest.raises(BudgetError) as work:
        check_budget(cfg)
    monkeypatch.setenv("FEATVIZ_MAX_WORK", "1e30")
    monkeypatch.setenv("FEATVIZ_MAX_SNAPSHOT_FLOATS", "1")
    with pytest.raises(BudgetError) as floats:
        check_budget(cfg)
    for e in (work, floats):
        text = str(e.value)
        assert not set(text) & set("*_[]<>$`"), text
    assert "m·(m+k)·d·epochs·steps" in str(work.value)
