"""The closed-form population loss and its analytic gradient, each checked a second way:
Monte Carlo for values, central finite differences and autograd for gradients."""

import math

import numpy as np
import pytest
import torch

from featviz import exact, torch_state


def teachers(rng, d=5, k=3):
    q, _ = np.linalg.qr(rng.standard_normal((d, k)))
    return q.T.copy(), np.array([1.0, -0.7, 1.3])[:k]


def awkward_student(rng, tw):
    """Random neurons plus the cases that break a naive implementation: a scaled copy of a
    teacher, an exact duplicate of one, a neuron on -w*, a zero neuron, a repeated row."""
    d = tw.shape[1]
    w = np.concatenate(
        [
            rng.standard_normal((3, d)) * 0.5,
            1.7 * tw[0:1],  # aligned: w_j = c w*_0
            tw[1:2].copy(),  # exact duplicate of a teacher
            -0.8 * tw[2:3],  # on the line of w*_2, other side
            np.zeros((1, d)),  # zero neuron (with a nonzero a_j)
        ]
    )
    w = np.concatenate([w, w[:1]])  # two identical student rows
    a = rng.standard_normal(w.shape[0])
    alpha = 0.3
    beta = rng.standard_normal(d) * 0.2
    return w, a, alpha, beta


def relu(z):
    return np.maximum(z, 0.0)


# ---- values: closed form vs Monte Carlo -------------------------------------------------


def test_kernel_matches_monte_carlo(rng):
    tw, _ = teachers(rng)
    w, _, _, _ = awkward_student(rng, tw)
    U = np.concatenate([w, tw])
    X = rng.standard_normal((400_000, U.shape[1]))
    act = relu(X @ U.T)  # (n,P)
    K = exact.kernel(U)
    n = X.shape[0]
    for p in range(U.shape[0]):
        prod = act[:, p : p + 1] * act  # (n,P)
        mean, se = prod.mean(0), prod.std(0) / math.sqrt(n)
        assert np.all(np.abs(K[p] - mean) <= 4 * se + 1e-12), (p, K[p], mean, se)
    # The zero neuron's row is exactly zero; the one- and two-argument forms agree.
    assert np.all(K[6] == 0.0)
    np.testing.assert_allclose(exact.kernel(w, tw), K[: w.shape[0], w.shape[0] :], rtol=1e-13, atol=1e-15)
    # Diagonal: E[relu(u.x)^2] = |u|^2 / 2, even with the computed cosine above 1.
    np.testing.assert_allclose(np.diag(K), (U * U).sum(1) / 2, rtol=1e-13)


def test_population_mse_matches_monte_carlo(rng):
    tw, ta = teachers(rng)
    w, a, alpha, beta = awkward_student(rng, tw)
    X = rng.standard_normal((400_000, tw.shape[1]))
    r = relu(X @ w.T) @ a + X @ beta + alpha - relu(X @ tw.T) @ ta
    sq = r * r
    mean, se = sq.mean(), sq.std() / math.sqrt(sq.size)
    value = exact.population_mse(w, a, alpha, beta, tw, ta)
    assert abs(value - mean) <= 4 * se, (value, mean, se)
    assert value > 0.1  # not a trivial fit: the comparison means something
    # Same value from the gradient routine, numpy and torch.
    mse, *_ = exact.mse_and_grad(w, a, alpha, beta, tw, ta)
    assert mse == pytest.approx(value, rel=1e-12)
    t = [torch.tensor(v, dtype=torch.float64) for v in (w, a, alpha, beta, tw, ta)]
    assert float(exact.population_mse(*t)) == pytest.approx(value, rel=1e-12)


