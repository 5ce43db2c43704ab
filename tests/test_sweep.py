"""featviz.sweep and `python -m featviz sweep`: grids, their checks, outcomes, cache, table."""

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from params_support import assert_rejected

from featviz import cache, cli, engine, sweep
from featviz.budget import BudgetError
from featviz.config import PARAMS, Config, ConfigError
from featviz.metrics import ALIGNED_DEG

BASE = Config().replace(d=6, m=10, k=2, epochs=2, steps=60, frames=12)


def test_axis_lists_and_ranges():
    assert sweep.parse_axis("lam=0,0.003,0.01").values == (0.0, 0.003, 0.01)
    assert sweep.parse_axis("lr=log:0.01:1:3").values == (0.01, 0.1, 1.0)
    assert sweep.parse_axis("init=lin:0.1:0.4:4").values == (0.1, 0.2, 0.3, 0.4)
    m = sweep.parse_axis("m=log:5:40:4")
    assert m.values == (5, 10, 20, 40) and all(type(v) is int for v in m.values)


@pytest.mark.parametrize(
    ("text", "param", "words"),
    [
        ("gamma=1,2", "grid", "a known parameter"),
        ("algo=gd,paper", "algo", "numeric parameter"),
        ("lam=0.1,0.2,0.1", "lam", "repeated"),
        ("m=lin:10:12:5", "m", "repeated"),
        ("lr=log:-1:1:3", "lr", "positive START and STOP"),
        ("lam=log:0:1:3", "lam", "positive START and STOP"),
        ("lam=0,20", "lam", "in [0, 10]"),
        ("m=5,2.5", "m", "an integer"),
        ("lam=lin:0:1", "lam", "lin:START:STOP:COUNT"),
        ("lam=a,b", "lam", "comma-separated numbers"),
        ("lam", "grid", "NAME=V1,V2"),
        ("lam=lin:0:1:5000", "lam", "at most 400 values"),
    ],
)
def test_bad_axes_name_the_problem(text, param, words):
    assert_rejected(lambda: sweep.parse_axis(text), param, words)


def test_bad_grids():
    with pytest.raises(ConfigError, match="at most 400 cells"):
        sweep.make_grid(BASE, ["lam=lin:0:1:30", "lr=log:0.01:1:30"])
    with pytest.raises(ConfigError, match="two different parameters"):
        sweep.make_grid(BASE, ["lam=0,1", "lam=2,3"])
    with pytest.raises(ConfigError, match="at most 2 axes"):
        sweep.make_grid(BASE, ["lam=0,1", "lr=1,2", "m=4,6"])
    with pytest.raises(ConfigError, match="in the cell k=7"):  # k > d
        sweep.make_grid(BASE, ["k=1,7"])


def test_the_sweep_budget(monkeypatch):
    grid = sweep.make_grid(BASE, ["lam=0,0.01", "lr=0.1,0.2"])
    assert grid.shape == (2, 2)
    monkeypatch.setenv("FEATVIZ_MAX_SWEEP_WORK", "2e5")
    with pytest.raises(BudgetError, match="Use fewer values, or reduce steps"):
        sweep.make_grid(BASE, ["lam=0,0.01", "lr=0.1,0.2"])
    monkeypatch.delenv("FEATVIZ_MAX_SWEEP_WORK")
    monkeypatch.setenv("FEATVIZ_MAX_WORK", "5e4")
    assert sweep.max_sweep_work() == 2.5e5
    with pytest.raises(BudgetError):  # one cell alone is over the single-run cap
        sweep.make_grid(BASE, ["lam=0,0.01"])


def test_outcomes_from_the_run_metrics():
    run = engine.train(BASE.replace(lam=0.05, epochs=4, steps=300))
    out = sweep.outcomes(run)
    met = run.metrics
    mass, angle = met.mass[-1], met.line_angle_deg[-1]
    assert out["aligned_mass"] == pytest.approx(mass[angle <= ALIGNED_DEG].sum() / mass.sum())
    assert 0.0 <= out["aligned_mass"] <= 1.0
    assert out["mse"] == run.mse[-1]
    assert out["mse_per_lam2"] == pytest.approx(run.mse[-1] / run.lam[-1] ** 2)
    assert out["dead"] == int((mass < 1e-3).sum())
    live = mass >= 1e-3
    assert out["max_live_angle_deg"] == pytest.approx(angle[live].max())
    assert out["captured_error"] == pytest.approx(np.abs(met.captured[-1] - run.teacher_a).max())
    assert out["far_mass"] == pytest.approx(met.far_mass[-1])
    assert out["diverged"] is False and out["diverged_step"] == -1
    assert set(out) == set(sweep.OUTCOMES)
    zero = sweep.outcomes(engine.train(BASE.replace(lam=0.0)))
    assert math.isnan(zero["mse_per_lam2"])
    bad = sweep.outcomes(engine.train(BASE.replace(lr=60.0)))
    assert bad["diverged"] is True and bad["diverged_step"] > 0


