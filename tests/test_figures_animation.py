"""The animation figure, its preview and the static curves: frames, slider, fixed axes, encodings."""

from __future__ import annotations

import itertools
import math

import numpy as np
import plotly.graph_objects as go
import pytest
from figures_support import SHAPES, SMALL, _animated, _by_name, _finite_json, _xy_range

from featviz import figures as F
from featviz.config import Config
from featviz.engine import train
from featviz.metrics import ALIGNED, DEAD, FATE_NAMES, UNDECIDED
from featviz.projection import mass_ref


@pytest.mark.parametrize(
    ("name", "kind", "title_part"),
    [
        ("orthonormal3", go.Scatter3d, "3-D teacher span"),
        ("planar2", go.Scatter, "2-D teacher span"),
        ("line1", go.Scatter, "norm off the teacher line"),
        ("orthonormal5", go.Scatter3d, "first 3 of 5"),
    ],
)
def test_neuron_view_type_follows_the_teacher_span(runs, figs, name, kind, title_part):
    fig, run = figs[name], runs[name]
    (neurons,) = _by_name(fig, "student neurons")
    assert isinstance(fig.data[neurons], kind)
    assert len(fig.data[neurons].x) == run.config.m
    teacher_lines = [t for t in fig.data if (t.name or "").startswith("±w*")]
    assert len(teacher_lines) == run.config.k
    assert all(isinstance(t, kind) for t in teacher_lines)
    assert any(title_part in a.text for a in fig.layout.annotations)
    if kind is go.Scatter3d:
        assert fig.layout.scene.aspectmode == "cube"


def test_k1_view_plots_orth_norm_against_the_teacher_coordinate(runs, figs):
    fig, run = figs["line1"], runs["line1"]
    (neurons,) = _by_name(fig, "student neurons")
    i = run.n_frames - 1
    frame = fig.frames[i].data[_animated(fig).index(neurons)]
    np.testing.assert_allclose(frame.x, run.w[i] @ run.basis[0], atol=1e-6)
    np.testing.assert_allclose(frame.y, run.metrics.orth_norm[i], atol=1e-6)


def test_frames_slider_and_buttons(runs, figs):
    for name, fig in figs.items():
        run = runs[name]
        assert len(fig.frames) == run.n_frames
        (slider,) = fig.layout.sliders
        assert slider.active == run.n_frames - 1  # opens on the result
        assert len(slider.steps) == run.n_frames
        assert all("step" in s.label and "λ=" in s.label for s in slider.steps)
        assert [s.args[0][0] for s in slider.steps] == [f.name for f in fig.frames]
        assert f"step {int(run.step[-1]):,}" in slider.steps[-1].label
        labels = [b.label for b in fig.layout.updatemenus[0].buttons]
        assert any("Play" in x for x in labels) and any("Pause" in x for x in labels)
        play = fig.layout.updatemenus[0].buttons[0]
        assert play.args[1]["frame"]["duration"] == F.FRAME_MS
        # Play replays the training from the first frame (the figure opens on the last).
        assert list(play.args[0]) == [f.name for f in fig.frames] and play.args[1]["fromcurrent"] is False
        assert play.args[1]["frame"]["redraw"] == isinstance(
            fig.data[_by_name(fig, "student neurons")[0]], go.Scatter3d
        )


def test_initial_state_is_the_last_frame_and_the_slider_describes_each_frame(runs, figs):
    fig, run = figs["planar2"], runs["planar2"]
    assert F.PLAY_HINT in fig.layout.title.subtitle.text
    assert f"m={run.config.m}" in fig.layout.title.subtitle.text  # the settings moved to the subtitle
    for i, step in enumerate(fig.layout.sliders[0].steps):
        assert step.label.startswith(f"frame {i + 1}/{run.n_frames} · step {int(run.step[i]):,}")
        assert "neurons within" in step.label
    # Frames carry no title: a 2-D animation would not redraw it and it would go stale.
    assert all(frame.layout.title.text is None for frame in fig.frames)
    last = run.n_frames - 1
    for name in ("student neurons", "angle vs mass"):
        (idx,) = _by_name(fig, name)
        frame = fig.frames[last].data[_animated(fig).index(idx)]
        np.testing.assert_allclose(fig.data[idx].x, frame.x)
        np.testing.assert_allclose(fig.data[idx].y, frame.y)
        assert not np.allclose(fig.data[idx].x, fig.frames[0].data[_animated(fig).index(idx)].x)


