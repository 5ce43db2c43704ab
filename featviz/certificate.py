"""The dual certificate eta of PAPER.md section 6, for planar and orthonormal teachers.

Planar teachers at angles phi_i with signs s_i: on the circle of their plane the kernel
with 0th and 1st Hermite parts removed is
    k(psi) = (|sin psi| + cos psi (pi/2 - |psi|) - 1) / (2 pi),   psi wrapped to [-pi, pi],
and eta(phi) = sum_i alpha_i k(phi - phi_i) + beta_i k'(phi - phi_i) with the 2k unknowns
fixed by eta(phi_i) = s_i and eta'(phi_i) = 0. k is pi-periodic (sign symmetry), so eta is
too. A good certificate has max |eta| = 1, reached only at the teacher lines, and
rho = min (1 - |eta|) / delta^2 > 0 with delta the angle to the nearest teacher line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

TWO_PI = 2.0 * math.pi


def _wrap(psi):
    return (np.asarray(psi, dtype=float) + math.pi) % TWO_PI - math.pi


def k0(psi):
    p = _wrap(psi)
    return (np.abs(np.sin(p)) + np.cos(p) * (math.pi / 2 - np.abs(p)) - 1.0) / TWO_PI


def k1(psi):
    """k'(psi)."""
    p = _wrap(psi)
    return -np.sin(p) * (math.pi / 2 - np.abs(p)) / TWO_PI


def k2(psi):
    """k''(psi); continuous, with a kink at 0 that does not matter for eta'(phi_i)."""
    p = _wrap(psi)
    return (np.abs(np.sin(p)) - np.cos(p) * (math.pi / 2 - np.abs(p))) / TWO_PI


@dataclass
class Certificate:
    phi: np.ndarray  # (G,) angles in radians over [0, pi)
    eta: np.ndarray  # (G,)
    teacher_phi: np.ndarray  # (k,) radians
    signs: np.ndarray  # (k,)
    coef_alpha: np.ndarray
    coef_beta: np.ndarray
    max_abs_eta: float
    rho: float  # min over the grid, away from the teachers, of (1 - |eta|) / delta^2
    delta: np.ndarray  # (G,) angle to the nearest teacher line, radians

    def __call__(self, phi):
        return planar_eta(phi, self.teacher_phi, self.coef_alpha, self.coef_beta)


def planar_eta(phi, teacher_phi, coef_alpha, coef_beta):
    psi = np.asarray(phi, dtype=float)[..., None] - teacher_phi
    return (k0(psi) * coef_alpha + k1(psi) * coef_beta).sum(-1)


def line_distance(phi, teacher_phi):
    """Angle (radians, in [0, pi/2]) from each angle to the nearest teacher line."""
    diff = np.abs(_wrap(np.asarray(phi, dtype=float)[..., None] - teacher_phi))
    diff = np.minimum(diff, math.pi - diff)
    return diff.min(-1)


def planar_certificate(angles_deg, signs, *, grid: int = 3601, exclude_deg: float = 0.5) -> Certificate:
    """Solve for eta and evaluate it on a grid over [0, 180) degrees."""
    tphi = np.radians(np.asarray(angles_deg, dtype=float))
    s = np.sign(np.asarray(signs, dtype=float))
    k = tphi.size
    diff = tphi[:, None] - tphi[None, :]  # rows: evaluation point j, cols: teacher i
    A = np.block([[k0(diff), k1(diff)], [k1(diff), k2(diff)]])
    rhs = np.concatenate([s, np.zeros(k)])
    sol = np.linalg.lstsq(A, rhs, rcond=None)[0]
    ca, cb = sol[:k], sol[k:]
    phi = np.linspace(0.0, math.pi, grid, endpoint=False)
    eta = planar_eta(phi, tphi, ca, cb)
    delta = line_distance(phi, tphi)
    away = delta > math.radians(exclude_deg)
    rho = float(((1.0 - np.abs(eta[away])) / delta[away] ** 2).min()) if away.any() else float("nan")
    # Include the exact teacher angles so max|eta| sees the value 1 there.
    at_teachers = planar_eta(tphi, tphi, ca, cb)
    max_abs = float(max(np.abs(eta).max(), np.abs(at_teachers).max()))
    return Certificate(phi, eta, tphi, s, ca, cb, max_abs, rho, delta)