def test_a_sweep_agrees_with_single_runs_and_fills_the_cache(tmp_cache):
    grid = sweep.make_grid(BASE, ["lam=0,0.02,0.1", "m=10,12"])
    res = sweep.run_sweep(grid, chunk=4)
    assert (res.cached, res.trained) == (0, 6)
    assert [(r["lam"], r["m"]) for r in res.rows] == [(lam, m) for lam in (0, 0.02, 0.1) for m in (10, 12)]
    for row, cfg in zip(res.rows, grid.cells(), strict=True):
        ref = sweep.outcomes(engine.train(cfg))
        assert row["key"] == cfg.key()
        for name, value in ref.items():
            assert row[name] == pytest.approx(value, rel=1e-9, abs=1e-12, nan_ok=True), name
        assert cache.load(cfg) is not None  # the Playground finds the cell
    again = sweep.run_sweep(grid)
    assert (again.cached, again.trained) == (6, 0)
    assert again.rows == res.rows or all(
        a[k] == b[k] or (a[k] != a[k] and b[k] != b[k]) for a, b in zip(again.rows, res.rows, strict=True) for k in a
    )


def test_paper_cells_train_alone(tmp_cache):
    grid = sweep.make_grid(BASE.replace(algo="paper", m=10), ["lam=0.01,0.05"])
    assert [len(c) for c in sweep.chunks(grid.cells())] == [1, 1]
    res = sweep.run_sweep(grid)
    ref = engine.train(grid.cells()[1])
    assert res.rows[1]["mse"] == ref.mse[-1]  # engine.train itself: bit-identical


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "featviz", "sweep", *args], capture_output=True, text=True, env=env)


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_cli_writes_one_row_per_cell(tmp_path, tmp_cache, ext):
    out = tmp_path / f"s.{ext}"
    code = cli.main(
        [
            "sweep",
            "--d",
            "6",
            "--m",
            "10",
            "--k",
            "2",
            "--epochs",
            "2",
            "--steps",
            "60",
            "--frames",
            "12",
            "--grid",
            "lam=0,0.02",
            "--grid",
            "lr=log:0.1:0.4:3",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    df = pd.read_csv(out) if ext == "csv" else pd.read_parquet(out)
    assert len(df) == 6
    assert set(PARAMS) | set(sweep.OUTCOMES) | {"key"} <= set(df.columns)
    assert sorted(set(df["lr"])) == [0.1, 0.2, 0.4]
    assert (df["d"] == 6).all()
    cfg = Config().replace(d=6, m=10, k=2, epochs=2, steps=60, frames=12, lam=0.02, lr=0.4)
    row = df[(df["lam"] == 0.02) & (df["lr"] == 0.4)].iloc[0]
    assert row["key"] == cfg.key()
    assert row["mse"] == pytest.approx(engine.train(cfg).mse[-1], rel=1e-9)


def test_cli_prints_a_json_summary_and_reuses_the_cache(tmp_path, tmp_cache, capsys):
    args = ["sweep", "--d", "6", "--m", "10", "--k", "2", "--steps", "50", "--epochs", "1", "--grid", "lam=0,0.1"]
    assert cli.main(args) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (first["cells"], first["cached"], first["trained"]) == (2, 0, 2)
    assert first["seconds"] >= 0
    assert cli.main(args) == 0
    second = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (second["cells"], second["cached"], second["trained"]) == (2, 2, 0)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--grid", "gamma=1,2"], "--grid"),
        (["--grid", "lam=0.1,0.1"], "repeated"),
        (["--grid", "lam=lin:0:1:30", "--grid", "lr=log:0.01:1:30"], "at most 400 cells"),
        (["--grid", "lr=log:-0.1:1:4"], "positive START"),
        (["--grid", "lam=0,1", "--m", "0"], "--m"),
        ([], "one or two --grid axes"),
        (["--grid", "lam=0,1", "--out", "x.txt"], ".parquet or .csv"),
    ],
)
def test_cli_bad_grids_exit_2_with_one_line(args, words):
    r = run_cli(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_cli_help_documents_ranges():
    r = run_cli("--help")
    assert r.returncode == 0
    assert "log:START:STOP:COUNT" in r.stdout and "FEATVIZ_MAX_SWEEP_WORK" in r.stdout
