"""The Playground's figure: a run's neuron view leading, its supporting panels, one Play/slider, and its preview."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from featviz.figures._controls import (
    ANIMATION_MARGIN,
    ANIMATION_TOP,
    PLAY_HINT,
    SLIDER_TOP,
    _finish_animation,
    _paper_y,
)
from featviz.figures._curves import _CURVE_MARKER_CELLS, _add_curves, _curve_markers
from featviz.figures._data import (
    _config_text,
    _frame_label,
    _frame_text,
    _result_title,
    _teacher_name,
    _teacher_total_name,
)
from featviz.figures._layout import (
    CURVE_LEGEND,
    _below_plots,
    _diverged_note,
    _finish,
    _legend_px,
    _place_legends,
    _place_panels,
    _to_curve_legend,
    legend_names,
)
from featviz.figures._neurons import _fate_legend_traces, _frame_traces, _neuron_view, _NeuronPanels
from featviz.metrics import frame_summary, span_rank
from featviz.projection import view_title

# The figure in pixels, top to bottom: the title under the modebar, the frame line and the
# slider, then the neuron view (left, the largest panel) with the angle-vs-mass and fate panels
# beside it, the neuron view's key right under it (on the first screen with it), then one row of
# training curves and their key. Heights are in pixels and follow the width the page gives the
# figure (width_hint): a wider figure gets a taller neuron view and fewer legend rows.
_BELOW_HERO = {True: 22, False: 58}  # 3-D, 2-D: to the key, past the fates' ticks or the view's axis title
_CURVE_TITLES = 44  # above the curve row: its panel titles
_SIDE_GAP = 100  # between the two side panels: the x axis title and the next panel's title
_CURVES = 190  # height of the training-curve row
_BOTTOM = 72  # the step axis titles, then the curves' key
HERO_PX = 470  # default height of the neuron view
WIDTH_PX = 1050  # the width a figure is built for when the page's is not known
_HERO_X = (0.0, 0.58)
_SIDE_X = (0.71, 1.0)
_CURVE_X = ((0.0, 0.26), (0.37, 0.63), (0.74, 1.0))

PANEL_TITLES = (
    "angle to nearest line vs mass",
    "neurons by fate",
    "mse (λ dashed, right axis)",
    "captured mass (a*ᵢ dashed)",
    "total and far mass vs Σ|a*ᵢ|",
)


def hero_px(width_hint: int | None) -> int:
    """Height of the neuron view for a figure about width_hint px wide (None: HERO_PX)."""
    if width_hint is None:
        return HERO_PX
    return int(min(max(0.34 * width_hint, 424), 580))


# A neuron view narrower than this (a 1280 px screen) is seen from further out: at the default
# distance plotly draws a 3-D scene's z axis title past its left edge.
_NARROW_SCENE_PX = 440


def _eye(plot_px: float) -> float:
    """3-D camera distance of the neuron view in a plotting area plot_px wide."""
    return 1.6 if (_HERO_X[1] - _HERO_X[0]) * plot_px >= _NARROW_SCENE_PX else 1.9


def _plot_px(width_hint: int | None) -> float:
    """Width of the plotting area of a figure width_hint px wide."""
    return (width_hint or WIDTH_PX) - ANIMATION_MARGIN["l"] - ANIMATION_MARGIN["r"]


def _geometry(hero: int, *, three_d: bool, key_px: int, curve_key_px: int) -> dict:
    """Paper y domains of the panels, the keys' tops and the px -> paper y map; key_px and
    curve_key_px: heights of the neuron view's and the curves' keys."""
    below = _BELOW_HERO[three_d]
    gap = below + key_px + _CURVE_TITLES
    plot = hero + gap + _CURVES
    side = (hero - _SIDE_GAP) / 2

    def y(top_px: float, bottom_px: float) -> list[float]:  # px below the plots' top -> paper y domain
        return [1 - bottom_px / plot, 1 - top_px / plot]

    bottom = _BOTTOM + curve_key_px
    return dict(
        plot=plot,
        bottom=bottom,
        height=ANIMATION_TOP + plot + bottom,
        hero=y(0, hero),
        angle=y(0, side),
        fates=y(hero - side, hero),
        curves=y(plot - _CURVES, plot),
        key_y=1 - (hero + below) / plot,
        curve_key_y=_below_plots(ANIMATION_TOP + plot + bottom, ANIMATION_TOP, bottom, _BOTTOM - 12),
        paper_y=_paper_y(plot),
    )


def _animation_layout(r: int, *, flat: bool = False) -> tuple[go.Figure, bool]:
    """The empty panels of animation_figure for a teacher span of dimension r: (figure, 3-D?).

    flat: a plain 2-D panel where the neurons' 3-D scene would be. _set_geometry places them.
    """
    three_d = r >= 3 and not flat
    fig = make_subplots(
        rows=3,
        cols=3,
        specs=[
            [{"type": "scene" if three_d else "xy", "rowspan": 2, "colspan": 2}, None, {"type": "xy"}],
            [None, None, {"type": "xy"}],
            [{"type": "xy", "secondary_y": True}, {"type": "xy"}, {"type": "xy"}],
        ],
        subplot_titles=(view_title(r), *PANEL_TITLES),
    )
    return fig, three_d


def _set_geometry(fig: go.Figure, g: dict) -> None:
    """The panels' domains and titles at the geometry g."""
    cells = [((1, 1), _HERO_X, g["hero"]), ((1, 3), _SIDE_X, g["angle"]), ((2, 3), _SIDE_X, g["fates"])]
    cells += [((3, c + 1), x, g["curves"]) for c, x in enumerate(_CURVE_X)]
    _place_panels(fig, cells)
    fig.get_subplot(3, 1, secondary_y=True).yaxis.domain = g["curves"]  # the mse panel's λ axis


