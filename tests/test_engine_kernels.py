"""The two implementations of one gradient step (NumPy for small problems, torch above) agree."""

import numpy as np
import pytest
import torch

from featviz import engine, exact


def _states(rng, m, d=8, k=3):
    W = rng.standard_normal((m, d)) * 0.3
    a = rng.standard_normal(m) * 0.3
    tw = np.linalg.qr(rng.standard_normal((d, k)))[0].T
    ta = np.array([1.0, -1.0, 0.5])
    W[0], a[0] = 0.0, 0.0  # a dead neuron (w and a both zero: a stationary point)
    W[1] = 0.7 * tw[0]  # aligned with a teacher
    W[2] = -0.4 * tw[1]  # on the other end of a teacher line
    fast = engine.PopulationState(W, a, tw, ta)
    slow = engine.PopulationState(W, a, tw, ta)
    slow._np = None  # force the torch kernel
    for s in (fast, slow):
        s.alpha = 0.2
        s.beta.copy_(torch.linspace(-0.1, 0.1, d, dtype=torch.float64))
    return fast, slow, tw, ta


def test_small_problems_use_the_numpy_kernel_and_large_ones_torch(rng):
    small, _, _, _ = _states(rng, 20)
    assert small._np is not None
    big_m = int(np.sqrt(engine.NUMPY_BELOW)) + 1
    big, _, _, _ = _states(rng, big_m)
    assert big._np is None


@pytest.mark.parametrize("lam", [0.0, 0.05])
def test_numpy_and_torch_steps_agree_over_many_steps(rng, lam):
    fast, slow, _, _ = _states(rng, 20)
    with torch.inference_mode():
        for _ in range(200):
            fast.step(0.05, lam)
            slow.step(0.05, lam)
    assert torch.allclose(fast.U, slow.U, rtol=1e-10, atol=1e-12)
    assert torch.allclose(fast.c, slow.c, rtol=1e-10, atol=1e-12)
    assert torch.allclose(fast.beta, slow.beta, rtol=1e-10, atol=1e-12)
    assert fast.alpha == pytest.approx(slow.alpha, rel=1e-10)
    assert np.isfinite(fast.U.numpy()).all()


def test_one_numpy_step_is_gradient_descent_on_the_exact_loss(rng):
    fast, _, tw, ta = _states(rng, 12)
    W, a, alpha, beta = fast.params()
    lr, lam = 0.01, 0.1
    _, gW, ga, galpha, gbeta = exact.mse_and_grad(W, a, alpha, beta, tw, ta)
    fast.step(lr, lam)
    W1, a1, alpha1, beta1 = fast.params()
    np.testing.assert_allclose(W1, W - lr * (gW + lam * W), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a1, a - lr * (ga + lam * a), rtol=1e-12, atol=1e-14)
    assert alpha1 == pytest.approx(alpha - lr * galpha, rel=1e-12)
    np.testing.assert_allclose(beta1, beta - lr * gbeta, rtol=1e-12, atol=1e-14)
    assert fast.W[0].abs().max().item() == 0.0  # the dead neuron stays exactly dead
