"""The NumPy state: one step is gradient descent on the exact loss, and it agrees with the
torch state over many steps."""

import numpy as np
import pytest
import torch

from featviz import exact, torch_state
from featviz.state import NumpyState


def _states(rng, m, d=8, k=3):
    W = rng.standard_normal((m, d)) * 0.3
    a = rng.standard_normal(m) * 0.3
    tw = np.linalg.qr(rng.standard_normal((d, k)))[0].T
    ta = np.array([1.0, -1.0, 0.5])
    W[0], a[0] = 0.0, 0.0  # a dead neuron (w and a both zero: a stationary point)
    W[1] = 0.7 * tw[0]  # aligned with a teacher
    W[2] = -0.4 * tw[1]  # on the other end of a teacher line
    fast = NumpyState(W, a, tw, ta)
    slow = torch_state.PopulationState(W, a, tw, ta)
    for s in (fast, slow):
        s.set_params(alpha=0.2, beta=np.linspace(-0.1, 0.1, d))
    return fast, slow, tw, ta


@pytest.mark.parametrize("lam", [0.0, 0.05])
def test_numpy_and_torch_steps_agree_over_many_steps(rng, lam):
    fast, slow, _, _ = _states(rng, 20)
    with torch.inference_mode():
        for _ in range(200):
            fast.step(0.05, lam)
            slow.step(0.05, lam)
    np.testing.assert_allclose(fast.U, slow.U.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast.c, slow.c.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast.beta, slow.beta.numpy(), rtol=1e-10, atol=1e-12)
    assert fast.alpha == pytest.approx(slow.alpha, rel=1e-10)
    assert np.isfinite(fast.U).all()
    assert fast.sizes() == pytest.approx(slow.sizes(), rel=1e-10)


def test_numpy_and_torch_grads_agree(rng):
    fast, slow, _, _ = _states(rng, 20)
    for got, want in zip(fast.grads(), slow.grads(), strict=True):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-10, atol=1e-12)


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
    assert np.abs(fast.W[0]).max() == 0.0  # the dead neuron stays exactly dead
