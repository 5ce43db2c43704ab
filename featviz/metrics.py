"""Metrics that make the theorem visible (PAPER.md section 7), vectorised over snapshots."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Fate thresholds: documented defaults, overridable per call.
ALIGNED_DEG = 5.0  # a neuron within this angle of a teacher line is "aligned"
DEAD_MASS = 1e-3  # a neuron whose mass |a_j||w_j| is below this is "dead"

FATE_NAMES = ("aligned", "dead", "undecided")
ALIGNED, DEAD, UNDECIDED = range(3)

FINITE_CAP = 1e30  # finite() clips to +-this (a diverged run's mse can be huge)


@dataclass
class Metrics:
    mass: np.ndarray  # (T,m) |a_j| |w_j|
    nearest: np.ndarray  # (T,m) index of the nearest teacher line
    line_angle_deg: np.ndarray  # (T,m) angle to that line, degrees, in [0, 90]
    fate: np.ndarray  # (T,m) ALIGNED / DEAD / UNDECIDED
    captured: np.ndarray  # (T,k) signed mass captured by each teacher: sum_{j aligned to i} a_j |w_j|
    far_mass: np.ndarray  # (T,) sum_j mass_j delta_j^2 (delta in radians)
    counts: np.ndarray  # (T,3) neurons per fate
    balance: np.ndarray  # (T,m) |a_j|^2 - |w_j|^2
    orth_norm: np.ndarray  # (T,m) norm of the part of w_j orthogonal to the teacher span

    def as_arrays(self) -> dict[str, np.ndarray]:
        return {k: v for k, v in self.__dict__.items()}


def line_angles(w: np.ndarray, teacher_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest teacher line and the angle to it (degrees) for w of shape (..., d).

    Closeness is to the line +-w*_i (sign symmetry, PAPER.md section 1). A zero vector
    has no direction: it gets angle 90 and teacher 0.
    """
    norms = np.linalg.norm(w, axis=-1)
    safe = np.where(norms > 0, norms, 1.0)
    cos = np.abs(w @ teacher_w.T) / safe[..., None]  # (..., k), teachers are unit
    cos = np.clip(cos, 0.0, 1.0)
    nearest = cos.argmax(-1)
    best = np.take_along_axis(cos, nearest[..., None], -1)[..., 0]
    # arccos loses half the digits near 1 (a neuron exactly on its line reads ~1e-6 degrees):
    # take the angle from the part of w off the line, atan2(|w - (w.u)u|, |w.u|).
    u = teacher_w[nearest]  # (..., d)
    off = w - (w * u).sum(-1, keepdims=True) * u
    sin = np.linalg.norm(off, axis=-1) / safe
    angle = np.degrees(np.arctan2(sin, best))
    angle = np.where(norms > 0, angle, 90.0)
    return nearest, angle


def run_metrics(
    w: np.ndarray,
    a: np.ndarray,
    teacher_w: np.ndarray,
    *,
    aligned_deg: float = ALIGNED_DEG,
    dead_mass: float = DEAD_MASS,
) -> Metrics:
    """Metrics for snapshots w (T,m,d), a (T,m) against unit teachers (k,d)."""
    k = teacher_w.shape[0]
    wn = np.linalg.norm(w, axis=-1)  # (T,m)
    mass = np.abs(a) * wn
    nearest, angle = line_angles(w, teacher_w)
    fate = np.full(mass.shape, UNDECIDED, dtype=np.int8)
    fate[angle <= aligned_deg] = ALIGNED
    fate[mass < dead_mass] = DEAD
    signed = a * wn
    captured = np.stack([np.where((fate == ALIGNED) & (nearest == i), signed, 0.0).sum(-1) for i in range(k)], -1)
    far_mass = (mass * np.radians(angle) ** 2).sum(-1)
    counts = np.stack([(fate == f).sum(-1) for f in range(3)], -1)
    # (d,r) orthonormal basis of the span; r < k for planar teachers, where QR would add
    # k - r arbitrary directions to the span.
    u, sv, _ = np.linalg.svd(teacher_w.T, full_matrices=False)
    q = u[:, sv > sv[0] * 1e-10]
    orth = w - (w @ q) @ q.T
    return Metrics(
        mass=mass,
        nearest=nearest.astype(np.int16),
        line_angle_deg=angle,
        fate=fate,
        captured=captured,
        far_mass=far_mass,
        counts=counts.astype(np.int32),
        balance=a**2 - wn**2,
        orth_norm=np.linalg.norm(orth, axis=-1),
    )


def frame_summary(run, i: int) -> str:
    """One line for snapshot i, e.g. '37 of 40 neurons within 5 deg of a teacher line, 3 dead, mse 2e-06'."""
    met = run.metrics
    n_al, n_dead, n_und = (int(x) for x in met.counts[i])
    m = run.config.m
    parts = [f"{n_al} of {m} neurons within {ALIGNED_DEG:g}° of a teacher line", f"{n_dead} dead"]
    if n_und:
        parts.append(f"{n_und} undecided")
    parts.append(f"mse {run.mse[i]:.2g}")
    return ", ".join(parts)


def finite(x, *, lo: float = -FINITE_CAP, hi: float = FINITE_CAP) -> np.ndarray:
    """A float array with NaN -> 0 and +-inf / huge values clipped to [lo, hi] (diverged runs)."""
    x = np.asarray(x, dtype=float)
    return np.clip(np.nan_to_num(x, nan=0.0, posinf=hi, neginf=lo), lo, hi)


def span_rank(cfg) -> int:
    """Dimension of the teacher span for a config, without building the teachers."""
    if cfg.k == 1:
        return 1
    if cfg.teachers == "planar":
        return 2
    return min(cfg.k, cfg.d)
