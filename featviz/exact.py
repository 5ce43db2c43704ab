"""Exact population loss and its analytic gradient for x ~ N(0, I_d) (PAPER.md section 5).

Student and teacher are stacked into one residual network
    g(x) = f(x) - f*(x) = alpha + beta.x + sum_p c_p relu(u_p . x),
with U = [W; W*] of shape (m+k, d) and c = [a; -a*] of shape (m+k,). Then
    E[g^2] = alpha^2 + |beta|^2 + 2 alpha sum_p c_p |u_p| / sqrt(2 pi)
             + beta . sum_p c_p u_p + c^T K c,
    K_pq = |u_p||u_q| h(s_pq) / (2 pi),  h(s) = sqrt(1 - s^2) + s (pi - arccos s).

Why not autograd: the computed cosine of a neuron with itself (or with a teacher it is
aligned to) reaches 1, where d/ds arccos is infinite and autograd returns NaN; a zero
neuron has no direction at all. The analytic gradient of K in u,
    dK/du = ((pi - t) v + |v| sin t u/|u|) / (2 pi),
is finite everywhere: the cosine is clipped to [-1, 1] and a zero row gets direction 0.

The functions are written against an array namespace ``xp`` (``torch`` or ``numpy``). The
engine calls them on NumPy arrays (the recorded mse, the paper's stage 1) and steps with the
compiled kernel of ``featviz.kernel``, which the tests check against ``mse_and_grad`` here: the
plain formula, also the baseline of ``bench/bench_step.py``.
"""

from __future__ import annotations

import math

import numpy as np

INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
TWO_PI = 2.0 * math.pi


def _xp(x):
    """numpy for NumPy arrays, else torch (imported here, so NumPy callers never load torch)."""
    if isinstance(x, np.ndarray):
        return np
    import torch

    return torch


def _geometry(U):
    """Norms (P,), unit rows (P,d) with zero rows kept at 0, cosines (P,P) clipped to [-1, 1]."""
    xp = _xp(U)
    norms = xp.sqrt((U * U).sum(1))
    safe = xp.where(norms > 0, norms, 1.0)
    unit = U / safe[:, None]
    cos = xp.clip(unit @ unit.T, -1.0, 1.0)
    return norms, unit, cos


def kernel(U, V=None):
    """E[relu(u.x) relu(v.x)] for all rows u of U, v of V: shape (P, Q)."""
    xp = _xp(U)
    V = U if V is None else V
    nu, uu, _ = _geometry(U)
    nv, uv, _ = _geometry(V)
    s = xp.clip(uu @ uv.T, -1.0, 1.0)
    h = xp.sqrt(1.0 - s * s) + s * (math.pi - xp.arccos(s))
    return nu[:, None] * nv[None, :] * h / TWO_PI


def population_mse(W, a, alpha, beta, Wt, at):
    """E[(f(x) - f*(x))^2], exact. W (m,d), a (m,), alpha scalar, beta (d,), Wt (k,d), at (k,)."""
    xp = _xp(W)
    U = xp.concatenate([W, Wt]) if xp is np else xp.cat([W, Wt])
    c = xp.concatenate([a, -at]) if xp is np else xp.cat([a, -at])
    norms, _, _ = _geometry(U)
    K = kernel(U)
    val = alpha * alpha + (beta * beta).sum() + 2.0 * alpha * (c * norms).sum() * INV_SQRT_2PI
    val = val + (beta * (c[:, None] * U).sum(0)).sum() + c @ K @ c
    # Cancellation can leave a tiny negative number at an exact fit.
    return xp.clip(val, 0.0, None) if xp is np else xp.clamp(val, min=0.0)


def mse_and_grad(W, a, alpha, beta, Wt, at, *, with_value=True):
    """Exact mse and its gradient in (W, a, alpha, beta).

    Returns (mse or None, gW (m,d), ga (m,), galpha scalar, gbeta (d,)). Finite for every
    input: aligned rows and zero rows included.
    """
    xp = _xp(W)
    m = W.shape[0]
    if xp is np:
        U = np.concatenate([W, Wt])
        c = np.concatenate([a, -at])
    else:
        U = xp.cat([W, Wt])
        c = xp.cat([a, -at])
    norms, unit, cos = _geometry(U)
    t = xp.arccos(cos)
    pi_t = math.pi - t  # (P,P)
    sin_t = xp.sqrt(1.0 - cos * cos)
    cn = c * norms  # (P,)
    Um, um, nm, cm = U[:m], unit[:m], norms[:m], c[:m]
    # (K c)_p = |u_p| sum_q |u_q| c_q h(s_pq) / (2 pi), only student rows needed.
    h = sin_t[:m] + cos[:m] * pi_t[:m]  # (m,P)
    Kc = nm * (h @ cn) / TWO_PI  # (m,)
    # sum_q c_q dK(u_p, u_q)/du_p = (sum_q c_q (pi - t_pq) u_q + u_p/|u_p| sum_q c_q |u_q| sin t_pq) / (2 pi)
    GcU = ((pi_t[:m] * c) @ U + um * (sin_t[:m] @ cn)[:, None]) / TWO_PI  # (m,d)
    cU = (c[:, None] * U).sum(0)  # (d,) = sum_p c_p u_p
    csum = cn.sum() * INV_SQRT_2PI  # E[sum_p c_p relu(u_p.x)]
    g_alpha = 2.0 * alpha + 2.0 * csum
    g_beta = 2.0 * beta + cU
    g_a = 2.0 * alpha * nm * INV_SQRT_2PI + Um @ beta + 2.0 * Kc
    g_W = cm[:, None] * (2.0 * GcU + (2.0 * alpha * INV_SQRT_2PI) * um + beta[None, :])
    mse = None
    if with_value:
        hk = sin_t[m:] + cos[m:] * pi_t[m:]  # teacher rows (k,P)
        cKc = (cn[:m] * (h @ cn)).sum() / TWO_PI + (cn[m:] * (hk @ cn)).sum() / TWO_PI
        mse = alpha * alpha + (beta * beta).sum() + 2.0 * alpha * csum + (beta * cU).sum() + cKc
    return mse, g_W, g_a, g_alpha, g_beta


def optimal_linear(W, a, Wt, at):
    """The alpha, beta that minimise the mse for fixed neurons: minus the mean and the
    linear part of the residual sum_p c_p relu(u_p.x)."""
    xp = _xp(W)
    if xp is np:
        U, c = np.concatenate([W, Wt]), np.concatenate([a, -at])
    else:
        U, c = xp.cat([W, Wt]), xp.cat([a, -at])
    norms = xp.sqrt((U * U).sum(1))
    alpha = -(c * norms).sum() * INV_SQRT_2PI
    beta = -0.5 * (c[:, None] * U).sum(0)
    return alpha, beta
