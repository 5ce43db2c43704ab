"""The Streamlit app through streamlit.testing: default run, links in and out, bad links."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from featviz.config import Config

TIMEOUT = 120  # a cold `import torch` alone can take seconds
APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATVIZ_CACHE_DIR", str(tmp_path / "cache"))
    # AppTest runs pages directly (legacy multipage mode, restored before every run): see ui.page_frame.
    monkeypatch.setenv("FEATVIZ_APPTEST", "1")


def open_app(params: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def query(at: AppTest) -> dict[str, str]:
    out = {}
    for k, v in at.query_params.items():
        out[k] = v[-1] if isinstance(v, list) else v
    return out


def markdown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_default_run_shows_recovery_and_writes_the_link():
    at = open_app()
    text = markdown_text(at)
    assert "Result (last frame):" in text
    assert f"of {Config().m} neurons within" in text
    assert len(at.get("plotly_chart")) == 1
    # The URL holds the whole current config.
    assert Config.from_mapping(query(at)) == Config()
    # The copy-link box holds a link with the same parameters.
    code = at.code[0].value
    assert "m=30" in code and "a_star=1%2C-1%2C1" in code


def test_link_round_trip_params_to_widgets_to_params():
    cfg = Config(d=6, k=2, teachers="planar", angles=(0.0, 70.0), a_star=(1.5, -0.5), m=12, lam=0.02, seed=3)
    at = open_app(cfg.to_mapping())
    assert at.number_input(key="w_d").value == 6
    assert at.number_input(key="w_m").value == 12
    assert at.selectbox(key="w_teachers").value == "planar"
    assert at.text_input(key="w_angles").value == "0,70"
    assert at.text_input(key="w_a_star").value == "1.5,-0.5"
    assert at.number_input(key="w_lam").value == pytest.approx(0.02)
    assert Config.from_mapping(query(at)) == cfg
    assert not at.warning


def test_widget_change_then_train_updates_the_link():
    at = open_app({"m": "10", "epochs": "2", "steps": "100"})
    at.number_input(key="w_m").set_value(14)
    at.run()
    assert query(at)["m"] == "10"  # not yet: a half-edited config trains nothing
    assert any("press **Train**" in i.value for i in at.info)
    at.button(key="train").click()
    at.run()
    assert not at.exception
    assert query(at)["m"] == "14"
    assert "of 14 neurons within" in markdown_text(at)


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"m": "abc"}, "m"),
        ({"lr": "-1"}, "lr"),
        ({"d": "nan"}, "d"),
        ({"teachers": "spiral"}, "teachers"),
        ({"a_star": "1,2"}, "a_star"),
        ({"k": "9999", "m": "10"}, "k"),
    ],
)
def test_invalid_link_value_shows_a_message_and_falls_back(params, bad):
    at = open_app(params | {"epochs": "1", "steps": "50", "zzz_unknown": "1"})
    warnings = [w.value for w in at.warning]
    assert any(f"`{bad}`" in w and "must be" in w for w in warnings), warnings
    # The shown config is valid, uses the default for the bad parameter, and is in the URL.
    shown = Config.from_mapping(query(at))
    assert getattr(shown, bad) == getattr(Config(), bad) or bad == "a_star"
    assert "zzz_unknown" not in query(at)
    assert len(at.get("plotly_chart")) == 1


def test_over_budget_config_is_refused_with_what_to_reduce(monkeypatch):
    monkeypatch.setenv("FEATVIZ_MAX_WORK", "1e6")
    at = open_app({"m": "50", "steps": "1000"})
    errors = [e.value for e in at.error]
    assert any("too large" in e and "Reduce" in e for e in errors), errors
    assert len(at.get("plotly_chart")) == 0
