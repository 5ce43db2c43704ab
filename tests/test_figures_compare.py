"""The compare figure: one slider over two runs, the same axes on both sides."""

from __future__ import annotations

from figures_support import SMALL, _animated, _finite_json, _xy_range

from featviz import figures as F
from featviz.engine import train
from featviz.figures._controls import _nearest_frame


def test_compare_figure_one_slider_aligned_axes(runs):
    a = runs["orthonormal3"]
    b = train(SMALL.replace(frames=20, algo="paper"))
    assert a.n_frames != b.n_frames
    fig = F.compare_figure(a, b, labels=("gd", "paper"))
    N = max(a.n_frames, b.n_frames)
    assert len(fig.layout.sliders) == 1
    assert len(fig.layout.sliders[0].steps) == N == len(fig.frames)
    last = fig.layout.sliders[0].steps[-1].label
    assert f"gd: frame {a.n_frames}/{a.n_frames} · step {int(a.step[-1]):,}" in last
    assert f"paper: frame {b.n_frames}/{b.n_frames} · step {int(b.step[-1]):,}" in last
    # same basis dimension: two 3-D projections with equal ranges, and two angle views
    assert fig.layout.scene.xaxis.range == fig.layout.scene2.xaxis.range
    angles = [fig.data[i] for i in _animated(fig) if fig.data[i].name == "angle vs mass"]
    assert len(angles) == 2
    ranges = [tuple(_xy_range(fig, t)[1].range) for t in angles]
    assert ranges[0] == ranges[1]
    mse = [t for t in fig.data if (t.name or "").endswith(": mse")]
    assert len(mse) == 2 and mse[0].xaxis == mse[1].xaxis and mse[0].yaxis == mse[1].yaxis
    assert _finite_json(fig)


def test_compare_figure_different_spans_uses_angle_views_only(runs):
    fig = F.compare_figure(runs["planar2"], runs["line1"])
    assert not [t for t in fig.data if t.name == "student neurons"]
    assert len([t for t in fig.data if t.name == "angle vs mass"]) == 2


def test_nearest_frame_maps_slider_ends_to_run_ends():
    assert _nearest_frame(0, 10, 4) == 0
    assert _nearest_frame(9, 10, 4) == 3
    assert _nearest_frame(0, 1, 4) == 0
