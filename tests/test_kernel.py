"""featviz.kernel: the compiled step against the plain formula, both variants, threads, arccos."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from runs import special_student

from featviz import exact, kernel
from featviz.kernel import KernelState

ROOT = Path(__file__).resolve().parent.parent


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


SIZES = [(30, 3, 10), (7, 1, 2), (90, 4, 50), (200, 3, 50), (500, 3, 50)]


@pytest.mark.parametrize("blas", [False, True], ids=["inline", "blas"])
@pytest.mark.parametrize(("m", "k", "d"), SIZES)
def test_fused_step_matches_the_plain_formula(rng, m, k, d, blas):
    U, c, beta, alpha = state(rng, m, k, d)
    teachers = U[m:].copy(), c[m:].copy()
    want = plain_step(U.copy(), c.copy(), m, beta.copy(), alpha, 0.05, 0.02)
    buf = kernel.StepBuffers(m, m + k, d, blas=blas)
    new_alpha = kernel.fused_step(U, c, m, beta, alpha, 0.05, 0.02, buf)
    for got, exp in zip((U[:m], c[:m], new_alpha, beta), want, strict=True):
        np.testing.assert_allclose(got, exp, rtol=1e-12, atol=1e-12 * np.max(np.abs(exp)))
    assert np.isfinite(U).all() and np.isfinite(c).all()  # aligned and zero rows included
    np.testing.assert_array_equal(U[m:], teachers[0])  # the teacher rows are not trained
    np.testing.assert_array_equal(c[m:], teachers[1])


def test_the_variant_is_chosen_by_size():
    for m, k, d in SIZES:
        assert kernel.StepBuffers(m, m + k, d).blas == (m * (m + k) * d > kernel.BLAS_ABOVE)
    assert not kernel.uses_blas(30, 3, 10) and kernel.uses_blas(500, 3, 50)


def test_both_variants_agree(rng):
    U, c, beta, alpha = state(rng, 40, 3, 12)
    out = []
    for blas in (False, True):
        u, cc, b = U.copy(), c.copy(), beta.copy()
        buf = kernel.StepBuffers(40, 43, 12, blas=blas)
        out.append((kernel.fused_step(u, cc, 40, b, alpha, 0.1, 0.01, buf), u, cc, b))
    for x, y in zip(out[0], out[1], strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-13, atol=1e-14)


def test_the_blas_variants_cosines_are_exactly_symmetric(rng):
    m, k, d = 60, 3, 20
    U, c, beta, alpha = state(rng, m, k, d)
    buf = kernel.StepBuffers(m, m + k, d, blas=True)
    kernel.fused_step(U, c, m, beta, alpha, 0.01, 0.0, buf)
    np.testing.assert_array_equal(buf.G, buf.G.T)
    np.testing.assert_array_equal(buf.A[:, :m], buf.A[:, :m].T)  # so every pair's angle is taken once in value


# A run of each variant in a fresh interpreter with the given thread counts: its arrays' digest.
_RUN = """
import hashlib, json, sys
import numpy as np
from featviz.config import Config
from featviz.engine import train
out = {}
for name, cfg in (("inline", Config(epochs=2, steps=100)), ("blas", Config(d=20, m=200, epochs=1, steps=40))):
    run = train(cfg)
    h = hashlib.sha256()
    for f in ("w", "a", "alpha", "beta", "mse"):
        h.update(np.ascontiguousarray(getattr(run, f)).tobytes())
    out[name] = h.hexdigest()
print(json.dumps(out))
"""


def _digests(threads: int) -> dict:
    """numba's threads, the elementwise pass's (FEATVIZ_PAIR_THREADS) and OpenBLAS's all = threads."""
    env = os.environ | {"NUMBA_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads)}
    env["FEATVIZ_PAIR_THREADS"] = str(threads)
    env["OMP_NUM_THREADS"] = str(threads)
    out = subprocess.run(
        [sys.executable, "-c", _RUN], capture_output=True, text=True, check=True, cwd=ROOT, env=env, timeout=600
    )
    return json.loads(out.stdout)


def test_a_run_is_the_same_on_one_and_two_threads():
    most = min(kernel.PAIR_THREADS, kernel.numba.config.NUMBA_NUM_THREADS)
    assert kernel.pair_threads(200, 203) == most and kernel.pair_threads(120, 123) == 1  # too small for two
    one, two = _digests(1), _digests(2)
    assert set(one) == {"inline", "blas"}
    assert one == two


def test_acos_matches_libm_on_the_whole_interval():
    x = np.concatenate([np.linspace(-1.0, 1.0, 200_001), [0.5, -0.5, np.nextafter(0.5, 0), np.nextafter(-0.5, 0)]])
    x = np.concatenate([x, [1 - 1e-16, -1 + 1e-16, 1e-300, -0.0, 1.0, -1.0]])
    np.testing.assert_allclose(kernel.acos_array(x), np.arccos(x), rtol=0, atol=1e-15)
    assert kernel.acos_array(np.array([1.0]))[0] == 0.0


def _kernel_state(rng, m, d=8):
    W, a, tw, ta, params = special_student(rng, m, d)
    st = KernelState(W, a, tw, ta)
    st.set_params(**params)
    return st, tw, ta


@pytest.mark.parametrize(("m", "d"), [(12, 8), (120, 40)], ids=["inline", "blas"])
def test_one_kernel_state_step_is_gradient_descent_on_the_exact_loss(rng, m, d):
    st, tw, ta = _kernel_state(rng, m, d)
    assert st.buffers.blas == (m == 120)
    W, a, alpha, beta = st.params()
    lr, lam = 0.01, 0.1
    _, gW, ga, galpha, gbeta = exact.mse_and_grad(W, a, alpha, beta, tw, ta)
    st.step(lr, lam)
    W1, a1, alpha1, beta1 = st.params()
    np.testing.assert_allclose(W1, W - lr * (gW + lam * W), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a1, a - lr * (ga + lam * a), rtol=1e-12, atol=1e-14)
    assert alpha1 == pytest.approx(alpha - lr * galpha, rel=1e-12)
    np.testing.assert_allclose(beta1, beta - lr * gbeta, rtol=1e-12, atol=1e-14)
    assert np.abs(st.W[0]).max() == 0.0  # the dead neuron stays exactly dead


def test_kernel_state_grads_are_the_exact_gradient(rng):
    st, tw, ta = _kernel_state(rng, 20)
    W, a, alpha, beta = st.params()
    want = exact.mse_and_grad(W, a, alpha, beta, tw, ta, with_value=False)[1:]
    for got, exp in zip(st.grads(), want, strict=True):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(exp))


def test_warm_up_compiles_both_variants():
    kernel.warm_up()
    assert kernel.step_inline.signatures and kernel._pairs_rows.signatures