def orthonormal_eta(points, teacher_w, signs):
    """eta(w) = sum_i sign(a*_i) K~(w . w*_i) / K~(1) for unit points (..., d)."""
    s = np.clip(np.asarray(points) @ np.asarray(teacher_w).T, -1.0, 1.0)
    kt = (np.sqrt(1.0 - s * s) + s * np.arcsin(s) - 1.0) / TWO_PI
    k_one = 0.25 - 1.0 / TWO_PI
    return (np.sign(signs) * kt).sum(-1) / k_one


# ---- the certificate on the whole sphere ----------------------------------------------------
#
# eta(w) = <relu~_w, g> for a function g in the span of the teachers' features and their
# derivatives, relu~ being relu with its 0th and 1st Hermite parts removed. For unit w:
#     eta(w) = sum_i c_i K~(w . w*_i) + K~'(w . w*_i) (w . b_i),   b_i in the span, b_i ⊥ w*_i,
# K~(s) = (sqrt(1 - s^2) + s arcsin s - 1) / (2 pi), K~'(s) = arcsin(s) / (2 pi). The b_i terms are
# the derivatives of K~ in the teacher direction; on the teachers' plane they are the k' terms of
# the planar certificate (k(psi) = K~(cos psi), k'(psi) = -K~'(cos psi) sin psi). The k unknowns c
# and the k (r - 1) unknowns b (r = dim span) are fixed by eta(w*_i) = sign(a*_i) and a vanishing
# gradient of eta at w*_i inside the span (the gradient out of the span vanishes by symmetry).
#
# eta depends on w only through p = Q w, its coordinates in an orthonormal basis Q (r,d) of the
# span, with |p| <= 1 (|p| < 1 when w leaves the span; |p| = 1 when r = d). So rho and max |eta| are
# minimised over that ball instead of the sphere of R^d. With g = sum_i c_i relu~_{w*_i} + derivative
# terms, |g|^2 = sum_i c_i sign(a*_i) (the derivative terms pair with the vanishing gradients).

K_ONE = 0.25 - 1.0 / TWO_PI  # K~(1)


def ktilde(s):
    s = np.clip(s, -1.0, 1.0)
    return (np.sqrt(1.0 - s * s) + s * np.arcsin(s) - 1.0) / TWO_PI


def ktilde1(s):
    """K~'(s)."""
    return np.arcsin(np.clip(s, -1.0, 1.0)) / TWO_PI


def ktilde2(s):
    """K~''(s) = 1 / (2 pi sqrt(1 - s^2)); huge near |s| = 1, where it is only ever multiplied by 0."""
    s = np.clip(s, -1.0, 1.0)
    return 1.0 / (TWO_PI * np.sqrt(np.maximum(1.0 - s * s, 1e-300)))


@dataclass
class SphereCertificate:
    teacher_w: np.ndarray  # (k,d) unit teachers
    signs: np.ndarray  # (k,)
    basis: np.ndarray  # (r,d) orthonormal basis of the span
    coef_c: np.ndarray  # (k,)
    coef_b: np.ndarray  # (k,r) b_i in span coordinates, b_i ⊥ w*_i
    max_abs_eta: float  # over the sample of the ball plus refinement
    rho: float  # min (1 - |eta|) / delta^2 over the sphere (directions within exclude_deg of a line left out)
    rho_span: float  # the same minimum over unit directions inside the span only (the circle, for planar)
    argmin: np.ndarray  # (r+1,) span coordinates p of the minimiser and its out-of-span weight sqrt(1 - |p|^2)
    norm2: float  # |g|^2 = sum_i c_i sign(a*_i)
    valid: bool
    reason: str  # why it is not valid ('' when valid)

    def eta(self, w):
        """eta at unit vectors w (..., d)."""
        return eta_from_coords(np.asarray(w) @ self.basis.T, self.teacher_w @ self.basis.T, self.coef_c, self.coef_b)

    def as_dict(self) -> dict:
        return {
            "max_eta": self.max_abs_eta,
            "rho": self.rho,
            "rho_span": self.rho_span,
            "valid": self.valid,
            "reason": self.reason,
            "norm2": self.norm2,
            "coef_c": [float(x) for x in self.coef_c],
        }


