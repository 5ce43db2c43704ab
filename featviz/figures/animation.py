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
from featviz.figures._data import _config_text, _frame_text, _result_title
from featviz.figures._layout import _diverged_note, _finish
from featviz.figures._neurons import (
    _add_angle_guides,
    _angle_trace,
    _fate_legend_traces,
    _mass_range,
    _neuron_trace,
    _neuron_view,
    _style_angle,
    _style_view,
    _teacher_traces,
)
from featviz.metrics import span_rank
from featviz.projection import view_title

# The figure in pixels, top to bottom: the title under the modebar, the frame line and the
# slider, then the neuron view (left, the largest panel) with the angle-vs-mass and fate panels
# beside it, then one row of training curves, then the legend. Heights are fixed in pixels, so
# nothing moves with the width the page gives; the widths are fractions, checked from 900 px up.
_ROW_GAP = 110  # under the neuron view: its axis titles, then the curve panels' titles
_SIDE_GAP = 100  # between the two side panels: the x axis title and the next panel's title
_CURVES = 190  # height of the training-curve row
_BOTTOM = 150  # step axis titles and the legend
HERO_PX = 470  # default height of the neuron view
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
    return int(min(max(0.36 * width_hint, 430), 580))


def _geometry(hero: int) -> dict:
    plot = hero + _ROW_GAP + _CURVES
    side = (hero - _SIDE_GAP) / 2

    def y(top_px: float, bottom_px: float) -> list[float]:  # px below the plots' top -> paper y domain
        return [1 - bottom_px / plot, 1 - top_px / plot]

    return dict(
        plot=plot,
        height=ANIMATION_TOP + plot + _BOTTOM,
        hero=y(0, hero),
        angle=y(0, side),
        fates=y(hero - side, hero),
        curves=y(plot - _CURVES, plot),
        paper_y=_paper_y(plot),
    )


def _animation_layout(r: int, *, flat: bool = False, hero: int = HERO_PX) -> tuple[go.Figure, bool, dict]:
    """The empty panels of animation_figure for a teacher span of dimension r: (figure, 3-D?, geometry).

    flat: a plain 2-D panel where the neurons' 3-D scene would be.
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
    g = _geometry(hero)
    cells = [((1, 1), _HERO_X, g["hero"]), ((1, 3), _SIDE_X, g["angle"]), ((2, 3), _SIDE_X, g["fates"])]
    cells += [((3, c + 1), x, g["curves"]) for c, x in enumerate(_CURVE_X)]
    for ((row, col), x, y), note in zip(cells, fig.layout.annotations, strict=True):
        sp = fig.get_subplot(row, col)
        if isinstance(sp, go.layout.Scene):
            sp.domain = dict(x=x, y=y)
        else:
            sp.xaxis.domain, sp.yaxis.domain = x, y
        note.update(x=(x[0] + x[1]) / 2, y=y[1], yanchor="bottom", yshift=4)
    fig.get_subplot(3, 1, secondary_y=True).yaxis.domain = g["curves"]  # the mse panel's λ axis
    return fig, three_d, g


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
    fig, _, g = _animation_layout(span_rank(cfg), flat=True, hero=hero_px(width_hint))
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
        bottom=_BOTTOM,
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
    hero = hero_px(width_hint)
    fig, three_d, g = _animation_layout(v.r, hero=hero)
    for t in _teacher_traces(run, v, v.extent):
        fig.add_trace(t, row=1, col=1)
    mass_range = _mass_range(v)
    _add_angle_guides(fig, 1, 3, mass_range, showlegend=True, dead_floor=run.metrics.dead_floor)
    cur = _add_curves(fig, run, _CELLS, ytitles=False, branch=branch)
    for t in _fate_legend_traces():
        fig.add_trace(t, row=1, col=3)

    # Animated traces last; their indices are what the frames update. The figure opens on the
    # last frame: the result, not the undecided cloud of the start.
    last = run.n_frames - 1
    first = len(fig.data)
    fig.add_trace(_neuron_trace(v, last), row=1, col=1)
    fig.add_trace(_angle_trace(v, last), row=1, col=3)
    for tr, (cell, sec) in zip(_curve_markers(run, cur, last, full=True), _CURVE_MARKER_CELLS, strict=True):
        r, c = _CELLS[cell]
        fig.add_trace(tr, row=r, col=c, secondary_y=sec)
    animated = list(range(first, len(fig.data)))

    _style_view(fig, v, 1, 1, v.extent)  # the default distance keeps the lowest tick labels in the panel
    _style_angle(fig, 1, 3, mass_range, ytitle=True)

    fig.frames = [
        dict(
            name=str(i),
            traces=animated,
            data=[
                _neuron_trace(v, i, full=False),
                _angle_trace(v, i, full=False),
                *_curve_markers(run, cur, i, full=False),
            ],
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
        bottom=_BOTTOM,
    )
    _diverged_note(fig, run, y=g["paper_y"](SLIDER_TOP - 4))
    return fig
