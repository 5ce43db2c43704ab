"""Every lesson's automatic check passes on its preset, and the checks can fail."""

import numpy as np
import pytest

from featviz.engine import train
from featviz.lessons import BY_SLUG, LESSONS, unfittable_mse

RUNS: dict = {}


def run_of(slug):
    if slug not in RUNS:
        RUNS[slug] = train(BY_SLUG[slug].config)
    return RUNS[slug]


@pytest.mark.parametrize("slug", [lesson.slug for lesson in LESSONS])
def test_each_lesson_check_passes_on_its_preset(slug):
    result = BY_SLUG[slug].check(run_of(slug))
    assert result.passed, result.measured
    assert any(ch.isdigit() for ch in result.measured)  # it reports what it measured


def test_checks_fail_where_the_claim_does_not_hold():
    # Recovery does not hold without regularization, and nothing dies with the default lam.
    assert not BY_SLUG["recovery"].check(run_of("no-regularization")).passed
    assert not BY_SLUG["too-much-regularization"].check(run_of("recovery")).passed
    assert not BY_SLUG["lazy"].check(run_of("recovery")).passed
    assert not BY_SLUG["no-regularization"].check(run_of("recovery")).passed


def test_unfittable_mse_matches_the_closed_form_for_orthonormal_teachers():
    # Orthonormal unit teachers, a* = (1, -1, 1): each relu keeps K~(1) = 1/4 - 1/(2 pi) after
    # removing its mean and linear part, and distinct orthonormal teachers share K~(0) = 0.
    tw = np.eye(5)[:3]
    ta = np.array([1.0, -1.0, 1.0])
    assert unfittable_mse(tw, ta) == pytest.approx(3 * (0.25 - 1 / (2 * np.pi)), rel=1e-12)