def _key_heights(cfg, width_hint: int | None) -> dict:
    """The keys' heights of the animation of a run of cfg (its preview has no traces to count)."""
    fates = [t.name for t in _fate_legend_traces()]
    # The view shows three coordinates of the teacher span; orthonormal teachers past the third are
    # perpendicular to it (their basis is the teachers themselves), others have a part in view.
    ortho = cfg.teachers == "orthonormal"
    teachers = [_teacher_name(i, a, out_of_view=ortho and i >= 3) for i, a in enumerate(cfg.a_star)]
    neuron = [*teachers, "fate thresholds", *fates]
    total = _teacher_total_name(sum(abs(a) for a in cfg.a_star))
    curves = ["mse (left)", "λ (right)", "total mass Σ|aⱼ|‖wⱼ‖", "far mass Σ mass·δ²", total]
    plot_px = _plot_px(width_hint)
    return dict(key_px=_legend_px(neuron, plot_px), curve_key_px=_legend_px(curves, plot_px))


_CELLS = {"mse": (3, 1), "captured": (3, 2), "mass": (3, 3), "counts": (2, 3)}


def preview_figure(
    cfg, *, note: str = "Training… the animation appears here when the run is ready.", width_hint: int | None = None
) -> go.Figure:
    """What the animation's place shows while its run trains: the same empty panels and a note.

    Same panels, titles and height as animation_figure(run of cfg), so the page does not jump when
    the run arrives, and the browser has loaded plotly.js by then.
    """
    # Flat: a 3-D scene costs the browser up to a second to set up (measured with software WebGL),
    # time better spent on the animation itself.
    fig, _ = _animation_layout(span_rank(cfg), flat=True)
    g = _geometry(hero_px(width_hint), three_d=span_rank(cfg) >= 3, **_key_heights(cfg, width_hint))
    _set_geometry(fig, g)
    # plotly draws only panels with a trace. One gap point (null), not an empty trace: Plotly.react
    # from a 3-D animation to these panels on a chart narrower than about 700 px draws a new panel's
    # axis lines from an empty trace as SVG paths of NaN (console: 'attribute d: Expected number,
    # "MNaN,NaN…"'); a null point gives the same empty panel without them.
    for row, col in ((1, 1), (1, 3), (2, 3), (3, 1), (3, 2), (3, 3)):
        fig.add_trace(go.Scatter(x=[None], y=[None], hoverinfo="skip", showlegend=False), row=row, col=col)
    fig.update_xaxes(showticklabels=False, ticks="", showgrid=False)
    fig.update_yaxes(showticklabels=False, ticks="", showgrid=False)
    return _finish(
        fig,
        title="Training…",
        subtitle=f"{_config_text(cfg)} · {note}",
        height=g["height"],
        top=ANIMATION_TOP,
        bottom=g["bottom"],
        margin=ANIMATION_MARGIN,
        showlegend=False,
    )


