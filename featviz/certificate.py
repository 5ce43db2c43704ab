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
