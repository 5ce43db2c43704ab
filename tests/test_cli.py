"""The command line: `python -m featviz train ...`.

The four basic cases run for real in subprocesses from the repo root, all started at once
by a module fixture (each pays for `import torch`); the other cases call cli.main in-process.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from featviz import cli
from featviz.config import PARAMS, Config

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--d", "4", "--k", "2", "--m", "6", "--epochs", "2", "--steps", "15", "--frames", "8"]

COMMANDS = {
    "ok": [*SMALL, "--a_star=-1,0.5", "--out", "{tmp}/run.npz"],
    "help": ["--help"],
    "bad_d": ["--d", "500"],
    "unknown_flag": ["--bogus", "1"],
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    env = os.environ | {"FEATVIZ_CACHE_DIR": str(tmp / "cache")}
    env.pop("FEATVIZ_CACHE_MB", None)

    def start(args):
        argv = [sys.executable, "-m", "featviz", "train", *(a.format(tmp=tmp) for a in args)]
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    procs = {name: start(args) for name, args in COMMANDS.items()}
    out = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=180)
        out[name] = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    out["tmp"] = tmp
    return out


def one_json_line(proc) -> dict:
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    return json.loads(lines[0])


def main_in_process(argv, capsys) -> tuple[int, str, str]:
    try:
        status = cli.main(["train", *argv])
    except SystemExit as e:
        status = e.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_success_prints_one_json_line_and_writes_the_run(results):
    proc = results["ok"]
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    summary = one_json_line(proc)
    assert summary["status"] == "ok" and summary["final_step"] == 30
    assert isinstance(summary["mse"], float) and 0 <= summary["mse"] < 10
    assert isinstance(summary["train_seconds"], float) and summary["train_seconds"] > 0
    assert summary["a_star"] == [-1.0, 0.5]
    expected = Config().replace(d=4, k=2, m=6, epochs=2, steps=15, frames=8, a_star=(-1.0, 0.5))
    assert summary["config_key"] == expected.key()
    path = Path(summary["out"])
    assert path == results["tmp"] / "run.npz"
    with np.load(path, allow_pickle=False) as z:
        assert Config.from_json(str(z["config"])) == expected
        T = z["step"].shape[0]
        assert z["teacher_w"].shape == (2, 4) and z["teacher_a"].tolist() == [-1.0, 0.5]
        assert z["w"].shape == (T, 6, 4) and z["a"].shape == (T, 6)
        assert z["alpha"].shape == z["mse"].shape == z["lam"].shape == (T,)
        assert z["beta"].shape == (T, 4)
        assert z["mse"][-1] == summary["mse"]


def test_help_lists_every_flag_with_its_range(results):
    proc = results["help"]
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())  # argparse wraps lines
    for name, p in PARAMS.items():
        assert f"--{name} " in text, name
        assert " ".join(p.allowed.split()) in text, name
    assert "--out" in text and "--cache" in text


def test_bad_value_exits_2_with_one_line_naming_the_flag(results):
    proc = results["bad_d"]
    assert proc.returncode == 2 and proc.stdout == ""
    expected = "python -m featviz: error: argument --d: '500' is not valid: must be an integer in [2, 200]"
    assert proc.stderr.splitlines() == [expected]


@pytest.mark.parametrize(
    ("argv", "flag", "needle"),
    [
        (["--lr", "nan"], "--lr", "[1e-05, 100]"),
        (["--seed", "2147483648"], "--seed", "[0, 2147483647]"),
        (["--algo", "adam"], "--algo", "one of gd, paper"),
        (["--a_star", "1,2"], "--a_star", "3 comma-separated"),
        (["--d", "3", "--k", "4"], "--k", "[1, 3]"),
        (["--algo", "paper", "--m", "5"], "--m", "even"),
        (["--teachers", "random", "--d", "4", "--sep", "40"], "--sep", "[0, 30]"),
        (["--d"], "--d", "expected one argument"),
    ],
)
def test_every_bad_value_names_its_flag(argv, flag, needle, capsys):
    status, out, err = main_in_process(argv, capsys)
    assert status == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert re.search(rf"argument {re.escape(flag)}\b", lines[0]), lines[0]
    assert needle in lines[0]


def test_negative_first_values_are_values_not_flags(capsys):
    status, out, _ = main_in_process([*SMALL, "--a_star", "-1,-0.5"], capsys)
    assert status == 0 and json.loads(out)["a_star"] == [-1.0, -0.5]
    status, _, err = main_in_process([*SMALL, "--lam", "-0.1"], capsys)
    assert status == 2 and "argument --lam" in err and "[0, 10]" in err


def test_unknown_flag_exits_2(results):
    proc = results["unknown_flag"]
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and "--bogus" in proc.stderr


def test_over_budget_exits_2_with_what_to_reduce(monkeypatch, capsys):
    monkeypatch.setenv("FEATVIZ_MAX_WORK", "1000")
    status, out, err = main_in_process(SMALL, capsys)
    assert status == 2 and out == "" and len(err.splitlines()) == 1
    assert "too large" in err and "Reduce" in err


def test_divergence_exits_3_with_the_reason(capsys):
    status, out, err = main_in_process([*SMALL, "--lr", "50"], capsys)
    assert status == 3 and err == ""
    summary = json.loads(out)
    assert summary["status"] == "diverged" and "smaller learning rate" in summary["message"]
    assert summary["out"] is None


def test_cache_flag_reuses_the_stored_run(tmp_cache, capsys):
    runs = []
    for _ in range(2):
        status, out, _ = main_in_process([*SMALL, "--seed", "3", "--cache"], capsys)
        assert status == 0
        runs.append(json.loads(out))
    first, second = runs
    assert (first["cached"], second["cached"]) == (False, True)
    assert first["mse"] == second["mse"] and first["config_key"] == second["config_key"]
    assert [p.name for p in tmp_cache.iterdir()] == [f"run-{first['config_key']}.npz"]


def test_unwritable_out_exits_1(tmp_path, capsys):
    status, out, err = main_in_process([*SMALL, "--out", str(tmp_path / "missing" / "run.npz")], capsys)
    assert status == 1 and out == ""
    assert len(err.splitlines()) == 1 and "cannot write --out" in err


# ---- check and certificate subcommands ----------------------------------------------------


def run_cli(argv, capsys) -> tuple[int, str, str]:
    try:
        status = cli.main(argv)
    except SystemExit as e:
        status = e.code
    out, err = capsys.readouterr()
    return status, out, err


def test_check_prints_json_and_exit_status(capsys, tmp_path):
    status, out, _ = run_cli(["check", "too-much-regularization"], capsys)
    result = json.loads(out)
    assert status == 0 and result["passed"] is True and result["dead"] == 30
    # The recovery preset saved to a file fails the too-much check: exit 1.
    from featviz.engine import train
    from featviz.lessons import BY_SLUG

    path = tmp_path / "rec.npz"
    with open(path, "wb") as f:
        train(BY_SLUG["recovery"].config).save_npz(f)
    status, out, _ = run_cli(["check", "too-much-regularization", "--run", str(path)], capsys)
    assert status == 1 and json.loads(out)["passed"] is False


def test_check_bad_input_exits_2(capsys, tmp_path):
    assert run_cli(["check", "no-such-lesson"], capsys)[0] == 2
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    status, _, err = run_cli(["check", "recovery", "--run", str(bad)], capsys)
    assert status == 2 and "--run" in err


def test_certificate_prints_rho_and_validity(capsys):
    argv = ["certificate", "--teachers", "planar", "--k", "2", "--angles", "0,75", "--a_star", "1,-1", "--d", "3"]
    status, out, _ = run_cli(argv, capsys)
    result = json.loads(out)
    assert status == 0 and result["valid"] is True
    assert result["rho"] == pytest.approx(0.405, abs=0.005) and result["max_eta"] == pytest.approx(1.0, abs=1e-6)


def test_certificate_names_the_bad_parameter(capsys):
    status, _, err = run_cli(["certificate", "--d", "500"], capsys)
    assert status == 2 and "--d" in err and "[2, 200]" in err
