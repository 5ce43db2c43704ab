"""Figure builders: structure of fig.data / fig.layout / fig.frames, fixed axes, finite payloads."""

from __future__ import annotations

import ast
import base64
import json
import math
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from featviz import figures as F
from featviz.certificate import planar_certificate
from featviz.config import Config
from featviz.engine import train
from featviz.metrics import ALIGNED, DEAD, FATE_NAMES, UNDECIDED

SMALL = Config(steps=50, epochs=2, m=12)
SHAPES = {
    "orthonormal3": SMALL,
    "planar2": SMALL.replace(k=2, teachers="planar", angles=(0.0, 60.0)),
    "line1": SMALL.replace(k=1),
    "orthonormal5": SMALL.replace(k=5, d=12),
}


@pytest.fixture(scope="module")
def runs():
    return {name: train(cfg) for name, cfg in SHAPES.items()}


@pytest.fixture(scope="module")
def figs(runs):
    return {name: F.animation_figure(run) for name, run in runs.items()}


@pytest.fixture(scope="module")
def settled():
    """A run long enough to show all three fates (k=1: half the neurons die)."""
    run = train(SMALL.replace(k=1, steps=200))
    assert set(run.metrics.fate.ravel().tolist()) == {ALIGNED, DEAD, UNDECIDED}
    return run


@pytest.fixture(scope="module")
def diverged():
    run = train(SMALL.replace(lam=0.0, init=1.0, lr=50.0))
    assert run.status == "diverged"
    return run


