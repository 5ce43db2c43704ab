"""The Sweep page through streamlit.testing: a sweep from its link, single runs, the CLI, bad links."""

import base64
import json

import numpy as np
import pandas as pd
import pytest
from app_support import open_app
from streamlit.testing.v1 import AppTest

from featviz import cli, engine, sweep
from featviz.config import Config
from featviz.ui import sweep as page_sweep

BASE = Config().replace(d=6, k=2, m=8, epochs=2, steps=60, frames=12)
AXES = {"sweep.x": "lam=0,0.05", "sweep.y": "m=8,10"}


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FEATVIZ_APPTEST", "1")


def open_sweep(params: dict) -> AppTest:
    return open_app(params, page="pages/sweep.py")


def heatmap(at: AppTest) -> dict:
    """The heatmap trace, its z as an array (plotly sends numpy arrays as typed base64)."""
    (chart,) = at.get("plotly_chart")
    data = json.loads(chart.proto.spec)["data"][0]
    z = data["z"]
    if isinstance(z, dict):
        shape = tuple(int(n) for n in z["shape"].split(","))
        data["z"] = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
    return data


def test_a_2x2_sweep_from_a_link_shows_the_single_runs_outcomes():
    at = open_sweep(BASE.to_mapping() | AXES | {"sweep.color": "aligned_mass"})
    data = heatmap(at)
    assert data["type"] == "heatmap" and data["x"] == ["0", "0.05"] and data["y"] == ["8", "10"]
    for i, lam in enumerate((0.0, 0.05)):
        for j, m in enumerate((8, 10)):
            ref = sweep.outcomes(engine.train(BASE.replace(lam=lam, m=m)))
            assert data["z"][j, i] == pytest.approx(ref["aligned_mass"], rel=1e-9)
            assert data["text"][j][i] == f"{ref['aligned_mass']:.3g}"
    assert at.selectbox(key="sweep_cell").options[3].startswith("lam=0.05, m=10 → mass within 5°")
    # The colour changes at once and goes into the link.
    at.selectbox(key="sweep_color").set_value("mse").run()
    ref = sweep.outcomes(engine.train(BASE.replace(lam=0.05, m=8)))
    assert heatmap(at)["text"][0][1] == f"{ref['mse']:.3g}"
    assert at.query_params["sweep.color"] in ("mse", ["mse"])


def test_the_page_and_the_cli_agree_cell_for_cell(tmp_path, monkeypatch):
    at = open_sweep(BASE.to_mapping() | AXES | {"sweep.color": "max_live_angle_deg"})
    page_z = np.array(heatmap(at)["z"], dtype=float)
    monkeypatch.setenv("FEATVIZ_CACHE_DIR", str(tmp_path / "cli-cache"))  # the CLI trains its own cells
    out = tmp_path / "s.csv"
    flags = [f"--{k}={v}" for k, v in BASE.to_mapping().items()]
    assert cli.main(["sweep", "--grid", AXES["sweep.x"], "--grid", AXES["sweep.y"], *flags, "--out", str(out)]) == 0
    table = pd.read_csv(out)
    cli_z = table["max_live_angle_deg"].to_numpy().reshape(2, 2).T  # rows lam outermost; the heatmap's rows are m
    np.testing.assert_allclose(page_z, cli_z, rtol=1e-9)


def test_one_parameter_draws_a_panel_per_outcome_with_the_mse_slope():
    at = open_sweep(BASE.to_mapping() | {"sweep.x": "lam=log:0.01:0.1:3"})
    (chart,) = at.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert len([d for d in spec["data"] if d["mode"] == "lines+markers"]) == 8
    assert any(t.startswith("final mse · slope") for t in titles), titles


@pytest.mark.parametrize(
    ("axes", "words"),
    [
        ({"sweep.x": "gamma=1,2"}, "a known parameter"),
        ({"sweep.x": "lam=0.1,0.1"}, "one is repeated"),
        ({"sweep.x": "lam=lin:0:1:100", "sweep.y": "m=lin:2:300:100"}, "at most 400 cells"),
        ({"sweep.x": "lr=log:-1:1:3"}, "positive START and STOP"),
    ],
)
def test_bad_sweep_links_give_a_message_naming_the_problem(axes, words):
    at = open_sweep(BASE.to_mapping() | axes)
    errors = [e.value for e in at.error]
    assert any(words in e and e.startswith("This sweep cannot run") for e in errors), errors
    assert not at.get("plotly_chart")


def test_an_oversized_sweep_says_what_to_reduce(monkeypatch):
    monkeypatch.setenv("FEATVIZ_MAX_SWEEP_WORK", "1e5")
    at = open_sweep(BASE.to_mapping() | AXES)
    assert any("too large" in e.value and "Use fewer values" in e.value for e in at.error)


def test_a_bad_colour_and_unknown_keys_are_named():
    spec, messages = page_sweep.spec_from_link(BASE.to_mapping() | AXES | {"sweep.color": "x", "foo": "1"}, Config())
    assert spec.color == "aligned_mass" and spec.base == BASE
    assert any("`foo`" in m for m in messages) and any("`sweep.color`" in m for m in messages)


def test_presets_are_valid_sweeps_within_the_budget():
    for preset in page_sweep.PRESETS.values():
        grid, problem = page_sweep.make_grid(preset.spec)
        assert grid is not None, problem
        assert 5 <= len(grid.cells()) <= 60
        assert page_sweep.spec_from_link(preset.spec.link(), Config()) == (preset.spec, [])
