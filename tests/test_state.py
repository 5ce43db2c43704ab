"""The population state (featviz.kernel.KernelState) agrees with the torch state, step by step and
over many steps, in both variants of the kernel."""

import numpy as np
import pytest
import torch

from featviz import torch_state
from featviz.kernel import KernelState


def _states(rng, m, d=8, k=3):
    W = rng.standard_normal((m, d)) * 0.3
    a = rng.standard_normal(m) * 0.3
    tw = np.linalg.qr(rng.standard_normal((d, k)))[0].T
    ta = np.array([1.0, -1.0, 0.5])
    W[0], a[0] = 0.0, 0.0  # a dead neuron (w and a both zero: a stationary point)
    W[1] = 0.7 * tw[0]  # aligned with a teacher
    W[2] = -0.4 * tw[1]  # on the other end of a teacher line
    fast = KernelState(W, a, tw, ta)
    slow = torch_state.PopulationState(W, a, tw, ta)
    for s in (fast, slow):
        s.set_params(alpha=0.2, beta=np.linspace(-0.1, 0.1, d))
    return fast, slow, tw, ta


@pytest.mark.parametrize(("m", "d", "lr"), [(20, 8, 0.05), (120, 40, 0.005)], ids=["inline", "blas"])
@pytest.mark.parametrize("lam", [0.0, 0.05])
def test_kernel_and_torch_steps_agree_over_many_steps(rng, lam, m, d, lr):
    fast, slow, _, _ = _states(rng, m, d)
    assert fast.buffers.blas == (m == 120)
    with torch.inference_mode():
        for _ in range(200):
            fast.step(lr, lam)
            slow.step(lr, lam)
    np.testing.assert_allclose(fast.U, slow.U.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast.c, slow.c.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast.beta, slow.beta.numpy(), rtol=1e-10, atol=1e-12)
    assert fast.alpha == pytest.approx(slow.alpha, rel=1e-10)
    assert np.isfinite(fast.U).all()
    assert fast.sizes() == pytest.approx(slow.sizes(), rel=1e-10)


def test_kernel_and_torch_grads_agree(rng):
    fast, slow, _, _ = _states(rng, 20)
    for got, want in zip(fast.grads(), slow.grads(), strict=True):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-10, atol=1e-12)
