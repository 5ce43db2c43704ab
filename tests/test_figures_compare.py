"""The compare figure: one slider over two runs, the same axes on both sides."""

from __future__ import annotations

import numpy as np
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
    assert f"gd · frame {a.n_frames}/{a.n_frames} · step {int(a.step[-1]):,}" in last
    assert f"paper · frame {b.n_frames}/{b.n_frames} · step {int(b.step[-1]):,}" in last
    # same basis dimension: two 3-D projections with equal ranges, and two angle views
    assert fig.layout.scene.xaxis.range == fig.layout.scene2.xaxis.range
    angles = [fig.data[i] for i in _animated(fig) if fig.data[i].name == "angle vs mass"]
    assert len(angles) == 2
    ranges = [tuple(_xy_range(fig, t)[1].range) for t in angles]
    assert ranges[0] == ranges[1]
    # The Playground's curves for both runs, on shared panels: A solid, B dashed, named in hovers.
    for name in ("mse (left)", "λ (right)", "captured by w*₁", "aligned neurons", "total mass Σ|aⱼ|‖wⱼ‖"):
        (ta,) = [t for t in fig.data if t.name == name]
        (tb,) = [t for t in fig.data if t.name == f"paper: {name}"]
        assert (ta.xaxis, ta.yaxis) == (tb.xaxis, tb.yaxis)
        assert (ta.line.dash, tb.line.dash) == ("solid", "dash")
        assert ta.hovertemplate.startswith("gd: ") and tb.hovertemplate.startswith("paper: ")
    # The step axes reach the longer run's last step; each y range covers both runs.
    (mse_a,) = [t for t in fig.data if t.name == "mse (left)"]
    xa, ya = _xy_range(fig, mse_a)
    assert 10 ** xa.range[1] >= max(a.step[-1], b.step[-1]) + 1
    lo, hi = (10**v for v in ya.range)
    assert lo <= min(a.mse.min(), b.mse.min()) and hi >= max(a.mse.max(), b.mse.max())
    assert _finite_json(fig)
    # Opens on the last frame of both runs, like the slider says.
    assert fig.layout.sliders[0].active == N - 1
    neurons = [i for i in _animated(fig) if fig.data[i].name == "student neurons"]
    for idx, run in zip(neurons, (a, b), strict=True):
        np.testing.assert_allclose(fig.data[idx].x, run.w[-1] @ run.basis[0], atol=1e-5)


def test_compare_figure_reads_side_by_side_with_controls_on_top(runs):

    cfg_a, cfg_b = SMALL.replace(lam=0.0), SMALL
    a, b = train(cfg_a), runs["orthonormal3"]
    labels = F.compare_labels(cfg_a, cfg_b)
    fig = F.compare_figure(a, b, labels=labels, width_hint=900)
    titles = [t.text for t in fig.layout.annotations if t.text and "neurons" in t.text]
    assert titles[:2] == ["A: λ = 0 · neurons", "B: λ = 0.05 · neurons"]
    # The neuron views lead: side by side, on top, each taller than any other panel.
    sa, sb = fig.layout.scene.domain, fig.layout.scene2.domain
    assert sa.y == sb.y and sa.x[1] < sb.x[0] and sa.y[1] == 1
    ys = [ax for name, ax in fig.layout.to_plotly_json().items() if name.startswith("yaxis")]
    heights = [ax["domain"][1] - ax["domain"][0] for ax in ys]
    assert all(h < sa.y[1] - sa.y[0] for h in heights)
    # Play and the slider above the panels; the slider's stage/epoch ticks labelled; the key to the styles.
    assert fig.layout.updatemenus[0].y > 1 and fig.layout.sliders[0].y > 1
    assert [a_ for a_ in fig.layout.annotations if a_.name == "slider tick"]
    keys = [t.name for t in fig.data if t.name and t.name.endswith(("(solid)", "(dashed)"))]
    assert keys == ["A: λ = 0 (solid)", "B: λ = 0.05 (dashed)"]
    assert "lam" not in fig.to_json().replace('"lam', "")  # no setting's code name shown
    assert (
        fig.layout.title.text
        == f"<b>A: {int(a.metrics.counts[-1, 0])} of 12 aligned"
        + (f", {int(a.metrics.counts[-1, 1])} vanished" if a.metrics.counts[-1, 1] else "")
        + f" · B: {int(b.metrics.counts[-1, 0])} of 12 aligned"
        + (f", {int(b.metrics.counts[-1, 1])} vanished" if b.metrics.counts[-1, 1] else "")
        + "</b>"
    )


def test_compare_labels_name_lambda_not_lam():
    from featviz.config import Config

    assert F.compare_labels(Config(lam=0.0), Config(lam=0.1)) == ("A: λ = 0", "B: λ = 0.1")
    assert F.compare_labels(Config(), Config()) == ("A: same as B", "B: same as A")


def test_compare_figure_different_spans_uses_angle_views_only(runs):
    fig = F.compare_figure(runs["planar2"], runs["line1"])
    assert not [t for t in fig.data if t.name == "student neurons"]
    assert len([t for t in fig.data if t.name == "angle vs mass"]) == 2


def test_nearest_frame_maps_slider_ends_to_run_ends():
    assert _nearest_frame(0, 10, 4) == 0
    assert _nearest_frame(9, 10, 4) == 3
    assert _nearest_frame(0, 1, 4) == 0
