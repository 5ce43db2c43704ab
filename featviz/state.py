"""What every training state shares.

A state holds the student's parameters during training (W, a, alpha, beta) and the teacher
(teacher_w, teacher_a), and gives params, set_params, grads, step, sizes and running.
``State`` computes what all of them share on NumPy copies of the parameters; the population
state is ``featviz.kernel.KernelState``, the torch ones are in ``featviz.torch_state``.
"""

from __future__ import annotations

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
