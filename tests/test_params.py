"""How the per-teacher lists follow a changed k: evenly spaced stays even, typed lines are kept apart."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from featviz.config import MAX_K, PARAMS, Config
from featviz.params import NEW_LINE_SEP_DEG, default_a_star, default_angles, spread_angles


def min_line_gap(angles) -> float:
    """Smallest angle between two teacher lines (angles modulo 180); 180 for one line."""
    lines = [a % 180.0 for a in angles]
    gaps = [min(abs(x - y), 180.0 - abs(x - y)) for x, y in itertools.combinations(lines, 2)]
    return min(gaps, default=180.0)


def walk(angles: tuple[float, ...], ks) -> list[tuple[float, ...]]:
    """The angles after each k of ks, one +/- step after another, as the k widget changes them."""
    out = []
    for k in ks:
        angles = PARAMS["angles"].follow_k(angles, k)
        out.append(angles)
    return out


UP_AND_DOWN = [*range(2, MAX_K + 1), *range(MAX_K - 1, 0, -1)]


def test_k_3_to_5_from_the_default_is_the_default_for_5():
    assert walk((0.0, 60.0, 120.0), [4, 5])[-1] == default_angles(5) == (0.0, 36.0, 72.0, 108.0, 144.0)


def test_typed_angles_are_kept_and_new_lines_go_in_the_largest_gap():
    assert spread_angles((0.0, 45.0, 90.0), 4) == (0.0, 45.0, 90.0, 135.0)
    assert spread_angles((10.0, 40.0), 3) == (10.0, 40.0, 115.0)  # the gap from 40 round to 190
    assert spread_angles((0.0, 45.0, 90.0), 2) == (0.0, 45.0)  # fewer teachers: the first typed ones


def test_no_room_among_the_typed_lines_gives_the_evenly_spaced_default():
    crowded = tuple(float(a) for a in range(0, 180, 20))[:7]  # 7 lines 20° apart: the widest gap is 60°
    assert spread_angles(crowded, 8) == (*crowded, 150.0)
    tight = (0.0, 25.0, 50.0, 75.0, 100.0, 125.0, 150.0)  # widest gap 30°: a line in it is 15° off
    assert min_line_gap(spread_angles(tight, 8)) >= NEW_LINE_SEP_DEG
    even_but_turned = tuple(1.0 + 180.0 * i / 7 for i in range(7))  # no room for an 8th 15° from all
    assert spread_angles(even_but_turned, 8) == default_angles(8)


@pytest.mark.parametrize("start", [(0.0,), (0.0, 60.0, 120.0), (0.0, 45.0, 90.0), (10.0, 100.0), (-30.0, 200.0, 75.0)])
def test_k_1_to_8_and_back_never_puts_two_lines_within_15_degrees(start):
    ks = [*range(len(start) + 1, MAX_K + 1), *range(MAX_K - 1, 0, -1), *range(2, MAX_K + 1)]
    for angles, k in zip(walk(start, ks), ks, strict=True):
        assert len(angles) == k
        assert min_line_gap(angles) >= NEW_LINE_SEP_DEG, (k, angles)
        Config(k=k, d=max(2, k), teachers="planar", angles=angles, a_star=default_a_star(k))  # valid


@given(
    st.lists(st.floats(-360, 360), min_size=1, max_size=MAX_K).filter(lambda a: min_line_gap(a) >= NEW_LINE_SEP_DEG),
    st.integers(1, MAX_K),
)
def test_spread_angles_keeps_typed_lines_and_their_separation(angles, k):
    out = spread_angles(tuple(angles), k)
    assert len(out) == k
    assert min_line_gap(out) >= NEW_LINE_SEP_DEG
    if out != default_angles(k):
        assert out[: min(k, len(angles))] == tuple(angles[:k])


def test_a_star_keeps_typed_values_and_extends_with_the_alternating_pattern():
    p = PARAMS["a_star"]
    assert p.follow_k((2.0, 0.5), 5) == (2.0, 0.5, 1.0, -1.0, 1.0)
    assert p.follow_k((2.0, 0.5, -3.0), 2) == (2.0, 0.5)