def animation_figure(
    run, *, title: str | None = None, height: int | None = None, width_hint: int | None = None, branch=None
) -> go.Figure:
    """One animated figure of a run, opening on its last frame: the neuron view leads.

    Panels: the student neurons projected on the teacher span with the teacher lines (left, the
    largest; 3-D when the span is 3-D or larger); beside it the angle to the nearest teacher line
    against the mass (log) and the neuron counts by fate; below, mse with λ on a second axis,
    signed mass captured per teacher with a*_i dashed, and total and far mass against
    sum_i |a*_i|. The title says what the last frame shows, the subtitle the settings. Play
    replays the training from the first frame; the slider's stage and epoch starts are labelled.
    Frames carry only the animated traces (neurons and current-frame markers), so the static
    curves are sent once.

    width_hint: the width in px the page gives the figure, if known; a wider figure gets a
    taller neuron view. height: overrides the computed height (the panels keep their pixel sizes
    only at the computed one). branch: (step, parent run) of a fork: the curves show the branch
    step and the parent's continuation, dashed.
    """
    v = _neuron_view(run)
    fig, three_d = _animation_layout(v.r)
    panels = _NeuronPanels((run,), (v,), view_cells=((1, 1),), angle_cells=((1, 3),))
    panels.add_static(fig)
    n_before = len(fig.data)
    cur = _add_curves(fig, run, _CELLS, ytitles=False, branch=branch)
    _to_curve_legend(fig.data[n_before:])
    for t in _fate_legend_traces():
        fig.add_trace(t, row=1, col=3)

    # Animated traces last; their indices are what the frames update. The figure opens on the
    # last frame: the result, not the undecided cloud of the start.
    last = run.n_frames - 1
    first = len(fig.data)
    for tr, (r, c) in zip(panels.frame_traces([last], full=True), panels.cells, strict=True):
        fig.add_trace(tr, row=r, col=c)
    for tr, (cell, sec) in zip(_curve_markers(run, cur, last, full=True), _CURVE_MARKER_CELLS, strict=True):
        r, c = _CELLS[cell]
        fig.add_trace(tr, row=r, col=c, secondary_y=sec)
    animated = list(range(first, len(fig.data)))

    plot_px = _plot_px(width_hint)
    panels.style(fig, eye=_eye(plot_px))
    fig.update_xaxes(title_text=None, row=2, col=3)  # the curves below name the step axis; the key sits here
    keys = dict(
        key_px=_legend_px(legend_names(fig), plot_px), curve_key_px=_legend_px(legend_names(fig, CURVE_LEGEND), plot_px)
    )
    g = _geometry(hero_px(width_hint), three_d=three_d, **keys)
    _set_geometry(fig, g)

    fig.frames = [
        dict(
            name=str(i),
            traces=animated,
            data=[*panels.frame_traces([i], full=False), *_curve_markers(run, cur, i, full=False)],
        )
        for i in range(run.n_frames)
    ]
    H = height or g["height"]
    labels = [_frame_text(run, i) for i in range(run.n_frames)]
    _finish_animation(
        fig,
        labels,
        marks_run=run,
        redraw=three_d,
        paper_y=g["paper_y"],
        title=title or _result_title(run),
        subtitle=f"{_config_text(run.config)} · {PLAY_HINT}",
        height=H,
        bottom=g["bottom"],
    )
    _place_legends(fig, neuron_y=g["key_y"], curve_y=g["curve_key_y"])
    _diverged_note(fig, run, y=g["paper_y"](SLIDER_TOP - 4))
    return fig


def latest_frame(run, *, mass_ref: float, n_frames: int) -> tuple[list[dict], str]:
    """The run's latest snapshot as the last frame of an animation_figure of n_frames frames built earlier.

    Returns that frame's data for the neuron view and the angle view (the first two animated
    traces, marker sizes on the earlier figure's mass_ref) and its line above the slider: a live
    chart moves to the newest state without a new figure.
    """
    i = run.n_frames - 1
    v = _neuron_view(run.frames_subset([i]), mass_ref=mass_ref)
    # Two lines, as every frame's line of the full animation: one line ran past the figure's edge.
    label = f"frame {n_frames}/{n_frames} · {_frame_label(run, i)}<br>{frame_summary(run, i)}"
    return _frame_traces([v], [0], full=False), label