def eta_from_coords(p, T, c, B):
    """eta at span coordinates p (..., r) with |p| <= 1; teachers T (k,r), coefficients c (k,), B (k,r)."""
    s = p @ T.T  # (..., k)
    return (c * ktilde(s) + ktilde1(s) * (p @ B.T)).sum(-1)


def _span_basis(teacher_w):
    u, sv, _ = np.linalg.svd(teacher_w.T, full_matrices=False)
    return u[:, sv > sv[0] * 1e-10].T.copy()


def _orth_complement(t):
    """(r, r-1) orthonormal basis of t's orthogonal complement in R^r."""
    r = t.size
    q, _ = np.linalg.qr(np.column_stack([t, np.eye(r)]))
    return q[:, 1:r]


def solve_sphere_coefficients(T, signs):
    """c (k,), B (k,r) from eta(T_j) = s_j and zero in-span gradient at T_j; and the relative residual."""
    k, r = T.shape
    P = [_orth_complement(T[i]) for i in range(k)]  # b_i = P_i z_i
    n = k + k * (r - 1)
    A = np.zeros((n, n))
    S = T @ T.T
    np.fill_diagonal(S, 1.0)
    row = 0
    for j in range(k):  # values
        A[row, :k] = ktilde(S[j])
        for i in range(k):
            A[row, k + i * (r - 1) : k + (i + 1) * (r - 1)] = ktilde1(S[j, i]) * (T[j] @ P[i])
        row += 1
    for j in range(k):  # gradients along each u in P_j
        for u in P[j].T:
            ut = T @ u  # (k,) u . T_i
            A[row, :k] = ktilde1(S[j]) * ut
            for i in range(k):
                if i == j:  # K~''(1) (u.T_j)(T_j.b_j) = 0; K~'(1) (u . b_j)
                    A[row, k + i * (r - 1) : k + (i + 1) * (r - 1)] = ktilde1(1.0) * (u @ P[i])
                else:
                    A[row, k + i * (r - 1) : k + (i + 1) * (r - 1)] = ktilde2(S[j, i]) * ut[i] * (
                        T[j] @ P[i]
                    ) + ktilde1(S[j, i]) * (u @ P[i])
            row += 1
    rhs = np.zeros(n)
    rhs[:k] = signs
    sol = np.linalg.lstsq(A, rhs, rcond=None)[0]
    resid = float(np.linalg.norm(A @ sol - rhs) / np.linalg.norm(rhs))
    c = sol[:k]
    B = np.stack([P[i] @ sol[k + i * (r - 1) : k + (i + 1) * (r - 1)] for i in range(k)]) if r > 1 else np.zeros((k, r))
    return c, B, resid


def _ratio(p, T, c, B, exclude):
    s = np.abs(p @ T.T).max(-1)
    delta = np.arccos(np.clip(s, 0.0, 1.0))
    eta = eta_from_coords(p, T, c, B)
    ratio = np.where(delta > exclude, (1.0 - np.abs(eta)) / np.maximum(delta, 1e-300) ** 2, np.inf)
    return ratio, eta


