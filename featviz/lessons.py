"""Lessons: preset configs that reproduce the paper's claims, each with a check computed from its run."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from featviz.config import Config
from featviz.exact import INV_SQRT_2PI, kernel, population_mse
from featviz.run import STAGE_1, STAGE_2, STAGE_3, STAGE_INIT, Run


@dataclass(frozen=True)
class Check:
    passed: bool
    measured: str  # what was measured, with numbers
    values: dict[str, float] = field(default_factory=dict)  # the same numbers, by name (JSON for the CLI)


@dataclass(frozen=True)
class Lesson:
    slug: str
    title: str
    explanation: str
    expect: str  # "what you should see"
    criterion: str  # the automatic check, in words
    config: Config
    check: Callable[[Run], Check]


def unfittable_mse(teacher_w: np.ndarray, teacher_a: np.ndarray) -> float:
    """E[f*^2] - (E f*)^2 - |E[x f*]|^2: the mse when every neuron is dead and alpha, beta are optimal."""
    total = float(teacher_a @ kernel(teacher_w) @ teacher_a)
    mean = float(teacher_a.sum() * INV_SQRT_2PI)  # teachers are unit
    lin = 0.5 * teacher_w.T @ teacher_a
    return total - mean**2 - float(lin @ lin)


def final_mse(run: Run, i: int = -1) -> float:
    """The exact population mse of snapshot i, recomputed from its parameters (not the recorded number)."""
    return float(population_mse(run.w[i], run.a[i], float(run.alpha[i]), run.beta[i], run.teacher_w, run.teacher_a))


def stage_losses(run: Run) -> dict[str, float]:
    """The mse at the end of each stage of an algo=paper run and the linear floor they are measured against.

    Keys: 'floor' (unfittable_mse: what alpha + beta.x alone leaves), 'init', 'stage 1', 'stage 2', 'stage 3'
    (the last snapshot), and each stage's mse as a share of the floor ('stage 2 / floor', ...). A stage with
    no snapshot (a gd run, or a run that diverged before it) is left out.
    """
    floor = unfittable_mse(run.teacher_w, run.teacher_a)
    out = {"floor": floor}
    for code, name in ((STAGE_INIT, "init"), (STAGE_1, "stage 1"), (STAGE_2, "stage 2"), (STAGE_3, "stage 3")):
        idx = np.flatnonzero(run.stage == code)
        if idx.size:
            out[name] = float(run.mse[idx[-1]])
            out[f"{name} / floor"] = out[name] / floor
    return out


def _recovered(
    run: Run, i: int = -1, *, max_deg: float = 2.0, mass_floor: float = 1e-3, tol: float = 0.05, max_mse: float = 1e-5
) -> Check:
    met = run.metrics
    big = met.mass[i] > mass_floor
    worst = float(met.line_angle_deg[i][big].max()) if big.any() else 0.0
    err = float(np.abs(met.captured[i] - run.teacher_a).max())
    mse = final_mse(run, i)
    ok = run.status == "ok" and worst <= max_deg and err <= tol and mse <= max_mse
    return Check(
        bool(ok),
        f"{int(big.sum())} neurons with mass > {mass_floor:g}; the farthest is {worst:.2f}° from a teacher line "
        f"(need ≤ {max_deg:g}°); captured mass differs from a* by at most {err:.3f} (need ≤ {tol:g}); "
        f"final mse {mse:.2g} (need ≤ {max_mse:g}).",
        {"worst_angle_deg": worst, "captured_error": err, "final_mse": mse, "live": float(big.sum())},
    )


def _check_no_reg(run: Run) -> Check:
    met = run.metrics
    floor = unfittable_mse(run.teacher_w, run.teacher_a)
    mse = final_mse(run)
    share = mse / floor
    mass = met.mass[-1]
    far = float((mass * (met.line_angle_deg[-1] > 10.0)).sum() / max(mass.sum(), 1e-300))
    ok = run.status == "ok" and share <= 0.01 and far >= 0.5
    return Check(
        bool(ok),
        f"final mse {mse:.2g} is {share:.2%} of {floor:.4f}, the part of the target a linear function cannot fit "
        f"(need ≤ 1%), while {far:.0%} of the mass sits more than 10° from every teacher line (need ≥ 50%); far "
        f"mass Σ|aⱼ|‖wⱼ‖δ² = {float(met.far_mass[-1]):.3g}.",
        {
            "final_mse": mse,
            "linear_floor": floor,
            "mse_over_floor": share,
            "far_share": far,
            "far_mass": float(met.far_mass[-1]),
        },
    )


def _check_lazy(run: Run) -> Check:
    w0, w1 = run.w[0], run.w[-1]
    rel = float(np.linalg.norm(w1 - w0) / np.linalg.norm(w0))
    cos = (w0 * w1).sum(-1) / (np.linalg.norm(w0, axis=-1) * np.linalg.norm(w1, axis=-1))
    turn = float(np.median(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))))
    drop = float(run.mse[0] / max(run.mse[-1], 1e-300))
    ok = run.status == "ok" and drop >= 10 and turn <= 1.0 and rel <= 0.05
    return Check(
        bool(ok),
        f"mse fell {drop:.0f}× (need ≥ 10×) while the median neuron turned {turn:.2f}° (need ≤ 1°) and "
        f"W moved {rel:.1%} of its norm (need ≤ 5%).",
        {"mse_drop": drop, "median_turn_deg": turn, "w_relative_move": rel},
    )


def _check_early(run: Run) -> Check:
    idx = np.flatnonzero(run.stage == STAGE_1)
    if run.status != "ok" or idx.size == 0:
        return Check(False, "no stage-1 snapshot in this run")
    i = int(idx[0])
    met = run.metrics
    norms = np.linalg.norm(run.w[i], axis=-1)
    out_of_span = float(np.median(met.orth_norm[i] / np.maximum(norms, 1e-300)))
    k, d = run.teacher_w.shape
    chance = math.sqrt((d - k) / d)  # expected share outside the span for a random direction
    angle = float(np.median(met.line_angle_deg[i]))
    ok = out_of_span <= 0.3 and angle >= 10.0
    return Check(
        bool(ok),
        f"after the one large step the median neuron has {out_of_span:.0%} of its norm outside the teacher span "
        f"(a random direction: {chance:.0%}; need ≤ 30%) and is {angle:.1f}° from its nearest teacher line "
        f"(need ≥ 10°: in the span, not yet aligned).",
        {"out_of_span_share": out_of_span, "random_share": chance, "median_angle_deg": angle},
    )


STAGE2_MAX_SHARE = 0.2  # stage 2 must end below this share of the linear floor
LOCAL_MIN_SHARE = 0.9  # share of the final mass that stays in the neighbourhood it had after stage 2


def _check_three_stages(run: Run) -> Check:
    """Stage 2 ends in the local regime (low loss; neurons already in the neighbourhood they end in),
    then stage 3 recovers the teachers."""
    idx = np.flatnonzero(run.stage == STAGE_2)
    if run.status != "ok" or idx.size == 0:
        return Check(False, "no stage-2 snapshot in this run (not algo=paper, or it diverged)")
    i = int(idx[-1])
    met = run.metrics
    floor = unfittable_mse(run.teacher_w, run.teacher_a)
    s2 = final_mse(run, i)
    share = s2 / floor
    # Neighbourhood T_i after stage 2: the neurons nearest to teacher line i. Stage 3 is local when
    # the mass ends on the line whose neighbourhood it was already in.
    mass = met.mass[-1]
    stayed = float((mass * (met.nearest[i] == met.nearest[-1])).sum() / max(mass.sum(), 1e-300))
    rec = _recovered(run)
    ok = share <= STAGE2_MAX_SHARE and stayed >= LOCAL_MIN_SHARE and rec.passed
    return Check(
        bool(ok),
        f"after stage 2 the mse is {s2:.3g}, {share:.0%} of the linear floor {floor:.4f} (need ≤ "
        f"{STAGE2_MAX_SHARE:.0%}); {stayed:.1%} of the final mass ends on the teacher line nearest to it after "
        f"stage 2 (need ≥ {LOCAL_MIN_SHARE:.0%}: stage 3 is local). Then: " + rec.measured,
        {"stage2_mse": s2, "linear_floor": floor, "stage2_over_floor": share, "mass_kept_neighbourhood": stayed}
        | rec.values,
    )


def _check_too_much(run: Run) -> Check:
    met = run.metrics
    dead = int(met.counts[-1, 1])
    floor = unfittable_mse(run.teacher_w, run.teacher_a)
    mse = final_mse(run)
    rel = abs(mse - floor) / floor
    ok = run.status == "ok" and dead == run.config.m and rel <= 0.05
    return Check(
        bool(ok),
        f"{dead} of {run.config.m} neurons dead (need all); final mse {mse:.4f} vs {floor:.4f}, the part "
        f"of the target a linear function cannot fit ({rel:.1%} apart, need ≤ 5%).",
        {"dead": float(dead), "final_mse": mse, "linear_floor": floor, "relative_gap": rel},
    )


def _check_sign(run: Run) -> Check:
    met = run.metrics
    aligned = met.fate[-1] == 0
    w = run.w[-1]
    near = met.nearest[-1]
    side = np.sign((w * run.teacher_w[near]).sum(-1))
    neg = int((aligned & (side < 0)).sum())
    pos = int((aligned & (side > 0)).sum())
    err = float(np.abs(met.captured[-1] - run.teacher_a).max())
    mse = final_mse(run)
    ok = run.status == "ok" and neg >= 1 and pos >= 1 and err <= 0.05 and mse <= 1e-5
    return Check(
        bool(ok),
        f"{neg} aligned neurons sit on −w*ᵢ and {pos} on +w*ᵢ (need ≥ 1 each); captured mass, which counts both "
        f"sides, is within {err:.3f} of a* (need ≤ 0.05); final mse {mse:.2g} (need ≤ 1e-05).",
        {"on_minus": float(neg), "on_plus": float(pos), "captured_error": err, "final_mse": mse},
    )


SURPLUS_DEAD_MASS = 1e-6  # far below metrics.DEAD_MASS: a surplus neuron must be really gone


def _check_surplus(run: Run) -> Check:
    """At least a third of the neurons are dead (mass ≤ 1e-6, a thousand times below the fate
    threshold), every other neuron is within 2° of a teacher line, the captured mass matches a*
    and nothing is left between (no neuron with a mass between 1e-6 and 1e-3)."""
    met = run.metrics
    mass = met.mass[-1]
    m = run.config.m
    dead = mass <= SURPLUS_DEAD_MASS
    live = mass >= 1e-3
    between = int((~dead & ~live).sum())
    worst = float(met.line_angle_deg[-1][live].max()) if live.any() else 90.0
    err = float(np.abs(met.captured[-1] - run.teacher_a).max())
    ok = run.status == "ok" and dead.sum() >= m / 3 and between == 0 and worst <= 2.0 and err <= 0.05
    return Check(
        bool(ok),
        f"{int(dead.sum())} of {m} neurons dead with mass ≤ {SURPLUS_DEAD_MASS:g} (need ≥ {math.ceil(m / 3)}), "
        f"{int(live.sum())} live (mass ≥ 1e-3), {between} in between (need 0); the farthest live neuron is "
        f"{worst:.2f}° from a teacher line (need ≤ 2°); captured mass within {err:.3f} of a* (need ≤ 0.05).",
        {
            "dead": float(dead.sum()),
            "live": float(live.sum()),
            "between": float(between),
            "worst_angle_deg": worst,
            "captured_error": err,
            "largest_dead_mass": float(mass[dead].max()) if dead.any() else 0.0,
        },
    )


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "recovery",
        "1 · Weight decay recovers the teacher directions",
        "The paper's main claim. Train a student of 30 neurons on a teacher with 3 orthonormal directions, with "
        "weight decay λ halved every epoch. Near the end of training, weight decay acts like an ℓ₁ penalty on "
        "each neuron's mass |aⱼ|‖wⱼ‖, so every neuron must either sit on a teacher line or shrink to zero.",
        "Neurons gather on the three teacher lines (both ends of each line count); the captured mass of each "
        "teacher approaches its a*ᵢ; the mse falls below 1e-5.",
        "Every neuron with mass > 1e-3 is within 2° of a teacher line, captured mass is within 0.05 of a* and "
        "the final mse (recomputed from the last snapshot) is ≤ 1e-5.",
        Config(),
        _recovered,
    ),
    Lesson(
        "no-regularization",
        "2 · Without regularization: low loss, features not recovered",
        "Set λ = 0 and start from a larger init. Gradient descent still drives the loss down, but nothing "
        "forces neurons onto teacher directions: many stay where they are, their contributions cancelling.",
        "The mse falls by orders of magnitude, yet most neurons stay scattered, far from every teacher line, "
        "with large masses of both signs.",
        "The final mse is at most 1% of the part of the target a linear function cannot fit, yet at least half of "
        "the total mass is more than 10° from every teacher line.",
        Config(m=40, lam=0.0, init=1.0, epochs=4, steps=500, lr=0.05),
        _check_no_reg,
    ),
    Lesson(
        "lazy",
        "3 · The lazy (NTK) regime",
        "With a large symmetric init (pairs (a, w), (−a, w), so f = 0 at the start) and small steps, the "
        "network behaves like its linearisation: the loss falls while each neuron barely moves. Features are "
        "not learned, they are only reweighted.",
        "In the neuron view nothing seems to move, but the mse curve falls.",
        "The mse falls at least 10× while the median neuron turns by at most 1° and W moves at most 5%.",
        Config(m=100, lam=0.0, init=2.0, symmetric="yes", epochs=1, steps=1000, lr=0.002),
        _check_lazy,
    ),
    Lesson(
        "early-stage",
        "4 · Early-stage feature learning: one large step",
        "Stage 1 of the paper's algorithm: from a symmetric small init, one large gradient step on W (with weight "
        "decay 1/η, so W ← −η·∂L/∂W). The step moves every neuron into the span of the teacher directions, "
        "weighted by its correlation with each teacher, but does not align it with one teacher.",
        "Move the slider to the 'stage 1' frame: the points lie close to the teacher span (small norm outside it) "
        "but between the teacher lines.",
        "After stage 1, the median neuron has ≤ 30% of its norm outside the teacher span, and is ≥ 10° from "
        "its nearest teacher line.",
        Config(algo="paper", init=0.01, eta1=3.0),
        _check_early,
    ),
    Lesson(
        "three-stages",
        "5 · The full three-stage algorithm",
        "The paper's pipeline: (1) one large step on W, (2) ridge regression for the output weights a with W "
        "fixed, (3) gradient descent on the regularised loss with λ decreasing. Stage 3 is the local analysis: "
        "below a loss threshold, neurons converge to teacher lines or to zero. A student of 74 neurons (37 "
        "lines after stage 1) is wide enough for the ridge fit of stage 2 to reach the local regime.",
        "Stage labels on the slider; after stage 2 the mse is already below a fifth of what a linear function "
        "leaves, and in stage 3 each neuron's mass stays with the teacher it was nearest to and snaps onto its line.",
        "After stage 2 the mse is ≤ 20% of the linear floor and ≥ 90% of the final mass ends on the teacher line "
        "nearest to it after stage 2; at the end every neuron with mass > 1e-3 is within 2° of a teacher line, "
        "captured mass is within 0.05 of a* and the mse ≤ 1e-5.",
        Config(algo="paper", init=0.01, eta1=3.0, m=74),
        _check_three_stages,
    ),
    Lesson(
        "too-much-regularization",
        "6 · Too much regularization: every neuron dies",
        "With a large λ, the penalty on each neuron's mass outweighs what it can explain of the target: every "
        "neuron shrinks to zero. Only α + β·x remains, which fits the target's mean and linear part.",
        "All points collapse to the origin; the mse stalls at the part of the target that a linear function "
        "cannot fit.",
        "All neurons dead, and the final mse within 5% of E[f*²] − (E f*)² − |E[x f*]|².",
        Config(lam=2.0, lam_decay=1.0, epochs=1, steps=1000),
        _check_too_much,
    ),
    Lesson(
        "sign-symmetry",
        "7 · Sign symmetry: −w*ᵢ counts as recovered",
        "relu(z) = z/2 + |z|/2, so a neuron on −w*ᵢ computes the same thing as one on +w*ᵢ up to a linear "
        "term, which α + β·x absorbs. Closeness to a teacher is closeness to the line ±w*ᵢ.",
        "Two planar teachers with opposite signs: neurons settle on both ends of each teacher line, and the "
        "captured mass (both ends together) still matches a*.",
        "At least one aligned neuron on each side (+w*ᵢ and −w*ᵢ), captured mass within 0.05 of a*, final mse ≤ 1e-5.",
        Config(d=6, k=2, teachers="planar", angles=(0.0, 75.0), a_star=(1.0, -1.0), m=24),
        _check_sign,
    ),
    Lesson(
        "surplus-dies",
        "8 · Weight decay kills the surplus",
        "A student of 40 neurons on 3 teachers that all have a*ᵢ = +1. Gradient descent from a small balanced "
        "init keeps the sign of each aⱼ (aⱼ² − ‖wⱼ‖² is conserved without weight decay), so the neurons that "
        "start with aⱼ < 0 can only cancel the others: weight decay drives them to zero, while the rest align "
        "with the teacher lines and share their a*ᵢ.",
        "About half the points shrink to the origin and stay there; the others gather on the three teacher lines; "
        "the captured mass of each teacher approaches 1.",
        "At least a third of the neurons dead (mass ≤ 1e-6), none with a mass between 1e-6 and 1e-3, every live "
        "neuron within 2° of a teacher line and captured mass within 0.05 of a*.",
        Config(m=40, a_star=(1.0, 1.0, 1.0)),
        _check_surplus,
    ),
)

BY_SLUG = {lesson.slug: lesson for lesson in LESSONS}
