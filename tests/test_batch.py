"""featviz.batch: batched cells are engine.train's runs, bit for bit (the kernel: tests/test_kernel.py)."""

import numpy as np
import pytest

from featviz import batch, engine, kernel
from featviz.config import Config

RUN_FIELDS = ("w", "a", "alpha", "beta", "mse", "train_loss", "objective", "lam")


def assert_runs_equal(run, ref):
    """Every array of the two runs equal, bit for bit, and the same outcome."""
    assert (run.status, run.diverged_step, run.message) == (ref.status, ref.diverged_step, ref.message)
    for name, arr in ref.arrays().items():
        np.testing.assert_array_equal(getattr(run, name), arr, err_msg=name)


BASE = Config(d=8, m=20, k=3, epochs=3, steps=150, frames=30)
CELLS = [
    BASE.replace(lam=0.05, lr=0.2, seed=0),
    BASE.replace(lam=0.0, lr=0.3, seed=1),
    BASE.replace(lam=0.01, lr=0.05, seed=2, init=0.5, lam_decay=0.9),
    BASE.replace(lam=0.2, lr=0.1, seed=3, teachers="random", sep=35, a_star=(1.0, 2.0, -0.5)),
    BASE.replace(lam=0.03, lr=0.15, seed=4, symmetric="yes", teachers="planar", angles=(0.0, 50.0, 110.0)),
]


def test_batched_cells_equal_engine_train_bit_for_bit():
    runs = batch.train_batch(CELLS)
    assert len({len(r.step) for r in runs}) == 1
    assert CELLS[2].lam_decay != 1  # a λ schedule among them
    for cfg, run in zip(CELLS, runs, strict=True):
        assert run.config == cfg
        assert_runs_equal(run, engine.train(cfg))


def test_the_default_run_is_its_batch_cell_bit_for_bit():
    cfg = Config()  # 4000 steps with λ halved every epoch
    assert cfg.lam_decay != 1 and cfg.total_steps == 4000
    assert_runs_equal(batch.train_one(cfg), engine.train(cfg))


def test_a_cell_is_bit_identical_alone_in_a_batch_and_on_two_threads():
    alone = [batch.train_one(cfg) for cfg in CELLS[:3]]
    for threads in (1, 2):
        together = batch.train_batch(CELLS[:3], threads=threads)
        for x, y in zip(together, alone, strict=True):
            for name in RUN_FIELDS:
                np.testing.assert_array_equal(getattr(x, name), getattr(y, name))


def test_a_diverging_cell_stops_alone_at_engines_step():
    cells = [BASE.replace(lr=60.0, seed=5), BASE.replace(lr=0.2, seed=6)]
    bad, good = batch.train_batch(cells)
    ref = engine.train(cells[0])
    assert ref.status == "diverged"
    assert bad.status == "diverged" and bad.diverged_step == ref.diverged_step
    assert_runs_equal(bad, ref)
    assert good.status == "ok"
    assert_runs_equal(good, engine.train(cells[1]))


def test_large_cells_use_blas_and_equal_engine_train_bit_for_bit():
    cells = [
        Config(d=50, m=90, k=3, epochs=2, steps=30, frames=12, lam=lam, lam_decay=decay, seed=s)
        for s, lam, decay in ((0, 0.05, 0.5), (1, 0, 1))
    ]
    assert kernel.uses_blas(90, 3, 50)
    for threads in (1, 2):
        for cfg, run in zip(cells, batch.train_batch(cells, threads=threads), strict=True):
            assert_runs_equal(run, engine.train(cfg))


def test_cells_of_another_kind_or_shape_are_refused():
    with pytest.raises(ValueError, match="batch_key"):
        batch.train_batch([BASE, BASE.replace(m=22)])
    with pytest.raises(ValueError, match="gd / population"):
        batch.train_batch([BASE.replace(algo="paper")])
    assert batch.train_batch([]) == []


def test_should_stop_cancels():
    with pytest.raises(engine.Cancelled):
        batch.train_batch(CELLS[:2], should_stop=lambda: True)
