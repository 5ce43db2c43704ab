"""The shared job manager: one computation per config, progress, cancel, no blocking."""

import threading
import time

import numpy as np
import pytest

from featviz import jobs
from featviz.config import Config


@pytest.fixture
def counting_train(monkeypatch):
    """Wrap engine.train as used by jobs, counting calls per config key."""
    calls: dict[str, int] = {}
    lock = threading.Lock()
    real = jobs.train

    def wrapped(cfg, **kw):
        with lock:
            calls[cfg.key()] = calls.get(cfg.key(), 0) + 1
        return real(cfg, **kw)

    monkeypatch.setattr(jobs, "train", wrapped)
    return calls


def small(**kw) -> Config:
    return Config(**({"m": 8, "epochs": 2, "steps": 100} | kw))


def wait_until(condition, *, timeout: float, what: str) -> None:
    """Return as soon as condition() holds; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting until {what}")
        time.sleep(0.01)


class Sized:
    """A stand-in for a finished run: the memory LRU only reads nbytes."""

    def __init__(self, nbytes: int):
        self.nbytes = nbytes


def test_same_config_from_two_sessions_is_computed_once(tmp_path, monkeypatch, counting_train):
    monkeypatch.setenv("FEATVIZ_CACHE_DIR", str(tmp_path))
    mgr = jobs.JobManager()
    cfg = small(steps=3000)
    first = mgr.submit(cfg)
    second = mgr.submit(cfg)
    assert second is first  # shared while running
    assert first.wait(60)
    third = mgr.submit(cfg)  # now from memory
    assert third.state == jobs.DONE and third.run is first.run
    assert counting_train == {cfg.key(): 1}
    # A new manager (another server process) finds it on disk.
    fresh = jobs.JobManager()
    assert fresh.submit(cfg).state == jobs.DONE
    assert counting_train == {cfg.key(): 1}


def test_progress_then_cancel(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATVIZ_CACHE_DIR", str(tmp_path))
    mgr = jobs.JobManager()
    cfg = Config(m=200, d=40, epochs=10, steps=5000)  # long: seconds per epoch
    job = mgr.submit(cfg)
    wait_until(lambda: job.step > 0, timeout=60, what="the job reports progress")
    assert job.state == jobs.RUNNING and 0 < job.step < job.total
    assert job.mse == job.mse and job.mse >= 0  # a real number
    mgr.cancel(job.key)
    assert job.wait(10)
    assert job.state == jobs.CANCELLED and job.run is None
    assert mgr.cached(cfg) is None  # nothing half-done is cached
    # The same config can be started again after a cancel.
    again = mgr.submit(cfg)
    assert again is not job
    mgr.cancel(again.key)
    assert again.wait(10)


def test_a_stuck_job_does_not_block_other_configs(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATVIZ_CACHE_DIR", str(tmp_path))
    mgr = jobs.JobManager(max_workers=2)
    slow = mgr.submit(Config(m=200, d=40, epochs=10, steps=5000))
    quick = mgr.submit(small(seed=5))
    assert quick.wait(30) and quick.state == jobs.DONE
    assert not slow.finished
    mgr.cancel(slow.key)
    assert slow.wait(10)


def test_failure_is_reported_not_raised(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATVIZ_CACHE_DIR", str(tmp_path))

    def boom(cfg, **kw):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(jobs, "train", boom)
    mgr = jobs.JobManager()
    job = mgr.submit(small())
    assert job.wait(10)
    assert job.state == jobs.FAILED and "disk on fire" in job.error


def test_memory_is_bounded_by_bytes_not_count(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATVIZ_CACHE_DIR", str(tmp_path))
    one = jobs.JobManager(use_disk=False).submit(small())
    assert one.wait(30)
    size = one.run.nbytes
    mgr = jobs.JobManager(use_disk=False, memory_bytes=int(2.5 * size))
    cfgs = [small(seed=s) for s in range(4)]
    for cfg in cfgs:
        assert mgr.submit(cfg).wait(30)
    kept = [cfg for cfg in cfgs if mgr.cached(cfg) is not None]
    assert kept == cfgs[-2:]  # the two most recent fit in 2.5 runs' worth of bytes


def test_memory_total_is_kept_as_runs_come_and_go(rng):
    limit = 10_000
    mgr = jobs.JobManager(use_disk=False, memory_bytes=limit)
    keys, sizes = [], {}
    for i in range(2000):
        key = f"run-{i}"
        sizes[key] = int(rng.integers(1, 600))
        mgr._remember(key, Sized(sizes[key]))
        keys.append(key)
        kept = list(mgr._runs)
        assert mgr.memory_bytes == sum(sizes[k] for k in kept) <= limit
        # Least recently used first out: the kept runs are the newest, and one more would not fit.
        assert kept == keys[-len(kept) :]
        if len(kept) < len(keys):
            assert mgr.memory_bytes + sizes[keys[-len(kept) - 1]] > limit
    # A run stored again under its key replaces the old one: counted once.
    last = keys[-1]
    mgr._remember(last, Sized(5))
    assert mgr.memory_bytes == sum(r.nbytes for r in mgr._runs.values())
    assert list(mgr._runs)[-1] == last and mgr._runs[last].nbytes == 5


def test_a_touched_run_is_evicted_last():
    mgr = jobs.JobManager(use_disk=False, memory_bytes=300)
    cfgs = [small(seed=s) for s in range(3)]
    for cfg in cfgs:
        mgr._remember(cfg.key(), Sized(100))
    assert mgr.cached(cfgs[0]) is not None  # used: now the most recent
    mgr._remember("newcomer", Sized(100))
    assert [mgr.cached(cfg) is not None for cfg in cfgs] == [True, False, True]
    assert mgr.memory_bytes == 300
    mgr._remember("huge", Sized(10**6))  # over the bound alone: kept, everything else dropped
    assert list(mgr._runs) == ["huge"] and mgr.memory_bytes == 10**6


def test_quick_runs_do_not_queue_behind_long_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATVIZ_CACHE_DIR", str(tmp_path))
    mgr = jobs.JobManager(max_workers=1)
    slow = mgr.submit(Config(m=200, d=40, epochs=10, steps=5000))  # holds the only slot
    wait_until(lambda: slow.state == jobs.RUNNING, timeout=60, what="the long job runs")
    queued = mgr.submit(Config(m=200, d=40, epochs=10, steps=5000, seed=1))  # long too: waits
    quick = mgr.submit(small(seed=9))
    assert quick.wait(30) and quick.state == jobs.DONE
    assert queued.state == jobs.QUEUED
    for job in (slow, queued):
        mgr.cancel(job.key)
        assert job.wait(15) and job.state == jobs.CANCELLED


def test_shutdown_cancels_and_joins_training_threads(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATVIZ_CACHE_DIR", str(tmp_path))
    mgr = jobs.JobManager()
    job = mgr.submit(Config(m=200, d=40, epochs=10, steps=5000, seed=3))
    wait_until(lambda: job.state == jobs.RUNNING, timeout=60, what="the job runs")
    mgr.shutdown(timeout=15)
    assert job.finished and job.state == jobs.CANCELLED
    assert not any(t.is_alive() for t in mgr._threads)


@pytest.mark.parametrize("algo", ["gd", "paper"])
def test_progress_total_is_the_runs_last_step(tmp_path, monkeypatch, algo):
    """The progress bar's total counts the paper's two stage steps, as the recorded run does."""
    monkeypatch.setenv("FEATVIZ_CACHE_DIR", str(tmp_path))
    cfg = small(algo=algo)
    job = jobs.JobManager(use_disk=False).submit(cfg)
    total = job.total
    assert job.wait(60) and job.state == jobs.DONE
    assert total == int(job.run.step[-1]) == cfg.total_steps + (2 if algo == "paper" else 0)
    assert job.step == total


def test_partial_runs_while_training_and_kept_after_cancel(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATVIZ_CACHE_DIR", str(tmp_path))
    mgr = jobs.JobManager()
    cfg = Config(epochs=40, steps=2000, seed=12)  # 80 000 steps: many progress reports
    job = mgr.submit(cfg)
    wait_until(lambda: job.partial_version >= 2, timeout=60, what="two partial runs are published")
    first_step = int(job.partial.step[-1])
    wait_until(lambda: int(job.partial.step[-1]) > first_step, timeout=60, what="the current state moves on")
    part = job.partial
    assert part.config == cfg and part.w.shape[1:] == (cfg.m, cfg.d)
    assert np.all(np.diff(part.step) > 0) and part.step[0] == 0
    assert mgr.partial(job.key) is None  # kept only for a cancelled job
    mgr.cancel(job.key)
    assert job.wait(10) and job.state == jobs.CANCELLED
    kept = mgr.partial(job.key)
    assert kept is job.partial and kept.step[-1] >= part.step[-1]
