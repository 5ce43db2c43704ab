"""Where gradient descent sends each neuron of a snapshot: the descent-direction picture (PAPER.md section 4)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featviz.metrics import finite

DESCENT_RADIUS_DEG = 30.0  # the neighbourhood T_t of a teacher line: neurons within this angle of it


@dataclass(frozen=True)
class DescentTargets:
    """The target of every neuron of snapshot `frame` (plain arrays; see descent_targets)."""

    frame: int
    radius_deg: float
    target: np.ndarray  # (m,d) the point each neuron heads to
    near: np.ndarray  # (m,) bool: within radius_deg of its nearest teacher line, so heading to it
    nearest: np.ndarray  # (m,) int: index of that nearest teacher line

    @classmethod
    def from_run(cls, run, frame: int, *, radius_deg: float = DESCENT_RADIUS_DEG) -> DescentTargets:
        i = int(frame) % run.n_frames
        target, near = descent_targets(run, i, radius_deg=radius_deg)
        nearest = run.metrics.nearest[i].astype(int)
        return cls(frame=i, radius_deg=float(radius_deg), target=target, near=near, nearest=nearest)


def descent_targets(run, i: int, *, radius_deg: float = DESCENT_RADIUS_DEG) -> tuple[np.ndarray, np.ndarray]:
    """Target point (m,d) of each neuron in snapshot i and whether it heads to a teacher (m,).

    A neuron within radius_deg of its nearest teacher line t heads to
    sign(w_j . w*_t) sqrt(|a*_t| mass_j / S_t) w*_t, where S_t is the total mass of the
    neurons near t; every other neuron heads to 0. At balance a neuron's |w_j|^2 equals its
    mass, so the targets near t share the teacher: sum_{j near t} |target_j|^2 = |a*_t|.
    """
    met = run.metrics
    w = run.w[i]
    t = met.nearest[i].astype(int)
    mass = finite(met.mass[i], lo=0.0)
    near = met.line_angle_deg[i] <= radius_deg
    k = run.teacher_w.shape[0]
    S = np.array([mass[near & (t == s)].sum() for s in range(k)])
    share = np.sqrt(np.abs(run.teacher_a[t]) * mass / np.maximum(S[t], 1e-300))
    sign = np.sign(np.einsum("md,md->m", w, run.teacher_w[t]))
    sign = np.where(sign == 0, 1.0, sign)
    target = (sign * share)[:, None] * run.teacher_w[t]
    target = np.where(near[:, None], target, 0.0)
    return finite(target), near


def opening_frame(run, *, share: float = 0.5) -> int:
    """The first snapshot where the neurons have left the origin: the median |w_j| has reached
    `share` of its largest value over the run (a descent picture at the origin shows no arrows)."""
    med = np.median(np.linalg.norm(run.w, axis=-1), axis=-1)  # (T,)
    reached = np.flatnonzero(med >= share * float(med.max()))
    return int(reached[0]) if reached.size else run.n_frames - 1