def test_first_moments_match_paper_closed_forms(rng):
    """E[relu(u.x)] = |u|/sqrt(2 pi) and E[x relu(u.x)] = u/2, via the mse of single features."""
    d = 4
    u = rng.standard_normal((1, d))
    zero_w, zero_a = np.zeros((1, d)), np.zeros(1)
    # f* = relu(u.x), f = alpha: mse = E[f*^2] - 2 alpha E[f*] + alpha^2.
    e2 = exact.population_mse(zero_w, zero_a, 0.0, np.zeros(d), u, np.ones(1))
    e_alpha = exact.population_mse(zero_w, zero_a, 1.0, np.zeros(d), u, np.ones(1))
    assert (1.0 + e2 - e_alpha) / 2 == pytest.approx(np.linalg.norm(u) / math.sqrt(2 * math.pi), rel=1e-12)
    # f = beta.x with beta = e_i: mse = E[f*^2] - 2 E[x_i f*] + 1.
    for i in range(d):
        beta = np.eye(d)[i]
        e_beta = exact.population_mse(zero_w, zero_a, 0.0, beta, u, np.ones(1))
        assert (1.0 + e2 - e_beta) / 2 == pytest.approx(u[0, i] / 2, abs=1e-12)


def test_linear_part_residual_is_the_centred_kernel(rng):
    """With no neurons and optimal alpha, beta the mse is E[f*^2] - (E f*)^2 - |E[x f*]|^2,
    which PAPER.md writes as a*^T K~ a* with K~(s) = (sqrt(1-s^2) + s arcsin s - 1)/(2 pi)."""
    d, k = 6, 3
    tw = rng.standard_normal((k, d))
    tw /= np.linalg.norm(tw, axis=1, keepdims=True)
    ta = np.array([0.9, -1.2, 0.5])
    w, a = np.zeros((2, d)), np.zeros(2)
    alpha, beta = exact.optimal_linear(w, a, tw, ta)
    value = exact.population_mse(w, a, alpha, beta, tw, ta)
    s = np.clip(tw @ tw.T, -1, 1)
    k_tilde = (np.sqrt(1 - s * s) + s * np.arcsin(s) - 1) / (2 * math.pi)
    assert value == pytest.approx(ta @ k_tilde @ ta, rel=1e-10)
    assert k_tilde[0, 0] == pytest.approx(0.25 - 1 / (2 * math.pi), rel=1e-12)
    # Optimal: the alpha and beta gradients vanish there.
    _, _, _, g_alpha, g_beta = exact.mse_and_grad(w, a, alpha, beta, tw, ta)
    assert abs(g_alpha) < 1e-12 and np.abs(g_beta).max() < 1e-12


# ---- gradients: analytic vs finite differences, autograd, the engine ------------------


def central_differences(fun, x, h):
    g = np.zeros_like(x, dtype=float)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = fun()
        flat[i] = old - h
        minus = fun()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * h)
    return g


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_gradient_matches_finite_differences(rng, backend):
    tw, ta = teachers(rng)
    w, a, alpha, beta = awkward_student(rng, tw)
    params = {"w": w, "a": a, "alpha": np.array(alpha), "beta": beta}

    def mse():
        return exact.population_mse(params["w"], params["a"], float(params["alpha"]), params["beta"], tw, ta)

    inputs = (w, a, alpha, beta, tw, ta)
    if backend == "torch":
        inputs = tuple(torch.tensor(v) if isinstance(v, np.ndarray) else v for v in inputs)
    value, gW, ga, g_alpha, g_beta = exact.mse_and_grad(*inputs)
    grads = {"w": gW, "a": ga, "alpha": g_alpha, "beta": g_beta}
    grads = {k: np.asarray(v.numpy() if isinstance(v, torch.Tensor) else v, dtype=float) for k, v in grads.items()}
    assert float(value) == pytest.approx(mse(), rel=1e-12)
    for name, g in grads.items():
        assert np.isfinite(g).all(), name
        fd = central_differences(mse, params[name], h=1e-5)
        np.testing.assert_allclose(g, fd, rtol=1e-7, atol=2e-9, err_msg=name)
    # The awkward rows are not trivially zero: aligned, duplicate, -w* and zero neurons all
    # carry a gradient (the zero neuron's W gradient is the symmetric difference quotient).
    assert np.all(np.abs(grads["w"][3:7]).sum(1) > 1e-3)


