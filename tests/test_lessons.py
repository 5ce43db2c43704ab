"""Every lesson's check passes on its preset and fails on a counterfactual that breaks exactly its claim."""

import dataclasses

import numpy as np
import pytest

from featviz.engine import train
from featviz.exact import population_mse
from featviz.lessons import BY_SLUG, LESSONS, stage_losses, unfittable_mse

RUNS: dict = {}


def run_of(slug):
    if slug not in RUNS:
        RUNS[slug] = train(BY_SLUG[slug].config)
    return RUNS[slug]


def check(slug, run):
    return BY_SLUG[slug].check(run)


@pytest.mark.parametrize("slug", [lesson.slug for lesson in LESSONS])
def test_each_lesson_check_passes_on_its_preset(slug):
    result = check(slug, run_of(slug))
    assert result.passed, result.measured
    assert any(ch.isdigit() for ch in result.measured)  # it reports what it measured
    assert result.values and all(np.isfinite(v) for v in result.values.values())


def test_recovery_fails_without_alpha_beta():
    # The last frame with alpha and beta zeroed: neurons and captured mass unchanged, mse 0.036.
    run = run_of("recovery")
    bad = dataclasses.replace(run, alpha=np.zeros_like(run.alpha), beta=np.zeros_like(run.beta), _metrics=None)
    result = check("recovery", bad)
    assert not result.passed
    assert result.values["final_mse"] == pytest.approx(0.0365, abs=1e-3)
    assert result.values["worst_angle_deg"] <= 2.0  # only the mse broke
    assert not check("recovery", run_of("no-regularization")).passed


def test_no_regularization_fails_where_the_loss_has_not_fallen_or_features_are_learned():
    run = run_of("no-regularization")
    first = run.frames_subset([0])  # the mse is 11, far above the linear floor 0.2725
    result = check("no-regularization", first)
    assert not result.passed and result.values["mse_over_floor"] > 1
    assert not check("no-regularization", run_of("recovery")).passed  # features learned: no far mass


def test_lazy_fails_when_neurons_move():
    result = check("lazy", run_of("recovery"))
    assert not result.passed and result.values["median_turn_deg"] > 1.0


def test_early_stage_fails_when_the_step_leaves_neurons_where_they_were():
    run = run_of("early-stage")
    w = run.w.copy()
    i = int(np.flatnonzero(run.stage == 1)[0])
    w[i] = run.w[0]  # a "stage 1" that did not move the neurons: random directions, mostly off the span
    result = check("early-stage", dataclasses.replace(run, w=w, _metrics=None))
    assert not result.passed and result.values["out_of_span_share"] > 0.5
    assert not check("early-stage", run_of("recovery")).passed  # gd: no stage 1 at all


def test_three_stages_fails_when_stage_one_does_nothing():
    cfg = BY_SLUG["three-stages"].config.replace(eta1=0.01)
    result = check("three-stages", train(cfg))
    assert not result.passed
    assert result.values["stage2_over_floor"] > 0.9  # stage 2 fits almost nothing


def test_three_stages_fails_outside_the_local_regime():
    # The old preset (m = 30) recovers the teachers, but stage 2 ends at 46% of the floor.
    result = check("three-stages", train(BY_SLUG["three-stages"].config.replace(m=30)))
    assert not result.passed
    assert result.values["stage2_over_floor"] > 0.4
    assert result.values["worst_angle_deg"] <= 2.0


def test_stage_losses_of_the_three_stage_preset():
    losses = stage_losses(run_of("three-stages"))
    assert losses["floor"] == pytest.approx(0.27253517, rel=1e-6)
    assert losses["stage 2 / floor"] < 0.2 < losses["stage 1 / floor"]
    assert losses["stage 3"] < 1e-5


def test_too_much_fails_when_neurons_survive():
    result = check("too-much-regularization", run_of("recovery"))
    assert not result.passed and result.values["dead"] == 0


def test_sign_symmetry_fails_when_every_neuron_is_on_one_side():
    run = run_of("sign-symmetry")
    met = run.metrics
    side = np.sign((run.w[-1] * run.teacher_w[met.nearest[-1]]).sum(-1))
    w = run.w.copy()
    w[-1] = run.w[-1] * side[:, None]  # mirror the -w* neurons onto +w*: same masses, one side only
    alpha, beta = run.alpha.copy(), run.beta.copy()
    result = check("sign-symmetry", dataclasses.replace(run, w=w, alpha=alpha, beta=beta, _metrics=None))
    assert not result.passed and result.values["on_minus"] == 0


def test_surplus_dies_fails_without_weight_decay():
    cfg = BY_SLUG["surplus-dies"].config.replace(lam=0.0)
    result = check("surplus-dies", train(cfg))
    assert not result.passed and result.values["dead"] < 10


def test_surplus_dead_neurons_are_far_below_the_threshold():
    values = check("surplus-dies", run_of("surplus-dies")).values
    assert values["dead"] >= 14 and values["largest_dead_mass"] < 1e-8


def test_final_mse_is_recomputed_from_the_parameters():
    run = run_of("recovery")
    i = -1
    mse = population_mse(run.w[i], run.a[i], float(run.alpha[i]), run.beta[i], run.teacher_w, run.teacher_a)
    assert check("recovery", run).values["final_mse"] == pytest.approx(float(mse), rel=1e-9)


def test_unfittable_mse_matches_the_closed_form_for_orthonormal_teachers():
    # Orthonormal unit teachers, a* = (1, -1, 1): each relu keeps K~(1) = 1/4 - 1/(2 pi) after
    # removing its mean and linear part, and distinct orthonormal teachers share K~(0) = 0.
    tw = np.eye(5)[:3]
    ta = np.array([1.0, -1.0, 1.0])
    assert unfittable_mse(tw, ta) == pytest.approx(3 * (0.25 - 1 / (2 * np.pi)), rel=1e-12)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda les: les.slug)
def test_lesson_texts_write_maths_as_the_theory_page_does(lesson):
    """Unicode maths (|aⱼ|‖wⱼ‖, ℓ₁, α + β·x), never code-like spellings; the check reads as a sentence."""
    for text in (lesson.title, lesson.explanation, lesson.expect, lesson.criterion):
        for raw in ("_j", "_i", "_W", "l1 ", "alpha", "beta", "||"):
            assert raw not in text, (raw, text)
    assert lesson.criterion[0].isupper(), lesson.criterion  # shown after "Check."
