"""The torch states of the training engine: the exact population objective for larger
problems and the empirical (sampled) objective. Imported by engine.train only when a run needs
torch (importing it takes about 2 s), so small population runs never load torch.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator

import numpy as np
import torch

from featviz.exact import INV_SQRT_2PI
from featviz.state import State

DTYPE = torch.float64


class PopulationState(State):
    """Exact population objective in torch. U (P,d) = [W; W*], c (P,) = [a; -a*]; the student
    rows are views W = U[:m], a = c[:m] updated in place. alpha is a Python float."""

    def __init__(self, w, a, teacher_w, teacher_a):
        self.m = w.shape[0]
        self.U = torch.tensor(np.concatenate([w, teacher_w]), dtype=DTYPE)
        self.c = torch.tensor(np.concatenate([a, -teacher_a]), dtype=DTYPE)
        self.W, self.a = self.U[: self.m], self.c[: self.m]
        self.alpha = 0.0
        self.beta = torch.zeros(w.shape[1], dtype=DTYPE)
        self.teacher_w, self.teacher_a = teacher_w, teacher_a

    def grads(self):
        """(gW, ga, galpha, gbeta) of the exact mse; see exact.mse_and_grad for the math."""
        U, c, m, W, a, beta = self.U, self.c, self.m, self.W, self.a, self.beta
        norms = torch.linalg.vector_norm(U, dim=1)
        # Zero rows stay zero, and so do rows so small that their norm underflowed to 0
        # (dividing those by a tiny floor made huge "unit" vectors and revived dead neurons).
        unit = U / torch.where(norms > 0, norms, 1.0).unsqueeze(1)
        um = unit[:m]
        C = (um @ unit.T).clamp_(-1.0, 1.0)  # (m,P) cosines
        A = torch.arccos(C).neg_().add_(math.pi)  # pi - t
        S = torch.sin(A)  # sin t
        cnp = c * norms / math.pi
        Scnp = S @ cnp  # (m,)
        k1 = 2.0 * self.alpha * INV_SQRT_2PI
        # gW_j = a_j (sum_q c_q ((pi - t) u_q + |u_q| sin t u_j/|u_j|) / pi + k1 u_j/|u_j| + beta)
        gW = torch.addmm(beta, A * c, U, alpha=1.0 / math.pi)
        coef = Scnp + k1
        gW.addcmul_(um, coef.unsqueeze(1)).mul_(a.unsqueeze(1))
        # ga_j = |u_j| (k1 + sum_q c_q |u_q| h(s_jq) / pi) + u_j . beta
        ga = torch.addmv(coef, C * A, cnp).mul_(norms[:m])
        ga = torch.addmv(ga, W, beta)
        csum = float(cnp.sum()) * math.pi * INV_SQRT_2PI
        galpha = 2.0 * self.alpha + 2.0 * csum
        gbeta = torch.add(c @ U, beta, alpha=2.0)
        return gW, ga, galpha, gbeta

    def step(self, lr: float, lam: float) -> None:
        gW, ga, galpha, gbeta = self.grads()
        shrink = 1.0 - lr * lam
        self.W.mul_(shrink).sub_(gW, alpha=lr)
        self.a.mul_(shrink).sub_(ga, alpha=lr)
        self.alpha -= lr * galpha
        self.beta.sub_(gbeta, alpha=lr)

    def params(self):
        return self.W.numpy().copy(), self.a.numpy().copy(), float(self.alpha), self.beta.numpy().copy()

    def set_params(self, w=None, a=None, alpha=None, beta=None):
        if w is not None:
            self.W.copy_(torch.as_tensor(w, dtype=DTYPE))
        if a is not None:
            self.a.copy_(torch.as_tensor(a, dtype=DTYPE))
        if alpha is not None:
            self.alpha = float(alpha)
        if beta is not None:
            self.beta.copy_(torch.as_tensor(beta, dtype=DTYPE))

    def sizes(self) -> tuple[float, ...]:
        """Largest |entry| of W, a, alpha, beta (NaN if any entry is NaN: torch's max propagates it)."""
        return (float(self.W.abs().max()), float(self.a.abs().max()), abs(self.alpha), float(self.beta.abs().max()))

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """The context training runs in: no autograd, one torch thread."""
        with torch.inference_mode(), _single_thread():
            yield


class SampleState(PopulationState):
    """Empirical loss on n fixed points; the exact population mse is still reported."""

    def __init__(self, w, a, teacher_w, teacher_a, X):
        super().__init__(w, a, teacher_w, teacher_a)
        self.X = torch.tensor(X, dtype=DTYPE)
        self.y = torch.relu(self.X @ torch.tensor(teacher_w.T, dtype=DTYPE)) @ torch.tensor(teacher_a, dtype=DTYPE)

    def _residual(self):
        pre = self.X @ self.W.T  # (n,m)
        act = torch.relu(pre)
        r = act @ self.a + self.X @ self.beta + self.alpha - self.y
        return pre, act, r

    def grads(self):
        pre, act, r = self._residual()
        g = r * (2.0 / r.shape[0])  # d(mean r^2)/dr
        ga = act.T @ g
        gW = ((pre > 0).to(DTYPE) * g.unsqueeze(1) * self.a).T @ self.X
        return gW, ga, float(g.sum()), self.X.T @ g

    def train_loss(self) -> float:
        _, _, r = self._residual()
        return float((r * r).mean())

    def fit_linear(self) -> None:
        _, act, _ = self._residual()
        target = self.y - act @ self.a
        Z = torch.cat([torch.ones(self.X.shape[0], 1, dtype=DTYPE), self.X], 1)
        sol = torch.linalg.lstsq(Z, target.unsqueeze(1)).solution[:, 0]
        self.set_params(alpha=float(sol[0]), beta=sol[1:])

    def feature_moments(self):
        n = self.X.shape[0]
        Phi = torch.cat([torch.ones(n, 1, dtype=DTYPE), self.X, torch.relu(self.X @ self.W.T)], 1)
        return (Phi.T @ Phi / n).numpy(), (Phi.T @ self.y / n).numpy()


class _single_thread:
    """Training runs on one torch thread.

    Measured on this 2-core kind of machine: with two intra-op threads a step is at best 10-25%
    faster (d=50, m=500) and, as soon as anything else runs (a second job, the web server), 3 to
    100 times slower, as the threads wait on each other. The server trains up to two jobs at once
    instead. torch's thread count belongs to the process and jobs train in threads, so the runs
    in progress are counted and the count is restored when the last one ends, in any order.
    """

    _lock = threading.Lock()
    _active = 0  # runs in progress in this process
    _saved = 1  # thread count before the first of them

    def __enter__(self):
        cls = type(self)
        with cls._lock:
            if cls._active == 0:
                cls._saved = torch.get_num_threads()
                torch.set_num_threads(1)
            cls._active += 1

    def __exit__(self, *exc):
        cls = type(self)
        with cls._lock:
            cls._active -= 1
            if cls._active == 0:
                torch.set_num_threads(cls._saved)
