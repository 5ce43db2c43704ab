"""The theorem, measured: under a run with λ > 0, its far mass against the certificate's bound, the λ² law
and (algo=paper) the loss at the end of each stage."""

from __future__ import annotations

import numpy as np
import streamlit as st

from featviz.bounds import mass_objective, orthonormal_optimum, reference_config
from featviz.budget import BudgetError, budget_limits, check_budget, work_of
from featviz.chart import static_chart
from featviz.config import Config
from featviz.jobs import DONE
from featviz.run import Run
from featviz.theorem_views import BoundOnRun, Lam2Law, StageLosses, bound_frames, exact_reference
from featviz.ui.runs import manager

SECTION_TITLE = "The theorem, measured"


@st.cache_data(max_entries=64, show_spinner=False)
def sphere_certificate_of(teacher_w: np.ndarray, teacher_a: np.ndarray):
    """The certificate on the whole sphere for these teachers (about a second: computed once)."""
    from featviz.certificate import sphere_certificate

    return sphere_certificate(teacher_w, teacher_a)


def teachers_certificate(cfg: Config):
    """The sphere certificate of the teachers cfg draws (the same seed and teachers as its run), cached."""
    from featviz.engine import make_teachers

    teacher_w, teacher_a, _ = make_teachers(cfg, np.random.default_rng(cfg.seed))
    return sphere_certificate_of(teacher_w, teacher_a)


def reference_configs(run: Run) -> dict[float, Config]:
    """λ -> the long constant-λ run whose last mass objective estimates L_λ*, for each λ the bound needs."""
    lams = sorted({float(x) for x in run.lam[bound_frames(run)]})
    return {lam: reference_config(run.config, lam) for lam in lams}


def theorem_panels(run: Run, *, key: str | None = None) -> None:
    """The section "The theorem, measured" for a run with λ > 0; nothing for λ = 0."""
    if run is None or not run.config.lam > 0:
        return
    key = key or run.config.key()[:10]
    with st.expander(SECTION_TITLE, expanded=True, icon=":material/functions:"):
        if run.status != "ok":
            st.info("This run diverged: there is no optimum it approaches, so nothing to measure against the theorem.")
            return
        bound_box = st.container()
        law_box = st.container()
        stage_box = st.container() if run.config.algo == "paper" else None
        _lam2_panel(law_box, run, key)
        if stage_box is not None:
            _stage_panel(stage_box, run, key)
        _bound_panel(bound_box, run, key)


def _lam2_panel(box, run: Run, key: str) -> None:
    from featviz.figures import lam2_figure

    law = Lam2Law.from_run(run)
    if law.lam.size == 0:
        box.info("The λ² law needs at least one epoch of gradient descent with λ > 0.")
        return
    if law.exact_lam is not None:
        say = (
            f"For orthonormal teachers the regularised optimum is exact: its mse is k λ²/(4 K̃(1)) while every "
            f"teacher survives. The run's epoch ends lie within {law.max_relative_error:.1%} of that line"
        )
    else:
        say = "For these teachers there is no closed form: the dashed line is a least-squares fit to the epoch ends"
        if law.lam.size < 2:
            say = ""
    if law.lam.size >= 2:
        say += f"; fitted slope **{law.slope:.2f}** (the law says 2)."
    elif law.exact_lam is not None:
        say = f"{say} (one epoch: one point, no slope)."
    else:
        say = "With one epoch there is one point and no slope to fit."
    box.markdown(
        f"**The λ² law.** At the end of each epoch (λ fixed) gradient descent is near the optimum of L_λ, whose "
        f"loss is of order λ². {say}"
    )
    with box:
        static_chart(lam2_figure(law), key=f"theorem_lam2_{key}")


def _stage_panel(box, run: Run, key: str) -> None:
    from featviz.figures import stage_loss_figure

    s = StageLosses.from_run(run)
    box.markdown(
        f"**The loss at the end of each stage.** The local analysis starts below a loss threshold: stage 2 (the "
        f"ridge fit) ends at **{s.share_of('stage 2'):.1%}** of the linear floor {s.floor:.4f} (the three-stage "
        f"check needs ≤ {s.threshold:.0%}); stage 3 then descends locally to {s.mse[-1]:.2g}."
    )
    with box:
        static_chart(stage_loss_figure(s), key=f"theorem_stages_{key}")


def _bound_panel(box, run: Run, key: str) -> None:
    from featviz.figures import bound_figure

    box.markdown(
        "**The certificate's bound.** A dual certificate η with margin ρ bounds the mass far from the teacher "
        "lines by the optimality gap: Σ|a_j||w_j|δ_j² ≤ (L_λ − L_λ*)/(λρ). The solid curve must stay under the "
        "dashed one; a cross marks a frame where it does not."
    )
    cert = sphere_certificate_of(run.teacher_w, run.teacher_a)
    if not cert.valid:
        box.info(f"No certificate was found for these teachers, so there is no bound to draw: {cert.reason}.")
        return
    if exact_reference(run):
        ref, how = (lambda lam: orthonormal_optimum(run.teacher_a, lam)["objective"]), "exact (orthonormal teachers)"
    else:
        ref = _reference_objectives(box, run)
        if ref is None:
            return
        how = "a 20,000-step run at each λ (an estimate from above)"
    b = BoundOnRun.from_run(run, cert.rho, ref, norm2=cert.norm2, reference=how)
    with box:
        static_chart(bound_figure(b), key=f"theorem_bound_{key}")
    verdict = "holds at every frame" if not b.n_violated else f"is exceeded at {b.n_violated} frames (a finding)"
    box.caption(
        f"ρ = {cert.rho:.3g} (the whole sphere; in the teachers' span {cert.rho_span:.3g}). The bound {verdict}."
    )


def _reference_objectives(box, run: Run):
    """λ -> L_λ* from the reference runs (trained through the shared job manager, cached like any run),
    or None when they are over the budget, failed, or still train (said in `box`)."""
    refs = reference_configs(run)
    total = sum(work_of(c) for c in refs.values())
    max_work, _ = budget_limits()
    try:
        for c in refs.values():
            check_budget(c)
        if total > max_work:
            raise BudgetError(f"together they are {total:.3g} units of work, over this server's cap {max_work:.3g}")
    except BudgetError as e:
        box.info(
            f"The bound needs L_λ*, estimated from a long run at each of the {len(refs)} values of λ; these runs "
            f"are not trained here: {e}"
        )
        return None
    mgr = manager()
    jobs = {lam: mgr.submit(c) for lam, c in refs.items()}
    if not all(j.wait(0.5) for j in jobs.values()):
        slot = box.empty()
        while True:
            # One list per pass: a job may finish between two looks at the jobs.
            waiting = [j for j in jobs.values() if not j.finished]
            done = len(jobs) - len(waiting)
            slot.progress(
                done / len(jobs),
                text=f"Training the reference runs for L_λ* ({done} of {len(jobs)} done; each is cached)…",
            )
            if not waiting:
                break
            waiting[0].wait(0.3)
        slot.empty()
    failed = [lam for lam, j in jobs.items() if j.state != DONE]
    if failed:
        box.info(f"The reference runs for L_λ* did not finish (λ = {', '.join(f'{x:g}' for x in failed)}).")
        return None
    teacher = float(np.abs(run.teacher_a).sum())
    best = {lam: min(float(mass_objective(j.run)[-1]), lam * teacher) for lam, j in jobs.items()}
    return lambda lam: best.get(float(lam), np.nan)
