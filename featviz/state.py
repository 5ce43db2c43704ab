"""What every training state shares, and the NumPy state of small population problems.

A state holds the student's parameters during training (W, a, alpha, beta) and the teacher
(teacher_w, teacher_a), and gives params, set_params, grads, step, sizes and running.
``State`` computes what all of them share on NumPy copies of the parameters; ``NumpyState``
trains the exact population objective in NumPy (``featviz.torch_state`` holds the torch ones).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from featviz import exact
from featviz.exact import INV_SQRT_2PI


class State:
    """What the population states share (on NumPy copies of the parameters): the exact mse, the
    optimal alpha and beta, and the feature moments of the paper's stage 2. A state also has
    W, a, alpha, beta, teacher_w, teacher_a and params, set_params, grads, step, sizes, running."""

    def train_loss(self) -> float:
        return self.mse()

    def mse(self) -> float:
        w, a, alpha, beta = self.params()
        return float(exact.population_mse(w, a, alpha, beta, self.teacher_w, self.teacher_a))

    def fit_linear(self) -> None:
        """alpha, beta at their optimum for the current neurons."""
        w, a, _, _ = self.params()
        alpha, beta = exact.optimal_linear(w, a, self.teacher_w, self.teacher_a)
        self.set_params(alpha=alpha, beta=beta)

    def feature_moments(self):
        """Gram matrix G and target moments b of the features [1, x, relu(w_j.x)]."""
        w = self.params()[0]
        d, m = w.shape[1], w.shape[0]
        tw, ta = self.teacher_w, self.teacher_a
        wn = np.linalg.norm(w, axis=1)
        G = np.zeros((1 + d + m, 1 + d + m))
        G[0, 0] = 1.0
        G[1 : 1 + d, 1 : 1 + d] = np.eye(d)
        G[0, 1 + d :] = G[1 + d :, 0] = wn * INV_SQRT_2PI
        G[1 : 1 + d, 1 + d :] = w.T / 2
        G[1 + d :, 1 : 1 + d] = w / 2
        G[1 + d :, 1 + d :] = exact.kernel(w)
        b = np.concatenate([[ta @ np.linalg.norm(tw, axis=1) * INV_SQRT_2PI], tw.T @ ta / 2, exact.kernel(w, tw) @ ta])
        return G, b


def _numpy_step(U, c, m, beta, alpha, lr, lam):
    """One in-place gradient step on NumpyState's arrays.

    The same formulas as torch_state.PopulationState.grads() (and exact.mse_and_grad), fused
    with the update; returns the new alpha.
    """
    W, a = U[:m], c[:m]
    norms = np.sqrt(np.einsum("ij,ij->i", U, U))
    # A floor of 1e-150 keeps zero (or underflowed) rows at direction ~0 without inflating them.
    unit = U / np.maximum(norms, 1e-150)[:, None]
    um = unit[:m]
    C = um @ unit.T  # (m,P) cosines
    np.clip(C, -1.0, 1.0, out=C)
    A = np.arccos(-C)  # pi - t
    S = np.sin(A)  # sin t
    cn = c * norms
    csum = cn.sum() * INV_SQRT_2PI
    cn *= 1.0 / math.pi
    coef = S @ cn
    coef += 2.0 * alpha * INV_SQRT_2PI
    T1 = (A * c) @ U  # gW / a_j, assembled below
    T1 *= 1.0 / math.pi
    T1 += beta
    T1 += um * coef[:, None]
    C *= A
    T2 = C @ cn  # ga, assembled below
    T2 += coef
    T2 *= norms[:m]
    T2 += W @ beta
    cU = c @ U
    T1 *= a[:, None]
    shrink = 1.0 - lr * lam
    W *= shrink
    W -= lr * T1
    a *= shrink
    a -= lr * T2
    beta *= 1.0 - 2.0 * lr
    beta -= lr * cU
    return alpha - lr * (2.0 * alpha + 2.0 * csum)


class NumpyState(State):
    """Exact population objective on NumPy arrays, for small problems (m*(m+k) < NUMPY_BELOW).
    U (P,d) = [W; W*], c (P,) = [a; -a*]; the student rows are views W = U[:m], a = c[:m]
    updated in place. alpha is a Python float."""

    def __init__(self, w, a, teacher_w, teacher_a):
        self.m = w.shape[0]
        self.U = np.concatenate([w, teacher_w]).astype(np.float64)
        self.c = np.concatenate([a, -teacher_a]).astype(np.float64)
        self.W, self.a = self.U[: self.m], self.c[: self.m]
        self.alpha = 0.0
        self.beta = np.zeros(w.shape[1])
        self.teacher_w, self.teacher_a = teacher_w, teacher_a

    def grads(self):
        """(gW, ga, galpha, gbeta) of the exact mse (exact.mse_and_grad)."""
        _, gW, ga, galpha, gbeta = exact.mse_and_grad(
            self.W, self.a, self.alpha, self.beta, self.teacher_w, self.teacher_a, with_value=False
        )
        return gW, ga, float(galpha), gbeta

    def step(self, lr: float, lam: float) -> None:
        self.alpha = float(_numpy_step(self.U, self.c, self.m, self.beta, self.alpha, lr, lam))

    def params(self):
        return self.W.copy(), self.a.copy(), float(self.alpha), self.beta.copy()

    def set_params(self, w=None, a=None, alpha=None, beta=None):
        if w is not None:
            self.W[...] = w
        if a is not None:
            self.a[...] = a
        if alpha is not None:
            self.alpha = float(alpha)
        if beta is not None:
            self.beta[...] = beta

    def sizes(self) -> tuple[float, ...]:
        """Largest |entry| of W, a, alpha, beta (NaN if any entry is NaN: NumPy's max propagates it)."""
        return (
            float(np.abs(self.W).max()),
            float(np.abs(self.a).max()),
            abs(self.alpha),
            float(np.abs(self.beta).max()),
        )

    def running(self) -> contextlib.nullcontext:
        """The context training runs in (nothing to set for NumPy)."""
        return contextlib.nullcontext()