def _numbers(obj):
    """Every number in a figure's JSON, with plotly's base64 typed arrays decoded."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            yield from np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"])).tolist()
            return
        for v in obj.values():
            yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)
    elif isinstance(obj, int | float) and not isinstance(obj, bool):
        yield obj


def _finite_json(fig: go.Figure) -> bool:
    return all(math.isfinite(x) for x in _numbers(json.loads(fig.to_json())))


def _by_name(fig, name):
    return [i for i, t in enumerate(fig.data) if t.name == name]


def _animated(fig):
    return list(fig.frames[0].traces)


# ---- template ----------------------------------------------------------------------------


def test_template_is_registered_with_okabe_ito_colours():
    assert F.TEMPLATE in pio.templates
    assert tuple(pio.templates[F.TEMPLATE].layout.colorway) == F.TEACHER_COLORS
    assert len(set(F.TEACHER_COLORS)) == 8  # one colour per teacher up to MAX_K


def test_every_figure_uses_the_template(runs, figs):
    run = runs["planar2"]
    cert = planar_certificate((0, 60), (1, -1))
    built = [
        figs["orthonormal3"],
        F.curves_figure(run),
        F.descent_figure(run, 3),
        F.compare_figure(run, runs["line1"]),
        F.certificate_figure(
            np.degrees(cert.phi), cert.eta, teacher_angles_deg=(0, 60), signs=(1, -1), rho=cert.rho, max_abs_eta=1.0
        ),
    ]
    for fig in built:
        assert fig.layout.template == pio.templates[F.TEMPLATE]


def test_module_imports_neither_streamlit_nor_torch():
    tree = ast.parse(Path(F.__file__).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    assert not names & {"streamlit", "torch"}


# ---- animation figure --------------------------------------------------------------------


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
        assert slider.active == 0
        assert len(slider.steps) == run.n_frames
        assert all("step" in s.label and "λ=" in s.label for s in slider.steps)
        assert [s.args[0][0] for s in slider.steps] == [f.name for f in fig.frames]
        assert f"step {int(run.step[-1]):,}" in slider.steps[-1].label
        labels = [b.label for b in fig.layout.updatemenus[0].buttons]
        assert any("Play" in x for x in labels) and any("Pause" in x for x in labels)
        play = fig.layout.updatemenus[0].buttons[0]
        assert play.args[1]["frame"]["duration"] == F.FRAME_MS
        assert play.args[1]["frame"]["redraw"] == isinstance(
            fig.data[_by_name(fig, "student neurons")[0]], go.Scatter3d
        )


def test_initial_state_is_the_first_frame_and_the_slider_describes_each_frame(runs, figs):
    fig, run = figs["planar2"], runs["planar2"]
    assert fig.layout.title.subtitle.text == F.PLAY_HINT
    for i, step in enumerate(fig.layout.sliders[0].steps):
        assert step.label.startswith(f"frame {i + 1}/{run.n_frames} · step {int(run.step[i]):,}")
        assert "neurons within" in step.label
    # Frames carry no title: a 2-D animation would not redraw it and it would go stale.
    assert all(frame.layout.title.text is None for frame in fig.frames)
    (neurons,) = _by_name(fig, "student neurons")
    np.testing.assert_allclose(fig.data[neurons].x, fig.frames[0].data[_animated(fig).index(neurons)].x)


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


def _xy_range(fig, trace):
    xa = fig.layout[trace.xaxis.replace("x", "xaxis")]
    ya = fig.layout[trace.yaxis.replace("y", "yaxis")]
    return xa, ya


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


# ---- other figures -----------------------------------------------------------------------


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


def test_certificate_figure_draws_eta_band_teachers_and_bound():
    cert = planar_certificate((0, 60, 120), (1, -1, 1))
    phi = np.degrees(cert.phi)
    fig = F.certificate_figure(
        phi, cert.eta, teacher_angles_deg=(0, 60, 120), signs=(1, -1, 1), rho=cert.rho, max_abs_eta=cert.max_abs_eta
    )
    (bound,) = [t for t in fig.data if (t.name or "").startswith("bound")]
    n = len(phi)
    upper = np.asarray(bound.y[:n], dtype=float)
    np.testing.assert_allclose(upper, 1 - cert.rho * cert.delta**2, atol=1e-9)
    (eta,) = [t for t in fig.data if t.name == "η(φ)"]
    np.testing.assert_allclose(eta.y, cert.eta, atol=1e-6)
    teachers = [t for t in fig.data if (t.name or "").startswith("w*")]
    assert len(teachers) == 3
    assert [t.y[0] for t in teachers] == [1, -1, 1]
    assert any(t.name == "|η| ≤ 1" for t in fig.data)
    # The magnified panel below: the margin 1 - |eta| stays above rho delta^2 (a valid certificate).
    (margin,) = [t for t in fig.data if t.name == "margin 1 − |η|"]
    (need,) = [t for t in fig.data if t.name == "needed: ρδ²"]
    assert margin.yaxis == need.yaxis == "y2" and margin.xaxis == "x2"
    np.testing.assert_allclose(margin.y, np.maximum(1 - np.abs(cert.eta), F.CERT_FLOOR), atol=1e-6)
    np.testing.assert_allclose(need.y, np.maximum(cert.rho * cert.delta**2, F.CERT_FLOOR), atol=1e-6)
    assert fig.layout.yaxis2.type == "log"
    assert np.all(np.asarray(margin.y) >= np.asarray(need.y) - 1e-6)
    assert _finite_json(fig)


def test_certificate_figure_without_rho_has_no_bound():
    phi = np.linspace(0, 180, 50, endpoint=False)
    fig = F.certificate_figure(
        phi, np.cos(np.radians(2 * phi)), teacher_angles_deg=(0,), signs=(1,), rho=float("nan"), max_abs_eta=1.0
    )
    assert not [t for t in fig.data if (t.name or "").startswith("bound")]
    assert not [t for t in fig.data if (t.name or "").startswith("margin")]
    assert _finite_json(fig)


@pytest.mark.parametrize("name", ["planar2", "line1"])
def test_descent_figure_2d_has_one_arrow_per_neuron(runs, name):
    run = runs[name]
    fig = F.descent_figure(run, run.n_frames // 2)
    arrows = [a for a in fig.layout.annotations if a.name == "descent"]
    assert len(arrows) == run.config.m
    assert all(a.showarrow and a.axref == a.xref for a in arrows)
    assert _finite_json(fig)


def test_descent_figure_3d_has_one_segment_per_neuron(runs):
    run = runs["orthonormal3"]
    fig = F.descent_figure(run, run.n_frames // 2)
    (seg,) = [t for t in fig.data if t.name == "descent"]
    assert isinstance(seg, go.Scatter3d)
    assert list(seg.x).count(None) == run.config.m
    assert _finite_json(fig)


def test_descent_targets_split_each_teacher_by_mass(runs):
    run = runs["planar2"]
    i = run.n_frames // 2
    target, near = F.descent_targets(run, i)
    met = run.metrics
    t = met.nearest[i]
    assert near.any()
    np.testing.assert_array_equal(target[~near], 0.0)
    for s in set(t[near].tolist()):
        sel = near & (t == s)
        assert (target[sel] ** 2).sum() == pytest.approx(abs(run.teacher_a[s]))
        # targets lie on the teacher line, on the neuron's own side
        cos = target[sel] @ run.teacher_w[s] / np.linalg.norm(target[sel], axis=1)
        np.testing.assert_allclose(np.abs(cos), 1.0, atol=1e-9)
        assert (np.einsum("md,md->m", target[sel], run.w[i][sel]) >= 0).all()


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
    assert F._nearest_frame(0, 10, 4) == 0
    assert F._nearest_frame(9, 10, 4) == 3
    assert F._nearest_frame(0, 1, 4) == 0


def test_figure_html_is_standalone_and_does_not_autoplay(runs, figs):
    html = F.figure_html(F.curves_figure(runs["line1"]))
    assert "<html>" in html[:100] and html.rstrip().endswith("</html>")
    assert len(html) > 1_000_000  # plotly.js inlined: works offline
    html = F.figure_html(figs["line1"])
    assert "Plotly.addFrames" in html
    assert "Plotly.animate(" not in html[-2000:]


def test_short_log_axes_label_whole_values():
    ax = F._log_axis([-0.7, 0.2])
    assert ax["ticktext"] == ["0.2", "0.5", "1"]
    assert ax["tickvals"] == pytest.approx([0.2, 0.5, 1.0])
    narrow = F._log_axis([-2.05, -1.95])  # less than one 1-2-5 step wide
    assert len(narrow["tickvals"]) == 2 and all(0.0089 < v < 0.0113 for v in narrow["tickvals"])
    assert "tickvals" not in F._log_axis([-6.0, 1.0]) and F._log_axis([-6.0, 1.0])["dtick"] == 1


SPANS = {
    **SHAPES,
    "planar3": SMALL.replace(k=3, teachers="planar", angles=(0.0, 50.0, 110.0)),
    "random4": SMALL.replace(k=4, d=8, teachers="random", sep=30.0),
}


@pytest.mark.parametrize("name", sorted(SPANS))
def test_span_rank_is_the_trained_runs_span(name):
    cfg = SPANS[name]
    assert F.span_rank(cfg) == train(cfg.replace(steps=1, epochs=1)).basis.shape[0]


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
    assert [a.text for a in prev.layout.annotations] == [a.text for a in fig.layout.annotations][:5]
    assert prev.layout.title.text == fig.layout.title.text  # the config in words
    assert prev.layout.title.subtitle.text.startswith("Training…")
    assert _panels(prev) == _panels(fig)
    assert all(len(t.x) == 0 for t in prev.data) and len(prev.frames) == 0 and not prev.layout.sliders
    assert "scene" not in prev.to_plotly_json()["layout"]  # flat: no 3-D set-up in the browser


@pytest.mark.parametrize("name", ["planar2", "orthonormal3"])
def test_descent_targets_legend_entry_is_neutral_and_the_targets_keep_teacher_colours(runs, name):
    run = runs[name]
    fig = F.descent_figure(run, run.n_frames // 2)
    traces = [t for t in fig.data if t.legendgroup == "targets"]
    drawn = [t for t in traces if not t.showlegend]
    legend = [t for t in traces if t.showlegend]
    assert len(drawn) == 1 and len(legend) == 1
    assert legend[0].marker.color == F.FATE_COLORS[ALIGNED] and tuple(legend[0].x) == (None,)
    assert set(drawn[0].marker.color) <= set(F.TEACHER_COLORS) and len(drawn[0].x) > 0
