"""featviz.batch: the fused kernel against the plain formula, batched cells against engine.train."""

import numpy as np
import pytest

from featviz import batch, engine, exact
from featviz.config import Config

RUN_FIELDS = ("w", "a", "alpha", "beta", "mse", "train_loss", "objective", "lam")


def plain_step(U, c, m, beta, alpha, lr, lam):
    """One step from exact.mse_and_grad (the formula as written in PAPER.md section 5)."""
    W, a = U[:m], c[:m]
    Wt, at = U[m:], -c[m:]
    _, gW, ga, galpha, gbeta = exact.mse_and_grad(W, a, alpha, beta, Wt, at, with_value=False)
    return W - lr * (gW + lam * W), a - lr * (ga + lam * a), alpha - lr * galpha, beta - lr * gbeta


def state(rng, m, k, d, *, aligned=True, zero=True):
    U = rng.standard_normal((m + k, d))
    U[m:] /= np.linalg.norm(U[m:], axis=1, keepdims=True)
    c = rng.standard_normal(m + k)
    if aligned:  # a neuron exactly on a teacher and two equal neurons: cosines of +-1
        U[0] = 0.3 * U[m]
        U[2] = -U[1]
    if zero:
        U[3] = 0.0
    return U, c, rng.standard_normal(d), float(rng.standard_normal())


@pytest.mark.parametrize(("m", "k", "d"), [(30, 3, 10), (7, 1, 2), (90, 4, 50)])
def test_fused_step_matches_the_plain_formula(rng, m, k, d):
    U, c, beta, alpha = state(rng, m, k, d)
    want = plain_step(U.copy(), c.copy(), m, beta.copy(), alpha, 0.05, 0.02)
    buf = batch.StepBuffers(m, m + k, d)
    assert buf.blas == (m * (m + k) * d > batch.BLAS_ABOVE)
    new_alpha = batch.fused_step(U, c, m, beta, alpha, 0.05, 0.02, buf)
    for got, exp in zip((U[:m], c[:m], new_alpha, beta), want, strict=True):
        np.testing.assert_allclose(got, exp, rtol=1e-12, atol=1e-12 * np.max(np.abs(exp)))
    assert np.isfinite(U).all() and np.isfinite(c).all()  # aligned and zero rows included


def test_both_variants_agree(rng):
    U, c, beta, alpha = state(rng, 40, 3, 12)
    out = []
    for blas in (False, True):
        u, cc, b = U.copy(), c.copy(), beta.copy()
        buf = batch.StepBuffers(40, 43, 12)
        buf.blas = blas
        buf.Ac = np.empty((40, 43))
        out.append((batch.fused_step(u, cc, 40, b, alpha, 0.1, 0.01, buf), u, cc, b))
    for x, y in zip(out[0], out[1], strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-13, atol=1e-14)


def assert_runs_close(run, ref, tol=1e-12):
    """Normwise relative: max |difference| / max |reference| per array."""
    assert run.status == ref.status
    assert run.diverged_step == ref.diverged_step
    np.testing.assert_array_equal(run.step, ref.step)
    np.testing.assert_array_equal(run.stage, ref.stage)
    for name in ("teacher_w", "teacher_a", "basis"):
        np.testing.assert_array_equal(getattr(run, name), getattr(ref, name))
    for name in RUN_FIELDS:
        x, y = getattr(run, name), getattr(ref, name)
        assert x.shape == y.shape, name
        scale = max(np.max(np.abs(y)), 1e-300)
        assert np.max(np.abs(x - y)) <= tol * scale, (name, np.max(np.abs(x - y)) / scale)


BASE = Config(d=8, m=20, k=3, epochs=3, steps=150, frames=30)
CELLS = [
    BASE.replace(lam=0.05, lr=0.2, seed=0),
    BASE.replace(lam=0.0, lr=0.3, seed=1),
    BASE.replace(lam=0.01, lr=0.05, seed=2, init=0.5, lam_decay=0.9),
    BASE.replace(lam=0.2, lr=0.1, seed=3, teachers="random", sep=35, a_star=(1.0, 2.0, -0.5)),
    BASE.replace(lam=0.03, lr=0.15, seed=4, symmetric="yes", teachers="planar", angles=(0.0, 50.0, 110.0)),
]


def test_batched_cells_equal_engine_train():
    runs = batch.train_batch(CELLS)
    assert len({len(r.step) for r in runs}) == 1
    for cfg, run in zip(CELLS, runs, strict=True):
        assert run.config == cfg
        assert_runs_close(run, engine.train(cfg))


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
    assert bad.message == ref.message
    assert_runs_close(bad, ref)
    assert good.status == "ok"
    assert_runs_close(good, engine.train(cells[1]))


def test_large_cells_use_blas_and_equal_engine_train():
    cells = [Config(d=50, m=90, k=3, epochs=2, steps=30, frames=12, lam=lam, seed=s) for s, lam in ((0, 0.05), (1, 0))]
    assert batch.uses_blas(90, 3, 50)
    for cfg, run in zip(cells, batch.train_batch(cells), strict=True):
        assert_runs_close(run, engine.train(cfg))  # engine trains these in torch


def test_cells_of_another_kind_or_shape_are_refused():
    with pytest.raises(ValueError, match="batch_key"):
        batch.train_batch([BASE, BASE.replace(m=22)])
    with pytest.raises(ValueError, match="gd / population"):
        batch.train_batch([BASE.replace(algo="paper")])
    assert batch.train_batch([]) == []


def test_should_stop_cancels():
    with pytest.raises(engine.Cancelled):
        batch.train_batch(CELLS[:2], should_stop=lambda: True)


def test_acos_matches_libm_on_the_whole_interval():
    x = np.concatenate([np.linspace(-1.0, 1.0, 200_001), [0.5, -0.5, np.nextafter(0.5, 0), np.nextafter(-0.5, 0)]])
    x = np.concatenate([x, [1 - 1e-16, -1 + 1e-16, 1e-300, -0.0, 1.0, -1.0]])
    np.testing.assert_allclose(batch.acos_array(x), np.arccos(x), rtol=0, atol=1e-15)
    assert batch.acos_array(np.array([1.0]))[0] == 0.0
