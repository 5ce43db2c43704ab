"""The certificate's bound on a run's far mass and the lambda^2 law of the regularised optimum (pure functions).

Bound (PAPER.md section 4, constants reconstructed). With signed masses mu_j = a_j |w_j|, the mass
objective L_lam = L + lam sum_j |mu_j| (what L + lam/2 (|a|^2 + |W|^2) equals at balance, and never
exceeds) and a certificate eta = <relu~_w, g> with rho, for any network
    sum_j |mu_j| delta_j^2  <=  (L_lam - L_lam(teacher)) / (lam rho) + lam |g|^2 / (4 rho),
where L_lam(teacher) = lam sum_i |a*_i| >= L_lam*. PAPER.md's form drops the last term and uses the
optimal L_lam*: `paper_bound`. `safe_bound` adds the term and is what the derivation guarantees.
"""

from __future__ import annotations

import numpy as np

from featviz.certificate import K_ONE
from featviz.config import Config


def mass_objective(run) -> np.ndarray:
    """(T,) train_loss + lam sum_j |a_j||w_j|: the objective the bound is about (<= run.objective)."""
    return run.train_loss + run.lam * run.metrics.mass.sum(-1)


def orthonormal_optimum(a_star, lam: float) -> dict:
    """The exact regularised optimum for orthonormal teachers: captured mass a*_i - sign(a*_i) lam/(2 K~(1))
    (0 when lam/(2 K~(1)) >= |a*_i|), mse sum_i K~(1) (a*_i - mu_i)^2 (= k lam^2/(4 K~(1)) while every teacher
    survives) and the optimal mass objective L_lam*."""
    a = np.asarray(a_star, dtype=float)
    shrink = lam / (2.0 * K_ONE)
    mu = np.sign(a) * np.maximum(np.abs(a) - shrink, 0.0)
    mse = float(K_ONE * ((a - mu) ** 2).sum())
    return {"captured": mu, "mse": mse, "objective": mse + lam * float(np.abs(mu).sum())}


def lam2_law_mse(k: int, lam):
    """k lam^2 / (4 K~(1)): the optimum's mse for k orthonormal teachers (lam small enough that all survive)."""
    return k * np.asarray(lam, dtype=float) ** 2 / (4.0 * K_ONE)


def epoch_end_points(run) -> dict[str, np.ndarray]:
    """For each epoch of gradient descent, its lam and the mse of its last recorded snapshot (and that step).

    The snapshots sit on a log grid, so 'step' may fall short of the epoch's last step; 'epoch_end' says where
    the epoch ended. Stage 1 and 2 snapshots are left out.
    """
    cfg = run.config
    offset = cfg.stage_steps
    gd = run.step > offset
    epoch = np.where(gd, (run.step - offset - 1) // cfg.steps, -1)
    lam, mse, step, end = [], [], [], []
    for e in np.unique(epoch[gd]):
        i = int(np.flatnonzero(epoch == e)[-1])
        lam.append(run.lam[i])
        mse.append(run.mse[i])
        step.append(run.step[i])
        end.append(offset + (e + 1) * cfg.steps)
    return {"lam": np.array(lam), "mse": np.array(mse), "step": np.array(step), "epoch_end": np.array(end)}


def reference_config(cfg: Config, lam: float, *, steps: int = 20_000) -> Config:
    """A long run of the same teachers at constant lam: its last mass objective estimates L_lam*.

    Same teachers (seed, teacher parameters), plain gd, lam fixed, a small init; an estimate from above
    (a run never goes below the optimum), so a gap computed with it is never overstated... only understated
    if the reference has not converged.
    """
    return cfg.replace(
        algo="gd", lam=float(lam), lam_decay=1.0, epochs=1, steps=steps, init=0.1, frames=20, data="population"
    )


def far_mass_bound(run, rho: float, reference_objective, norm2: float | None = None) -> dict[str, np.ndarray]:
    """Per frame: far mass, the paper's bound (L_lam - L_lam*)/(lam rho) and, with |g|^2 given, the safe bound.

    reference_objective: L_lam* for each frame's lam, an array (T,) or a callable lam -> L_lam*. Frames with
    lam = 0 get NaN bounds (no bound without weight decay).
    """
    lam = run.lam
    if callable(reference_objective):
        ref = np.array([reference_objective(x) if x > 0 else np.nan for x in lam])
    else:
        ref = np.asarray(reference_objective, dtype=float)
    gap = mass_objective(run) - ref
    with np.errstate(divide="ignore", invalid="ignore"):
        paper = np.where(lam > 0, gap / (lam * rho), np.nan)
        out = {"far_mass": run.metrics.far_mass, "gap": gap, "paper_bound": paper}
        if norm2 is not None:
            out["safe_bound"] = np.where(lam > 0, paper + lam * norm2 / (4.0 * rho), np.nan)
    out["violated"] = np.nan_to_num(out["far_mass"] - paper, nan=-np.inf) > 0
    return out