def test_title_states_what_the_last_frame_shows(runs, figs):
    for name, fig in figs.items():
        run = runs[name]
        al, dead, und = (int(x) for x in run.metrics.counts[-1])
        title = fig.layout.title.text
        assert f"{al} of {run.config.m} neurons on a teacher line" in title
        assert (f"{dead} vanished" in title) == (dead > 0)
        assert (f"{und} undecided" in title) == (und > 0)
        assert "d=" not in title and "λ=" not in title  # no settings string


def _tick_texts(fig) -> dict[float, str]:
    return {round(a.x, 6): a.text for a in fig.layout.annotations if a.name == "slider tick"}


def test_slider_labels_stage_and_epoch_starts_only():
    from featviz.figures._controls import SLIDER_LEN, SLIDER_X

    run = train(Config(algo="paper"))
    fig = F.animation_figure(run)
    n = run.n_frames
    ticks = _tick_texts(fig)
    # The paper's stages are frames 0..3: too close to label apart, so one label at frame 0 names them.
    assert ticks[round(SLIDER_X, 6)] == "init · stage 1 · 2 · 3"
    assert list(run.stage[:4]) == [0, 1, 2, 3]
    # Epoch starts: the first frame after each multiple of `steps` gradient steps; some are labelled.
    gd = run.step - run.config.stage_steps
    starts = {int(np.argmax(gd > e * run.config.steps)): e + 1 for e in range(1, run.config.epochs)}
    labelled = {i: t for i in range(n) if (t := ticks.get(round(SLIDER_X + SLIDER_LEN * i / (n - 1), 6)))}
    epochs = {i: t for i, t in labelled.items() if t.startswith("epoch")}
    assert epochs and all(starts.get(i) == int(t.split()[1]) for i, t in epochs.items())
    assert set(labelled) <= set(starts) | {0}  # other steps stay unlabeled
    # gd: init is labelled at frame 0, the epoch starts after it.
    gd_fig = F.animation_figure(train(Config()))
    assert _tick_texts(gd_fig)[round(SLIDER_X, 6)] == "init"


def test_tick_labels_never_overlap_at_the_narrowest_width():
    from featviz.figures._controls import _NARROW_PLOT_PX, _label_width, _tick_px, tick_labels

    marks = [(0, "init", True), (1, "stage 1", True), (2, "stage 2", True), (3, "stage 3", True)]
    marks += [(40 + 3 * e, f"epoch {e}", False) for e in range(2, 9)]
    placed = tick_labels(marks, 60)
    assert placed[0] == (0, "init · stage 1 · 2 · 3", "left")
    spans = []
    for frame, text, anchor in placed:
        x, w = _tick_px(frame / 59, _NARROW_PLOT_PX), _label_width(text)
        spans.append({"left": (x, x + w), "right": (x - w, x)}.get(anchor, (x - w / 2, x + w / 2)))
    spans.sort()
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))
    assert any(t.startswith("epoch") for _, t, _ in placed)


def test_frames_carry_only_the_animated_traces(figs):
    for fig in figs.values():
        anim = _animated(fig)
        assert all(list(f.traces) == anim and len(f.data) == len(anim) for f in fig.frames)
        names = {fig.data[i].name for i in anim}
        assert names == {"student neurons", "angle vs mass", "current frame"}
        static = set(range(len(fig.data))) - set(anim)
        assert {fig.data[i].name for i in static} >= {"mse (left)", "λ (right)"}
        # frames hold data only, not styling repeated per frame
        assert all(f.data[0].hovertemplate is None for f in fig.frames)


@pytest.mark.parametrize("name", ["orthonormal3", "planar2"])
def test_latest_frame_is_the_animations_last_frame(runs, figs, name):
    run, fig = runs[name], figs[name]
    ref = mass_ref(run.metrics.mass)
    traces, label = F.latest_frame(run, mass_ref=ref, n_frames=run.n_frames)
    last = fig.frames[-1].data
    assert [t["type"] for t in traces] == [last[0].type, last[1].type]
    for patch, frame in zip(traces, last[:2], strict=True):
        for axis in ("x", "y", "z") if patch["type"] == "scatter3d" else ("x", "y"):
            np.testing.assert_array_equal(patch[axis], frame[axis])
        np.testing.assert_array_equal(patch["marker"]["color"], frame.marker.color)
    np.testing.assert_array_equal(traces[0]["marker"]["size"], last[0].marker.size)
    assert label.startswith(f"frame {run.n_frames}/{run.n_frames} · step {int(run.step[-1]):,}")
    assert label == fig.layout.sliders[0].steps[-1].label  # two lines, as the full animation's


