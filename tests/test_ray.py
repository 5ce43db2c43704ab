"""Sweeps on a real local Ray cluster (`ray start --head` on 127.0.0.1): results equal the
in-process sweep and land in the cache; a worker killed mid-sweep is retried."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.ray, pytest.mark.slow]
ray = pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")

from featviz import cache, sweep  # noqa: E402
from featviz.config import Config  # noqa: E402

RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
BASE = Config().replace(d=6, m=10, k=2, epochs=2, steps=150, frames=12)
AXES = ["lam=0,0.01,0.05", "lr=0.1,0.2"]


def _ray_cli() -> str:
    exe = Path(sys.executable).with_name("ray")
    return str(exe) if exe.exists() else (shutil.which("ray") or "ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_address():
    env = os.environ | RAY_ENV
    port = _free_port()
    start = [
        _ray_cli(), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
        "--include-dashboard=false", "--disable-usage-stats", "--num-cpus=2",
    ]  # fmt: skip
    try:
        r = subprocess.run(start, env=env, capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stdout + r.stderr
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([_ray_cli(), "stop", "--force"], env=env, capture_output=True, timeout=120)


def _sweep_cmd(address: str, out: Path, *extra: str) -> list[str]:
    flags = [f"--{n}={v}" for n, v in (("d", 6), ("m", 10), ("k", 2), ("epochs", 2), ("steps", 150), ("frames", 12))]
    grid = [x for a in AXES for x in ("--grid", a)]
    return [sys.executable, "-m", "featviz", "sweep", *flags, *grid, "--ray", address, "--out", str(out), *extra]


def _env(cache_dir: Path) -> dict:
    return os.environ | RAY_ENV | {"FEATVIZ_CACHE_DIR": str(cache_dir)}


@pytest.fixture(scope="module")
def in_process():
    grid = sweep.make_grid(BASE, AXES)
    return grid, sweep.run_sweep(grid, use_cache=False).table()


def _assert_same(df: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert list(df["key"]) == list(ref["key"])
    for name in sweep.OUTCOMES:
        a, b = df[name].to_numpy(dtype=float), ref[name].to_numpy(dtype=float)
        pd.testing.assert_series_equal(pd.Series(a), pd.Series(b), rtol=1e-12, atol=1e-300, check_names=False)


def test_a_sweep_on_ray_equals_the_in_process_sweep(ray_address, in_process, tmp_path):
    grid, ref = in_process
    out = tmp_path / "ray.csv"
    r = subprocess.run(
        _sweep_cmd(ray_address, out, "--chunk", "2"), env=_env(tmp_path / "cache"), capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    assert '"cells": 6' in r.stdout and '"trained": 6' in r.stdout
    _assert_same(pd.read_csv(out), ref)
    for cfg in grid.cells():  # the driver wrote every cell to its cache
        assert cache.load(cfg, tmp_path / "cache") is not None


def _task_workers() -> list:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if cmd.startswith("ray::") and "_train_chunk_task" in cmd:
            found.append(p)
    return found


def test_a_killed_worker_is_retried_with_identical_results(ray_address, in_process, tmp_path):
    _, ref = in_process
    out = tmp_path / "ray.csv"
    proc = subprocess.Popen(
        _sweep_cmd(ray_address, out, "--chunk", "1"), env=_env(tmp_path / "cache"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        killed = None
        deadline = time.monotonic() + 240
        while killed is None and time.monotonic() < deadline and proc.poll() is None:
            workers = _task_workers()
            if workers:
                killed = workers[0].pid
                os.kill(killed, signal.SIGKILL)
            else:
                time.sleep(0.05)
        assert killed is not None, "no Ray worker ran a chunk before the sweep ended"
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr[-3000:]
    assert '"trained": 6' in stdout
    assert not psutil.pid_exists(killed) or psutil.Process(killed).status() == psutil.STATUS_ZOMBIE
    _assert_same(pd.read_csv(out), ref)
