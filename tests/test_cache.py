"""The disk cache of finished runs (the .npz format itself is tested in test_run.py)."""

import io
import os
import re

import numpy as np
import pytest
from runs import SMALL, assert_same_run

from featviz import cache, engine
from featviz.run import Run


@pytest.fixture(scope="module")
def small_run():
    return engine.train(SMALL)


class CountingTrain:
    """engine.train with a call counter, to tell a cache hit from a recomputation."""

    def __init__(self):
        self.calls = 0

    def __call__(self, cfg):
        self.calls += 1
        return engine.train(cfg)


# ---- cache ---------------------------------------------------------------------------------


def test_second_call_is_a_hit(tmp_cache):
    train = CountingTrain()
    first, cached = cache.get_or_train(SMALL, train)
    assert (train.calls, cached) == (1, False)
    second, cached = cache.get_or_train(SMALL, train)
    assert (train.calls, cached) == (1, True)
    assert_same_run(first, second)
    # The canonical config shares the entry: sep does not matter for orthonormal teachers.
    _, cached = cache.get_or_train(SMALL.replace(sep=12.0), train)
    assert (train.calls, cached) == (1, True)
    assert cache.path_for(SMALL).parent == tmp_cache


def test_file_names_are_hashes(tmp_cache):
    path = cache.path_for(SMALL)
    assert re.fullmatch(r"run-[0-9a-f]{32}\.npz", path.name)
    assert path.name == f"run-{SMALL.key()}.npz"
    assert cache.path_for(SMALL.replace(seed=7)) != path
    stored = cache.store(engine.train(SMALL))
    assert stored == path and [p.name for p in tmp_cache.iterdir()] == [path.name]  # no temp file left


@pytest.mark.parametrize("damage", ["truncated", "random bytes", "other config", "empty"])
def test_bad_file_is_detected_removed_and_recomputed(tmp_cache, small_run, damage, rng):
    path = cache.path_for(SMALL)
    path.parent.mkdir(parents=True)
    good = small_run.to_npz_bytes()
    content = {
        "truncated": lambda: good[: len(good) // 2],
        "random bytes": lambda: rng.integers(0, 256, size=5000, dtype=np.uint8).tobytes(),
        "other config": lambda: engine.train(SMALL.replace(seed=99)).to_npz_bytes(),
        "empty": lambda: b"",
    }[damage]()
    if damage != "other config":  # a damaged file is a ValueError, whatever numpy raised
        with pytest.raises(ValueError):
            Run.load_npz(io.BytesIO(content))
    path.write_bytes(content)
    assert cache.load(SMALL) is None
    assert not path.exists()  # removed
    path.write_bytes(content)
    train = CountingTrain()
    run, cached = cache.get_or_train(SMALL, train)
    assert (train.calls, cached) == (1, False)
    assert run.config == SMALL
    assert_same_run(Run.load_npz(path), run)  # replaced by a good file


def _fill(root, n):
    """n cached runs with mtimes 100 s apart, oldest first."""
    paths = []
    for seed in range(n):
        path = cache.store(engine.train(SMALL.replace(seed=seed)), root)
        os.utime(path, (1_000_000 + 100 * seed, 1_000_000 + 100 * seed))
        paths.append(path)
    return paths


def test_eviction_removes_least_recently_used(tmp_path):
    root = tmp_path / "c"
    paths = _fill(root, 4)
    size = max(p.stat().st_size for p in paths)
    assert cache.load(SMALL.replace(seed=0), root) is not None  # touch the oldest: now the newest
    removed = cache.evict(root, limit=2 * size)
    assert sorted(removed) == sorted([paths[1], paths[2]])
    assert sorted(root.glob("run-*.npz")) == sorted([paths[0], paths[3]])
    assert cache.evict(root, limit=10 * size) == []


def test_cache_size_limit_from_environment(tmp_cache, monkeypatch):
    paths = _fill(tmp_cache, 3)
    size = max(p.stat().st_size for p in paths)
    monkeypatch.setenv("FEATVIZ_CACHE_MB", str(2.5 * size / 1e6))
    assert cache.max_bytes() == int(2.5 * size)
    new = cache.store(engine.train(SMALL.replace(seed=50)))  # evicts the two oldest, keeps itself
    assert sorted(tmp_cache.glob("run-*.npz")) == sorted([paths[2], new])
    monkeypatch.setenv("FEATVIZ_CACHE_MB", "1e-9")
    newest = cache.store(engine.train(SMALL.replace(seed=51)))
    assert list(tmp_cache.glob("run-*.npz")) == [newest]  # the file just written is always kept
    for bad in ("lots", "0", "-5", "nan", "inf"):  # as documented: the default
        monkeypatch.setenv("FEATVIZ_CACHE_MB", bad)
        assert cache.max_bytes() == int(cache.DEFAULT_MAX_MB * 1e6)


def test_unwritable_cache_still_returns_the_run(tmp_path, small_run):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    assert cache.store(small_run, blocker) is None
    train = CountingTrain()
    run, cached = cache.get_or_train(SMALL, train, blocker)
    assert (train.calls, cached, run.config) == (1, False, SMALL)
