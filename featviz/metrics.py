"""Metrics that make the theorem visible (PAPER.md section 7), vectorised over snapshots."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Fate thresholds: documented defaults, overridable per call. The words are what they mean:
# "aligned" is a direction, "dead" is a neuron that shrank away, not one that started small.
ALIGNED_DEG = 5.0  # a neuron within this angle of a teacher line is "aligned"
# "dead": its mass |a_j||w_j| fell to at most DEAD_SHRINK of the largest it had so far AND is
# below DEAD_SCALE times the teacher's total mass sum_i |a*_i|. The first condition keeps a small
# initialisation (init 0.01: masses ~1e-4 at step 0) from reading as dead; the second keeps a neuron
# that shrank but still carries a visible share of the teacher's mass from reading as dead.
DEAD_SHRINK = 0.1
DEAD_SCALE = 1e-3

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
    total_mass: np.ndarray  # (T,) sum_j mass_j, to set against sum_i |a*_i|
    dead_floor: float  # the absolute part of the dead rule: DEAD_SCALE * sum_i |a*_i|
    counts: np.ndarray  # (T,3) neurons per fate
    balance: np.ndarray  # (T,m) |a_j|^2 - |w_j|^2
    orth_norm: np.ndarray  # (T,m) norm of the part of w_j orthogonal to the teacher span

    def as_arrays(self) -> dict[str, np.ndarray]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, np.ndarray)}


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
    teacher_a: np.ndarray | None = None,
    *,
    aligned_deg: float = ALIGNED_DEG,
    dead_shrink: float = DEAD_SHRINK,
    dead_scale: float = DEAD_SCALE,
) -> Metrics:
    """Metrics for snapshots w (T,m,d), a (T,m) in time order against unit teachers (k,d).

    teacher_a (k,): the teacher's output weights, whose total sum_i |a*_i| sets the scale of
    "dead"; None counts each teacher as weight 1. A neuron is dead at snapshot t when its mass is
    at most dead_shrink times its largest mass in snapshots 0..t and below dead_scale * sum_i |a*_i|
    (a zero neuron is dead; a neuron that started small and stayed small is not).
    """
    k = teacher_w.shape[0]
    wn = np.linalg.norm(w, axis=-1)  # (T,m)
    mass = np.abs(a) * wn
    nearest, angle = line_angles(w, teacher_w)
    total_a = float(np.abs(teacher_a).sum()) if teacher_a is not None else float(k)
    dead_floor = dead_scale * total_a
    peak = np.maximum.accumulate(mass, axis=0) if mass.size else mass  # largest mass so far, per neuron
    fate = np.full(mass.shape, UNDECIDED, dtype=np.int8)
    fate[angle <= aligned_deg] = ALIGNED
    fate[(mass <= dead_shrink * peak) & (mass < dead_floor)] = DEAD
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
        total_mass=mass.sum(-1),
        dead_floor=dead_floor,
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


def headline(run, i: int) -> str:
    """What snapshot i shows, in words, e.g. '28 of 30 neurons on a teacher line, 2 vanished'."""
    n_al, n_dead, n_und = (int(x) for x in run.metrics.counts[i])
    parts = [f"{n_al} of {run.config.m} neurons on a teacher line"]
    if n_dead:
        parts.append(f"{n_dead} vanished")
    if n_und:
        parts.append(f"{n_und} undecided")
    return ", ".join(parts)


def how_to_read_markdown() -> str:
    """The words of the figures defined once, with the thresholds the code uses (Markdown)."""
    return (
        "**How to read this.** Each dot is one student neuron j.\n"
        "- **mass** = |aⱼ|·‖wⱼ‖, the size of the neuron's contribution; the dot's area grows with it.\n"
        f"- **aligned**: within {ALIGNED_DEG:g}° of a teacher line ±w*ᵢ (drawn in that teacher's colour).\n"
        f"- **dead** (vanished): its mass shrank to at most {DEAD_SHRINK:g}× the largest it had so far "
        f"and is below {DEAD_SCALE:g}·Σ|a*ᵢ|. A neuron that starts small is not dead.\n"
        "- **undecided**: neither, yet.\n"
        "- **captured mass** of teacher i = Σ aⱼ‖wⱼ‖ over the neurons aligned to it (signed); "
        "recovery means it reaches a*ᵢ.\n"
        "- **total mass** = Σⱼ |aⱼ|‖wⱼ‖, set against Σᵢ |a*ᵢ|, the mass the teacher itself needs: "
        "any excess is mass that cancels out or sits off the lines.\n"
        "- **far mass** = Σⱼ |aⱼ|‖wⱼ‖·δⱼ² with δⱼ the angle (radians) to the nearest teacher line; "
        "it is 0 exactly when all the mass sits on teacher lines.\n"
        "- **λ** is the weight decay of each step. With algo=paper its stage-1 point is 1/η = init/η₁ "
        "(0.0033 at init 0.01, η₁ = 3): that weight decay makes the one large step W ← −η·∂L/∂W."
    )


# Why small-init runs without weight decay still align (the Playground's default init with λ = 0).
SMALL_INIT_NOTE = (
    "With a small init and λ = 0 most neurons still align: starting near zero, a neuron grows fastest "
    "along the teacher directions, so the early dynamics turn it onto a teacher line before it carries "
    "mass. What λ adds is the clean-up: without it nothing removes surplus mass, so neurons that went "
    "the wrong way are never killed and the total mass can exceed Σ|a*ᵢ|."
)


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
