"""Per-neuron fates and per-teacher captured mass (PAPER.md section 7)."""

import math

import numpy as np
import pytest
from figures_support import SHAPES, SMALL
from hypothesis import given, settings
from hypothesis import strategies as st

from featviz.config import Config
from featviz.engine import train
from featviz.metrics import (
    ALIGNED,
    ALIGNED_DEG,
    DEAD,
    DEAD_SCALE,
    DEAD_SHRINK,
    UNDECIDED,
    finite,
    line_angles,
    run_metrics,
    span_rank,
)


def unit_teachers(rng, k=3, d=5):
    q, _ = np.linalg.qr(rng.standard_normal((d, k)))
    return q.T.copy()


def rotate_towards(u, v, deg):
    """u rotated by deg degrees in the plane of unit vectors u and v (v orthogonal to u)."""
    t = math.radians(deg)
    return math.cos(t) * u + math.sin(t) * v


def test_line_angle_is_sign_symmetric(rng):
    tw = unit_teachers(rng)
    w = np.stack([tw[1], -tw[1], -3.0 * tw[2], 0.01 * tw[0]])
    nearest, angle = line_angles(w, tw)
    np.testing.assert_array_equal(nearest, [1, 1, 2, 0])
    np.testing.assert_allclose(angle, 0.0, atol=1e-6)
    # A generic vector and its negative: same line, same angle.
    v = rng.standard_normal((7, 5))
    n1, a1 = line_angles(v, tw)
    n2, a2 = line_angles(-v, tw)
    np.testing.assert_array_equal(n1, n2)
    np.testing.assert_allclose(a1, a2, atol=1e-12)
    assert np.all((a1 >= 0) & (a1 <= 90))


def test_line_angle_measures_degrees(rng):
    tw = unit_teachers(rng, k=2, d=4)
    # 20 degrees from w*_0 towards w*_1 (orthonormal): 20 from line 0, 70 from line 1.
    w = rotate_towards(tw[0], tw[1], 20.0)
    nearest, angle = line_angles(w[None], tw)
    assert nearest[0] == 0 and angle[0] == pytest.approx(20.0, abs=1e-9)
    # 120 degrees from +w*_0 is 60 from the line, nearer to w*_1's line at 30.
    w = rotate_towards(tw[0], tw[1], 120.0)
    nearest, angle = line_angles(w[None], tw)
    assert nearest[0] == 1 and angle[0] == pytest.approx(30.0, abs=1e-9)


def test_fates_and_captured_mass(rng):
    tw = unit_teachers(rng)
    d = tw.shape[1]
    orth = np.linalg.svd(tw)[2][-1]  # a unit vector orthogonal to every teacher
    w = np.stack(
        [
            2.0 * tw[0],  # aligned to 0, signed mass 0.5 * 2 = 1
            -1.0 * tw[0],  # aligned to 0 on the other side, a = -0.2: signed mass -0.2
            rotate_towards(tw[1], orth, 3.0) * 0.5,  # aligned to 1 (3 deg), a = 1.2: 0.6
            rotate_towards(tw[2], orth, 30.0) * 2.0,  # undecided: far, big mass, not captured
            1e-4 * tw[2],  # on a line, tiny, but never larger: not dead (it did not shrink), not captured
            np.zeros(d),  # zero neuron: dead
        ]
    )
    a = np.array([0.5, -0.2, 1.2, 3.0, 0.5, 7.0])
    met = run_metrics(w[None], a[None], tw)
    np.testing.assert_array_equal(met.fate[0], [ALIGNED, ALIGNED, ALIGNED, UNDECIDED, ALIGNED, DEAD])
    np.testing.assert_allclose(met.captured[0], [1.0 - 0.2, 0.6, 0.5e-4], atol=1e-12)
    # The same snapshot after one at ten times the size: the tiny neuron shrank, now it is dead.
    met = run_metrics(np.stack([10 * w, w]), np.stack([a, a]), tw)
    np.testing.assert_array_equal(met.fate[1], [ALIGNED, ALIGNED, ALIGNED, UNDECIDED, DEAD, DEAD])
    np.testing.assert_allclose(met.captured[1], [1.0 - 0.2, 0.6, 0.0], atol=1e-12)
    np.testing.assert_array_equal(met.counts[1], [3, 2, 1])
    assert met.counts[1].sum() == len(a)
    np.testing.assert_allclose(met.mass[1], np.abs(a) * np.linalg.norm(w, axis=1))
    assert met.mass[0, 5] == 0.0 and met.line_angle_deg[1, 5] == 90.0
    # Far mass: sum of mass * angle^2 (radians); only the 3 and 30 degree neurons contribute.
    expected = 0.6 * math.radians(3.0) ** 2 + 6.0 * math.radians(30.0) ** 2
    assert met.far_mass[1] == pytest.approx(expected, rel=1e-9)
    np.testing.assert_allclose(met.balance[1], a**2 - (w**2).sum(1))
    # The 30 degree neuron has 2 sin 30 = 1 outside the span; on-span neurons have none.
    np.testing.assert_allclose(met.orth_norm[1], [0, 0, 0.5 * math.sin(math.radians(3.0)), 1.0, 0, 0], atol=1e-12)


