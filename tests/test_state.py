"""The population state (featviz.kernel.KernelState) agrees with the torch state, step by step and
over many steps, in both variants of the kernel."""

import numpy as np
import pytest
import torch
from runs import special_student

from featviz import torch_state
from featviz.kernel import KernelState


def _states(rng, m, d=8):
    W, a, tw, ta, params = special_student(rng, m, d)
    fast = KernelState(W, a, tw, ta)
    slow = torch_state.PopulationState(W, a, tw, ta)
    for s in (fast, slow):
        s.set_params(**params)
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