def _within(values, rng, *, log=False):
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if log:
        v = np.log10(v)
    return bool(((v >= rng[0] - 1e-9) & (v <= rng[1] + 1e-9)).all())


def test_axes_are_fixed_and_cover_every_frame(figs):
    for fig in figs.values():
        anim = _animated(fig)
        for k, idx in enumerate(anim):
            trace = fig.data[idx]
            if isinstance(trace, go.Scatter3d):
                sc = fig.layout.scene
                for ax in ("xaxis", "yaxis", "zaxis"):
                    assert sc[ax].autorange is False
                    lo, hi = sc[ax].range
                    assert lo == -hi  # symmetric around 0
                for f in fig.frames:
                    d = f.data[k]
                    for ax, vals in (("xaxis", d.x), ("yaxis", d.y), ("zaxis", d.z)):
                        assert _within(vals, sc[ax].range)
                continue
            xa, ya = _xy_range(fig, trace)
            assert xa.range is not None and ya.range is not None
            assert xa.autorange is False and ya.autorange is False
            for f in fig.frames:
                d = f.data[k]
                assert _within(d.x, xa.range, log=xa.type == "log")
                assert _within(d.y, ya.range, log=ya.type == "log")


def test_2d_projection_axes_are_symmetric_with_equal_scale(figs):
    fig = figs["planar2"]
    (neurons,) = _by_name(fig, "student neurons")
    xa, ya = _xy_range(fig, fig.data[neurons])
    assert xa.range[0] == -xa.range[1] and tuple(ya.range) == tuple(xa.range)
    assert ya.scaleanchor == fig.data[neurons].xaxis and ya.scaleratio == 1


def test_teacher_lines_reach_the_axis_edge(runs, figs):
    fig = figs["planar2"]
    (neurons,) = _by_name(fig, "student neurons")
    xa, _ = _xy_range(fig, fig.data[neurons])
    for t in fig.data:
        if (t.name or "").startswith("±w*"):
            assert math.hypot(t.x[1], t.y[1]) == pytest.approx(xa.range[1])


def test_all_numbers_finite(figs, diverged):
    for fig in figs.values():
        assert _finite_json(fig)
    fig = F.animation_figure(diverged)
    assert _finite_json(fig)
    assert any("diverged" in (a.text or "") for a in fig.layout.annotations)


def test_fate_colours_and_symbols(settled):
    run = settled
    fig = F.animation_figure(run)
    met = run.metrics
    anim = _animated(fig)
    (neurons,) = _by_name(fig, "student neurons")
    (angle,) = _by_name(fig, "angle vs mass")
    seen = set()
    for i, frame in enumerate(fig.frames):
        for idx in (neurons, angle):
            d = frame.data[anim.index(idx)]
            for j in range(run.config.m):
                fate = int(met.fate[i, j])
                seen.add(fate)
                assert d.marker.symbol[j] == F.FATE_SYMBOLS[fate]
                want = F.TEACHER_COLORS[int(met.nearest[i, j])] if fate == ALIGNED else F.FATE_COLORS[fate]
                assert F.code_color(fig.data[idx].marker.colorscale, d.marker.color[j]) == want
    assert seen == {ALIGNED, DEAD, UNDECIDED}
    assert F.FATE_SYMBOLS[DEAD] != F.FATE_SYMBOLS[ALIGNED] != F.FATE_SYMBOLS[UNDECIDED]
    legend = {t.name.split(" ")[0] for t in fig.data if t.legendgroup and t.legendgroup.startswith("fate")}
    assert legend >= set(FATE_NAMES)


def test_marker_size_grows_with_mass_and_dead_neurons_stay_visible(settled):
    run = settled
    fig = F.animation_figure(run)
    anim = _animated(fig)
    (neurons,) = _by_name(fig, "student neurons")
    i = run.n_frames - 1
    size = np.asarray(fig.frames[i].data[anim.index(neurons)].marker.size)
    mass = run.metrics.mass[i]
    order = np.argsort(mass)
    assert (np.diff(size[order]) >= -1e-5).all()
    assert size.min() >= 3


def test_angle_view_floors_tiny_masses(settled):
    fig = F.animation_figure(settled)
    anim = _animated(fig)
    (angle,) = _by_name(fig, "angle vs mass")
    for frame in fig.frames:
        y = np.asarray(frame.data[anim.index(angle)].y)
        assert y.min() >= F.MASS_FLOOR * (1 - 1e-6)