def test_thresholds_are_options(rng):
    tw = unit_teachers(rng)
    w = rotate_towards(tw[0], tw[1], 8.0)[None, None]
    a = np.array([[1.0]])
    assert run_metrics(w, a, tw).fate[0, 0] == UNDECIDED  # default 5 degrees
    assert ALIGNED_DEG == 5.0
    assert run_metrics(w, a, tw, aligned_deg=10.0).fate[0, 0] == ALIGNED
    shrank = np.concatenate([10 * w, w])  # mass 10, then 1
    a2 = np.ones((2, 1))
    assert run_metrics(shrank, a2, tw).fate[1, 0] == UNDECIDED  # 1 is not below 1e-3 * sum |a*|
    assert run_metrics(shrank, a2, tw, dead_scale=2.0 / len(tw)).fate[1, 0] == DEAD
    assert run_metrics(shrank, a2, tw, dead_scale=2.0 / len(tw), dead_shrink=0.05).fate[1, 0] == UNDECIDED


def test_dead_means_shrank_not_started_small(rng):
    """init 0.01: every mass is ~1e-4 at step 0, far below 1e-3 of sum |a*|, yet nothing is dead."""
    tw = unit_teachers(rng)
    w0 = 0.01 * rng.standard_normal((1, 20, tw.shape[1]))
    a0 = 0.01 * rng.standard_normal((1, 20))
    met = run_metrics(w0, a0, tw, np.ones(len(tw)))
    assert met.mass.max() < DEAD_SCALE and met.counts[0, DEAD] == 0
    # Relative rule: a neuron is dead once its mass is at most DEAD_SHRINK of its peak and below
    # DEAD_SCALE * sum |a*|; the teacher's scale counts (here sum |a*| = 30).
    w = np.concatenate([w0, w0 * 0.5, w0 * 0.01])
    a = np.concatenate([a0, a0, a0])
    met = run_metrics(w, a, tw, np.full(len(tw), 10.0))
    np.testing.assert_array_equal(met.counts[:, DEAD], [0, 0, 20])
    assert met.dead_floor == pytest.approx(DEAD_SCALE * 10.0 * len(tw))
    np.testing.assert_allclose(met.total_mass, met.mass.sum(-1))


def test_a_small_init_run_has_no_dead_neuron_at_step_0():
    run = train(Config(init=0.01, steps=20, epochs=1))
    assert run.metrics.mass[0].max() < 1e-3  # the old absolute rule would read all dead
    assert run.metrics.counts[0, DEAD] == 0


def test_orth_norm_for_planar_teachers_uses_the_plane(rng):
    """Three teacher lines in one plane span 2 dimensions, not 3."""
    plane, _ = np.linalg.qr(rng.standard_normal((6, 3)))
    phi = np.radians([0.0, 60.0, 120.0])
    tw = np.cos(phi)[:, None] * plane[:, 0] + np.sin(phi)[:, None] * plane[:, 1]
    off_plane = 0.7 * plane[:, 2]
    in_plane = 2.0 * plane[:, 0] - plane[:, 1]
    met = run_metrics(np.stack([off_plane, in_plane, in_plane + off_plane])[None], np.ones((1, 3)), tw)
    np.testing.assert_allclose(met.orth_norm[0], [0.7, 0.0, 0.7], atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), T=st.integers(1, 4), m=st.integers(1, 12), k=st.integers(1, 4))
def test_metric_invariants(seed, T, m, k):
    r = np.random.default_rng(seed)
    tw = unit_teachers(r, k=k, d=5)
    scale = r.choice([0.0, 1e-3, 1.0], size=(T, m, 1))  # some zero and tiny neurons
    w = r.standard_normal((T, m, 5)) * scale
    w[:, : m // 2] += 3 * tw[r.integers(0, k, size=m // 2)]  # some near a teacher
    a = r.standard_normal((T, m))
    met = run_metrics(w, a, tw)
    assert (met.counts.sum(-1) == m).all()
    assert met.captured.shape == (T, k) and met.counts.shape == (T, 3)
    aligned_signed = np.where(met.fate == ALIGNED, a * np.linalg.norm(w, axis=-1), 0.0).sum(-1)
    np.testing.assert_allclose(met.captured.sum(-1), aligned_signed, atol=1e-12)
    assert (met.line_angle_deg >= 0).all() and (met.line_angle_deg <= 90).all()
    assert (met.far_mass >= 0).all()
    peak = np.maximum.accumulate(met.mass, axis=0)
    dead = (met.mass <= DEAD_SHRINK * peak) & (met.mass < DEAD_SCALE * k)
    np.testing.assert_array_equal(met.fate == DEAD, dead)
    assert (met.nearest >= 0).all() and (met.nearest < k).all()
    assert (met.orth_norm <= np.linalg.norm(w, axis=-1) + 1e-12).all()


SPANS = SHAPES | {  # the figure tests' teacher-span shapes, and two more
    "planar3": SMALL.replace(k=3, teachers="planar", angles=(0.0, 50.0, 110.0)),
    "random4": SMALL.replace(k=4, d=8, teachers="random", sep=30.0),
}


@pytest.mark.parametrize("name", sorted(SPANS))
def test_span_rank_is_the_trained_runs_span(name):
    cfg = SPANS[name]
    assert span_rank(cfg) == train(cfg.replace(steps=1, epochs=1)).basis.shape[0]


def test_finite_replaces_nan_and_clips_to_the_cap():
    x = finite([np.nan, np.inf, -np.inf, 2e31, -3.0, 0.5])
    np.testing.assert_array_equal(x, [0.0, 1e30, -1e30, 1e30, -3.0, 0.5])
    np.testing.assert_array_equal(finite([np.nan, -1.0, np.inf], lo=0.0, hi=2.0), [0.0, 0.0, 2.0])