def _sample_ball(r, in_span_only, rng, n):
    v = rng.standard_normal((n, r))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    if in_span_only:
        return v
    # Radii spread over [0, 1] with extra weight near 1 (close to the span) where minima sit.
    rad = np.sqrt(rng.uniform(0.0, 1.0, n))
    rad[: n // 2] = 1.0 - rng.uniform(0.0, 1.0, n // 2) ** 3 * 0.5
    return v * rad[:, None]


def _refine(p, T, c, B, exclude, on_sphere, rng, iters=300):
    """Pattern search from p for a smaller ratio, staying in the unit ball (on its sphere if on_sphere)."""
    best, _ = _ratio(p[None], T, c, B, exclude)
    best = float(best[0])
    step = 0.05
    for _ in range(iters):
        cand = p + step * rng.standard_normal((16, p.size))
        nrm = np.linalg.norm(cand, axis=1, keepdims=True)
        cand = cand / nrm if on_sphere else np.where(nrm > 1, cand / nrm, cand)
        val, _ = _ratio(cand, T, c, B, exclude)
        j = int(np.argmin(val))
        if val[j] < best:
            best, p = float(val[j]), cand[j]
        else:
            step *= 0.85
            if step < 1e-7:
                break
    return p, best


def sphere_certificate(
    teacher_w, signs, *, samples: int = 60_000, seed: int = 0, exclude_deg: float = 0.5, refine: int = 12
) -> SphereCertificate:
    """The certificate on the unit sphere of R^d for unit teachers (k,d) and signs sign(a*_i).

    The minimum of (1 - |eta|)/delta^2 is searched over the span-coordinate ball (see above): a random
    sample, points near each teacher line, then a pattern search from the best `refine` points.
    """
    tw = np.asarray(teacher_w, dtype=float)
    s = np.sign(np.asarray(signs, dtype=float))
    Q = _span_basis(tw)
    r, d = Q.shape
    T = tw @ Q.T
    c, B, resid = solve_sphere_coefficients(T, s)
    rng = np.random.default_rng(seed)
    exclude = math.radians(exclude_deg)
    on_sphere = r == d
    pts = [_sample_ball(r, on_sphere, rng, samples), _sample_ball(r, True, rng, samples // 2)]
    for t in T:  # around each teacher line, at small angles, in and out of the span
        ang = rng.uniform(exclude, 0.3, samples // (4 * len(T)))
        v = rng.standard_normal((ang.size, r + 1))
        v[:, :r] -= (v[:, :r] @ t)[:, None] * t
        if on_sphere:
            v[:, r] = 0.0
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        full = np.cos(ang)[:, None] * np.append(t, 0.0) + np.sin(ang)[:, None] * v
        pts.append(full[:, :r])
    p = np.concatenate(pts)
    ratio, eta = _ratio(p, T, c, B, exclude)
    max_eta = float(max(np.abs(eta).max(), np.abs(eta_from_coords(T, T, c, B)).max()))
    order = np.argsort(ratio)[:refine]
    best_p, best = p[order[0]], float(ratio[order[0]])
    for j in order:
        q, val = _refine(p[j].copy(), T, c, B, exclude, on_sphere, rng)
        if val < best:
            best, best_p = val, q
    # In-span only (unit p): the planar circle for planar teachers.
    ps = _sample_ball(r, True, rng, samples // 2)
    rs, es = _ratio(ps, T, c, B, exclude)
    span_best = float(rs.min())
    for j in np.argsort(rs)[:refine]:
        span_best = min(span_best, _refine(ps[j].copy(), T, c, B, exclude, True, rng)[1])
    rho = min(best, span_best)
    max_eta = max(max_eta, float(np.abs(es).max()))
    out_w = math.sqrt(max(0.0, 1.0 - float(best_p @ best_p)))
    reason = ""
    if resid > 1e-8:
        reason = f"the interpolation conditions have no exact solution (relative residual {resid:.2g})"
    elif max_eta > 1.0 + 1e-9:
        reason = f"|eta| reaches {max_eta:.4f} > 1 away from the teachers"
    elif not rho > 0:
        reason = f"1 - |eta| is not positive away from the teachers (rho = {rho:.3g})"
    return SphereCertificate(
        teacher_w=tw,
        signs=s,
        basis=Q,
        coef_c=c,
        coef_b=B,
        max_abs_eta=max_eta,
        rho=float(rho),
        rho_span=span_best,
        argmin=np.append(best_p, out_w),
        norm2=float(c @ s),
        valid=not reason,
        reason=reason,
    )


def certificate_for_config(cfg, **kwargs) -> SphereCertificate:
    """The sphere certificate of the teachers a config draws (same seed, same teachers as its run)."""
    from featviz.engine import make_teachers

    teacher_w, teacher_a, _ = make_teachers(cfg, np.random.default_rng(cfg.seed))
    return sphere_certificate(teacher_w, teacher_a, **kwargs)
