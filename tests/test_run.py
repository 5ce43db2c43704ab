"""A recorded run: its schema, the checks, thinning and the .npz format (no pickle)."""

import dataclasses
import io
import json

import numpy as np
import pytest
from runs import SMALL, assert_same_run

from featviz import engine
from featviz.config import Config
from featviz.run import ARRAY_FIELDS, PER_FRAME, SCHEMA, Run


@pytest.fixture(scope="module")
def small_run():
    return engine.train(SMALL)


# ---- .npz ---------------------------------------------------------------------------


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


# ---- the schema ------------------------------------------------------------------------------


def test_run_fields_follow_the_schema():
    names = [f.name for f in dataclasses.fields(Run)]
    assert names[1 : 1 + len(SCHEMA)] == list(ARRAY_FIELDS)  # after config, in SCHEMA order
    per_frame = ["step", "stage", "lam", "mse", "train_loss", "objective", "w", "a", "alpha", "beta"]
    assert [f.name for f in PER_FRAME] == per_frame


def test_a_trained_run_has_the_schema_dtypes_and_shapes(small_run):
    cfg, T = SMALL, small_run.n_frames
    dims = {"T": T, "m": cfg.m, "d": cfg.d, "k": cfg.k, "r": small_run.basis.shape[0]}
    for f in SCHEMA:
        arr = getattr(small_run, f.name)
        assert arr.dtype == np.dtype(f.dtype), f.name
        assert arr.shape == tuple(dims[dim] for dim in f.shape), f.name
    assert small_run.nbytes == sum(getattr(small_run, name).nbytes for name in ARRAY_FIELDS)


def test_check_refuses_a_wrong_dtype_or_shape(small_run):
    with pytest.raises(ValueError, match="stage has dtype int64, expected int8"):
        dataclasses.replace(small_run, stage=small_run.stage.astype(np.int64)).check()
    with pytest.raises(ValueError, match=r"beta has shape \(10, 3\), expected \(10, 4\)"):
        dataclasses.replace(small_run, beta=small_run.beta[:, :3]).check()
    with pytest.raises(ValueError, match="basis has shape"):
        dataclasses.replace(small_run, basis=small_run.basis[0]).check()
    with pytest.raises(ValueError, match="at least one snapshot"):
        dataclasses.replace(small_run, step=small_run.step[:0]).check()
    small_run.check()


def test_frames_subset_keeps_the_per_frame_rows_and_the_rest_whole(small_run):
    sub = small_run.frames_subset([7, 0, 3, 3])
    for f in SCHEMA:
        want = getattr(small_run, f.name)[[0, 3, 7]] if f.per_frame else getattr(small_run, f.name)
        np.testing.assert_array_equal(getattr(sub, f.name), want, err_msg=f.name)
    assert sub.n_frames == 3
    sub.check()
    thin = small_run.thinned(3 * SMALL.m)
    np.testing.assert_array_equal(thin.step, small_run.step[[0, 4, 9]])
    assert small_run.thinned(small_run.n_frames * SMALL.m) is small_run


def test_thinned_run_keeps_first_and_last_and_bounds_points():
    run = engine.train(Config(m=50, epochs=2, steps=200, frames=80))
    thin = run.thinned(1000)  # 1000 points / 50 neurons = 20 frames
    assert thin.n_frames == 20 < run.n_frames
    assert thin.step[0] == run.step[0] and thin.step[-1] == run.step[-1]
    assert (thin.w[-1] == run.w[-1]).all()
    assert thin.metrics.counts.shape == (20, 3)
    assert run.thinned(10**9) is run
