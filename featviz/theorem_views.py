"""The numbers the theorem figures draw: the certificate's bound on a run, the λ² law, the stage losses.

Each view is a frozen dataclass of plain arrays built from a run (and, for the bound, a certificate and
L_λ*); the figures in ``featviz.figures.theorem`` only draw them. No plotting, no UI, no torch here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from featviz.bounds import epoch_end_points, far_mass_bound, orthonormal_optimum
from featviz.run import STAGE_1, STAGE_2

LOOSE_FACTOR = 10.0  # a bound more than this many times the far mass is called loose
BOUND_FLOOR = 1e-12  # far masses and bounds below this are drawn at it (log axis)


def bound_frames(run) -> np.ndarray:
    """(T,) bool: the frames the bound is about — λ > 0 and not the paper algorithm's stage 1 or 2
    (stage 1 is one step with its own weight decay 1/η₁, stage 2 a ridge fit: neither descends on L_λ)."""
    return (run.lam > 0) & (run.stage != STAGE_1) & (run.stage != STAGE_2)


def exact_reference(run) -> bool:
    """True when L_λ* is known in closed form: orthonormal teachers (bounds.orthonormal_optimum)."""
    return run.config.teachers == "orthonormal"


@dataclass(frozen=True)
class BoundOnRun:
    """Far mass Σ|a_j||w_j|δ_j² per frame against (L_λ − L_λ*)/(λρ) (and the safe bound), PAPER.md 4."""

    step: np.ndarray  # (T,) steps of the frames the bound is about
    lam: np.ndarray  # (T,)
    far_mass: np.ndarray  # (T,)
    gap: np.ndarray  # (T,) L_λ − L_λ* (mass objective)
    paper_bound: np.ndarray  # (T,)
    safe_bound: np.ndarray | None  # (T,) or None when |g|² is unknown
    violated: np.ndarray  # (T,) bool: far mass above the paper's bound
    rho: float
    reference: str  # how L_λ* was obtained, in words

    @classmethod
    def from_run(cls, run, rho: float, reference_objective, *, norm2: float | None = None, reference: str = ""):
        """reference_objective: L_λ* per frame (T,), NaN where unknown, or a callable λ -> L_λ*."""
        keep = bound_frames(run)
        if callable(reference_objective):
            ref = np.array([reference_objective(x) if k else np.nan for x, k in zip(run.lam, keep, strict=True)])
        else:
            ref = np.where(keep, np.asarray(reference_objective, dtype=float), np.nan)
        out = far_mass_bound(run, rho, ref, norm2)
        idx = np.flatnonzero(keep & np.isfinite(ref))
        return cls(
            step=run.step[idx],
            lam=run.lam[idx],
            far_mass=out["far_mass"][idx],
            gap=out["gap"][idx],
            paper_bound=out["paper_bound"][idx],
            safe_bound=out["safe_bound"][idx] if "safe_bound" in out else None,
            violated=out["violated"][idx],
            rho=float(rho),
            reference=reference,
        )

    @property
    def ratio(self) -> np.ndarray:
        """Bound / far mass per frame (inf where the far mass is 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.paper_bound / np.maximum(self.far_mass, 1e-300)

    @property
    def n_loose(self) -> int:
        return int((self.ratio > LOOSE_FACTOR).sum())

    @property
    def n_violated(self) -> int:
        return int(self.violated.sum())

    def note(self) -> str:
        """When the bound is loose and why, and any violation, in one or two sentences."""
        if self.step.size == 0:
            return "No frame with λ > 0 to bound."
        r = self.ratio
        parts = []
        if self.n_violated:
            first = int(self.step[np.flatnonzero(self.violated)[0]])
            parts.append(
                f"The far mass exceeds the bound at {self.n_violated} of {self.step.size} frames (first at step "
                f"{first:,}): a finding about the reconstructed constants, shown as measured."
            )
        if self.n_loose:
            early = int(self.step[np.flatnonzero(r > LOOSE_FACTOR)[0]])
            parts.append(
                f"The bound is loose (over {LOOSE_FACTOR:g}× the far mass) at {self.n_loose} of {self.step.size} "
                f"frames, from step {early:,}: there the optimality gap L_λ − L_λ* is large (the run is far from "
                "the optimum, or λ has just dropped and the optimum with it) and the bound charges all of it to "
                "far mass."
            )
        last = float(r[-1])
        parts.append(
            f"Last frame: far mass {self.far_mass[-1]:.3g}, bound {self.paper_bound[-1]:.3g}"
            + (f" ({last:.3g}× the far mass)." if math.isfinite(last) else ".")
        )
        return " ".join(parts)


@dataclass(frozen=True)
class Lam2Law:
    """Per-epoch end mse against λ (PAPER.md 2: the regularised optimum has loss of order λ²)."""

    lam: np.ndarray  # (E,) λ of each epoch
    mse: np.ndarray  # (E,) mse of the epoch's last snapshot
    slope: float  # fitted slope of log mse against log λ (NaN with fewer than 2 epochs)
    intercept: float  # of the fit, log10
    exact_lam: np.ndarray | None  # (G,) grid of the exact line (orthonormal teachers), else None
    exact_mse: np.ndarray | None  # (G,) the optimum's mse, k λ²/(4 K̃(1)) while every teacher survives
    k: int

    @classmethod
    def from_run(cls, run) -> Lam2Law:
        pts = epoch_end_points(run)
        keep = (pts["lam"] > 0) & (pts["mse"] > 0) & np.isfinite(pts["mse"])
        lam, mse = pts["lam"][keep], pts["mse"][keep]
        if lam.size >= 2 and np.ptp(np.log10(lam)) > 0:
            slope, intercept = np.polyfit(np.log10(lam), np.log10(mse), 1)
        else:
            slope = intercept = float("nan")
        exact_lam = exact_mse = None
        if exact_reference(run) and lam.size:
            exact_lam = np.geomspace(lam.min() / 1.5, lam.max() * 1.5, 60)
            exact_mse = np.array([orthonormal_optimum(run.teacher_a, x)["mse"] for x in exact_lam])
        return cls(lam, mse, float(slope), float(intercept), exact_lam, exact_mse, int(run.config.k))

    @property
    def exact_at_points(self) -> np.ndarray | None:
        """The exact optimum's mse at each epoch's λ (orthonormal teachers), else None."""
        if self.exact_lam is None:
            return None
        # log-log interpolation: exact on the power law k λ²/(4 K̃(1))
        return np.exp(np.interp(np.log(self.lam), np.log(self.exact_lam), np.log(self.exact_mse)))

    @property
    def max_relative_error(self) -> float:
        """max |mse / exact − 1| over the epochs (NaN without the exact line)."""
        ex = self.exact_at_points
        if ex is None or not self.lam.size:
            return float("nan")
        return float(np.abs(self.mse / ex - 1.0).max())


@dataclass(frozen=True)
class StageLosses:
    """The mse at the end of each stage of an algo=paper run against the linear floor (lessons.stage_losses)."""

    names: tuple[str, ...]  # ('init', 'stage 1', 'stage 2', 'stage 3'), those the run has
    mse: np.ndarray  # (S,)
    floor: float  # what α + β·x alone leaves
    threshold: float  # the three-stage check's largest stage-2 share of the floor

    @classmethod
    def from_run(cls, run) -> StageLosses:
        from featviz.lessons import STAGE2_MAX_SHARE, stage_losses

        d = stage_losses(run)
        names = tuple(n for n in ("init", "stage 1", "stage 2", "stage 3") if n in d)
        return cls(names, np.array([d[n] for n in names]), float(d["floor"]), STAGE2_MAX_SHARE)

    @property
    def share(self) -> np.ndarray:
        return self.mse / self.floor

    def share_of(self, name: str) -> float:
        return float(self.share[self.names.index(name)]) if name in self.names else float("nan")
