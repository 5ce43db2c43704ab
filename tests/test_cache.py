"""The .npz run format and the disk cache built on it."""

import io
import json
import os
import re

import numpy as np
import pytest

from featviz import cache, engine
from featviz.config import Config
from featviz.run import ARRAY_FIELDS, Run

SMALL = Config().replace(d=4, k=2, m=6, epochs=2, steps=20, frames=10)


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


def assert_same_run(one: Run, two: Run):
    assert one.config == two.config
    for name in ARRAY_FIELDS:
        x, y = getattr(one, name), getattr(two, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    assert (one.status, one.message, one.diverged_step) == (two.status, two.message, two.diverged_step)
    assert one.train_seconds == two.train_seconds


# ---- .npz format ---------------------------------------------------------------------------


def test_npz_schema_without_pickle(small_run, tmp_path):
    path = tmp_path / "run.npz"
    small_run.save_npz(path)
    cfg, T = SMALL, small_run.n_frames
    with np.load(path, allow_pickle=False) as z:
        shapes = {name: z[name].shape for name in z.files}
        assert Config.from_json(str(z["config"])) == cfg
        meta = json.loads(str(z["meta"]))
        assert all(z[name].dtype != object for name in z.files)
        step = z["step"]
    assert meta["status"] == "ok" and meta["stage_names"][0] == "init"
    expected = {
        "teacher_w": (cfg.k, cfg.d),
        "teacher_a": (cfg.k,),
        "step": (T,),
        "w": (T, cfg.m, cfg.d),
        "a": (T, cfg.m),
        "alpha": (T,),
        "beta": (T, cfg.d),
        "mse": (T,),
        "lam": (T,),
        "train_loss": (T,),
        "stage": (T,),
        # metrics ride along for readers without featviz
        "mass": (T, cfg.m),
        "fate": (T, cfg.m),
        "captured": (T, cfg.k),
    }
    for name, shape in expected.items():
        assert shapes[name] == shape, name
    assert T >= 2 and step[0] == 0 and step[-1] == cfg.total_steps


@pytest.mark.parametrize("diverged", [False, True])
def test_npz_round_trip_is_exact(small_run, diverged):
    run = engine.train(SMALL.replace(lr=50)) if diverged else small_run
    assert (run.status == "diverged") == diverged
    back = Run.load_npz(io.BytesIO(run.to_npz_bytes()))
    assert_same_run(run, back)
    assert back.summary() == run.summary()


def test_load_npz_refuses_malformed_files(small_run):
    def mangled(**changes):
        arrays = {name: getattr(small_run, name) for name in ARRAY_FIELDS}
        arrays |= {"config": np.array(SMALL.to_json()), "meta": np.array(json.dumps({"status": "ok"}))}
        arrays |= changes
        arrays = {k: v for k, v in arrays.items() if v is not None}
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        buf.seek(0)
        return buf

    meta = json.dumps({"status": "ok", "message": "", "diverged_step": -1, "train_seconds": 0.0})
    back = Run.load_npz(mangled(meta=np.array(meta)))  # the unmangled file loads
    for name in ARRAY_FIELDS:
        np.testing.assert_array_equal(getattr(back, name), getattr(small_run, name))
    with pytest.raises(ValueError, match="missing field"):
        Run.load_npz(mangled(meta=np.array(meta), mse=None))
    with pytest.raises(ValueError, match="w has shape"):
        Run.load_npz(mangled(meta=np.array(meta), w=small_run.w[:, :-1]))
    with pytest.raises(ValueError, match="NaN"):
        Run.load_npz(mangled(meta=np.array(meta), mse=np.full_like(small_run.mse, np.nan)))
    with pytest.raises(ValueError):
        Run.load_npz(mangled(meta=np.array(meta), config=np.array('{"d": "0"}')))
    with pytest.raises(ValueError, match="KeyError"):
        Run.load_npz(mangled(meta=np.array('{"status": "ok"}')))


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