def test_default_run_payload_is_small():
    fig = F.animation_figure(train(Config()))
    size = len(fig.to_json())
    assert size < 3_000_000, size


def test_curves_figure_is_static(runs):
    run = runs["orthonormal3"]
    fig = F.curves_figure(run)
    assert not fig.frames
    k = run.config.k
    captured = [t for t in fig.data if (t.name or "").startswith("captured by")]
    assert len(captured) == k
    assert len([t for t in fig.data if (t.name or "").startswith("a*")]) == k
    assert len([t for t in fig.data if (t.name or "").endswith("neurons")]) == 3
    assert _finite_json(fig)


def _panels(fig) -> list[tuple[float, ...]]:
    """Every panel's (x0, x1, y0, y1) on the paper, 2-D axes and 3-D scenes alike."""
    lay = fig.to_plotly_json()["layout"]
    out = []
    for name, ax in lay.items():
        if name.startswith("scene"):
            out.append((*ax["domain"]["x"], *ax["domain"]["y"]))
        elif name.startswith("xaxis"):
            y = lay["yaxis" + ax["anchor"][1:]]
            out.append((*ax["domain"], *y["domain"]))
    return sorted(tuple(round(v, 6) for v in p) for p in out)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_preview_has_the_animations_grid_titles_and_height_and_no_data(name, figs):
    """The empty panels shown while a run trains sit where the animation's will be."""
    fig, prev = figs[name], F.preview_figure(SHAPES[name])
    assert prev.layout.height == fig.layout.height
    assert prev.layout.margin == fig.layout.margin
    assert [a.text for a in prev.layout.annotations] == [a.text for a in fig.layout.annotations][:6]
    assert "Training…" in prev.layout.title.text
    assert prev.layout.title.subtitle.text.split(" · ")[0] == fig.layout.title.subtitle.text.split(" · ")[0]
    assert _panels(prev) == _panels(fig)
    # No data: each panel's trace is one gap point (null), never NaN (see preview_figure).
    assert all(list(t.x) == [None] and list(t.y) == [None] for t in prev.data)
    assert len(prev.frames) == 0 and not prev.layout.sliders
    assert "scene" not in prev.to_plotly_json()["layout"]  # flat: no 3-D set-up in the browser


def test_lam_curve_explains_its_stage_1_dip(runs):
    """algo=paper: λ's stage-1 point is 1/η = init/η₁ (0.0033 by default), and its hover says so."""
    from featviz.metrics import how_to_read_markdown
    from featviz.run import STAGE_1

    paper = train(SMALL.replace(algo="paper"))
    (i,) = np.flatnonzero(paper.stage == STAGE_1)
    assert paper.lam[i] == pytest.approx(paper.config.init / paper.config.eta1)
    (lam,) = [t for t in F.animation_figure(paper).data if t.name == "λ (right)"]
    assert "1/η = init/η₁" in lam.text[i] and "%{text}" in lam.hovertemplate
    assert not any(lam.text[j] for j in range(paper.n_frames) if j != i)
    (gd_lam,) = [t for t in F.animation_figure(runs["orthonormal3"]).data if t.name == "λ (right)"]
    assert gd_lam.text is None
    assert "1/η = init/η₁" in how_to_read_markdown()


def test_a_narrow_3d_neuron_view_is_seen_from_further_out(runs):
    """At a 1280 px screen's chart width (820 px) plotly drew the 3-D scene's z axis title "u₃"
    past the scene's left edge: the camera moves back there, and stays where it was when wide."""
    run = runs["orthonormal3"]
    eyes = {w: F.animation_figure(run, width_hint=w).layout.scene.camera.eye.x for w in (820, 940, 1460)}
    assert eyes[820] > eyes[940] == eyes[1460]


@pytest.mark.parametrize("teachers", ["orthonormal", "random"])
@pytest.mark.parametrize("width", [820, 940, 1100, 1460])
def test_preview_keeps_the_animations_height_for_any_teacher_weights(width, teachers):
    """The preview counts the keys' rows from the animation's own legend names (a*ᵢ and Σ|a*ᵢ| as
    given, a teacher out of the 3-D view marked), so the page does not jump when the run arrives."""
    cfg = SMALL.replace(k=4, a_star=(2.5, -0.25, 1.75, -3.125), teachers=teachers)
    fig = F.animation_figure(train(cfg), width_hint=width)
    prev = F.preview_figure(cfg, width_hint=width)
    assert prev.layout.height == fig.layout.height
    assert _panels(prev) == _panels(fig)