def test_gradient_at_exact_teacher_copy_is_finite_and_zero(rng):
    """A student equal to the teacher (plus a zero neuron) is a global minimum: the mse is 0
    and every gradient is 0, with no NaN from arccos at cosine 1."""
    tw, ta = teachers(rng)
    d = tw.shape[1]
    w = np.concatenate([tw, np.zeros((1, d))])
    a = np.concatenate([ta, [0.0]])
    for xp_in in (lambda v: v, torch.tensor):
        value, *grads = exact.mse_and_grad(xp_in(w), xp_in(a), 0.0, xp_in(np.zeros(d)), xp_in(tw), xp_in(ta))
        assert abs(float(value)) < 1e-12
        for g in grads:
            g = np.asarray(g.numpy() if isinstance(g, torch.Tensor) else g)
            assert np.isfinite(g).all() and np.abs(g).max() < 1e-12


def test_engine_population_grads_equal_exact(rng):
    tw, ta = teachers(rng)
    w, a, alpha, beta = awkward_student(rng, tw)
    # Plus a neuron so small that its squared norm underflows to 0: it must act as a zero row.
    w = np.concatenate([w, np.full((1, w.shape[1]), 1e-170)])
    a = np.append(a, 0.7)
    state = torch_state.PopulationState(w, a, tw, ta)
    state.set_params(alpha=alpha, beta=beta)
    gW, ga, g_alpha, g_beta = state.grads()
    _, eW, ea, e_alpha, e_beta = exact.mse_and_grad(w, a, alpha, beta, tw, ta)
    np.testing.assert_allclose(gW.numpy(), eW, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ga.numpy(), ea, rtol=0, atol=1e-12)
    assert g_alpha == pytest.approx(e_alpha, abs=1e-12)
    np.testing.assert_allclose(g_beta.numpy(), e_beta, rtol=0, atol=1e-12)
    assert state.mse() == pytest.approx(exact.population_mse(w, a, alpha, beta, tw, ta), rel=1e-14)


def test_engine_step_is_gradient_descent_with_weight_decay(rng):
    tw, ta = teachers(rng)
    w, a, alpha, beta = awkward_student(rng, tw)
    state = torch_state.PopulationState(w, a, tw, ta)
    state.set_params(alpha=alpha, beta=beta)
    lr, lam = 0.05, 0.3
    _, eW, ea, e_alpha, e_beta = exact.mse_and_grad(w, a, alpha, beta, tw, ta)
    state.step(lr, lam)
    W1, a1, alpha1, beta1 = state.params()
    np.testing.assert_allclose(W1, w - lr * (eW + lam * w), atol=1e-13)
    np.testing.assert_allclose(a1, a - lr * (ea + lam * a), atol=1e-13)
    assert alpha1 == pytest.approx(alpha - lr * e_alpha, abs=1e-13)  # no decay on alpha, beta
    np.testing.assert_allclose(beta1, beta - lr * e_beta, atol=1e-13)
    # Teacher rows of the stacked state are untouched.
    np.testing.assert_array_equal(state.U[state.m :].numpy(), tw)
    np.testing.assert_array_equal(state.c[state.m :].numpy(), -ta)


def test_engine_sample_grads_equal_autograd(rng):
    tw, ta = teachers(rng)
    w, a, alpha, beta = awkward_student(rng, tw)
    X = rng.standard_normal((500, tw.shape[1]))
    state = torch_state.SampleState(w, a, tw, ta, X)
    state.set_params(alpha=alpha, beta=beta)
    gW, ga, g_alpha, g_beta = state.grads()

    Wt = torch.tensor(w, requires_grad=True)
    at = torch.tensor(a, requires_grad=True)
    alpha_t = torch.tensor(alpha, dtype=torch.float64, requires_grad=True)
    beta_t = torch.tensor(beta, requires_grad=True)
    Xt = torch.tensor(X)
    y = torch.relu(Xt @ torch.tensor(tw).T) @ torch.tensor(ta)
    loss = ((torch.relu(Xt @ Wt.T) @ at + Xt @ beta_t + alpha_t - y) ** 2).mean()
    loss.backward()
    np.testing.assert_allclose(gW.numpy(), Wt.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ga.numpy(), at.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert g_alpha == pytest.approx(alpha_t.grad.item(), rel=1e-12)
    np.testing.assert_allclose(g_beta.numpy(), beta_t.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert state.train_loss() == pytest.approx(loss.item(), rel=1e-12)
