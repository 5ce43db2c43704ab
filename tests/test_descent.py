"""Descent targets (the descent-direction picture) against values worked out by hand."""

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest

from featviz.descent import DescentTargets, descent_targets
from featviz.metrics import run_metrics


def _one_snapshot_run():
    """Teachers e1 (a* = 2) and e2 (a* = -1) in the plane; four neurons in one snapshot."""
    teacher_w = np.eye(2)
    w = np.array([[[2.0, 0.0], [-1.0, 0.0], [0.0, 0.5], [1.0, 1.0]]])
    a = np.array([[1.0, 1.0, 0.5, 1.0]])
    return SimpleNamespace(
        w=w, a=a, teacher_w=teacher_w, teacher_a=np.array([2.0, -1.0]), metrics=run_metrics(w, a, teacher_w), n_frames=1
    )


def test_targets_share_each_teacher_by_mass_and_keep_the_neurons_side():
    run = _one_snapshot_run()
    target, near = descent_targets(run, 0)
    # masses 2, 1, 0.25, sqrt(2); the first two share teacher 1 (S = 3), the third has teacher 2 alone,
    # the fourth is 45 degrees from both lines and heads to 0.
    want = [[math.sqrt(2 * 2 / 3), 0.0], [-math.sqrt(2 * 1 / 3), 0.0], [0.0, 1.0], [0.0, 0.0]]
    np.testing.assert_allclose(target, want, atol=1e-12)
    np.testing.assert_array_equal(near, [True, True, True, False])


def test_from_run_holds_the_same_arrays_frozen_and_wraps_the_frame():
    run = _one_snapshot_run()
    d = DescentTargets.from_run(run, -1, radius_deg=50.0)
    assert d.frame == 0 and d.radius_deg == 50.0
    target, near = descent_targets(run, 0, radius_deg=50.0)
    np.testing.assert_array_equal(d.target, target)
    np.testing.assert_array_equal(d.near, near)
    assert d.near.all()  # 45 degrees is within 50
    np.testing.assert_array_equal(d.nearest, run.metrics.nearest[0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.frame = 1
