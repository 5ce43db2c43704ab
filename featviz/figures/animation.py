"""The Playground's figure: a run's neuron views and training curves under one Play/slider, and its preview."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from featviz.figures._controls import PLAY_HINT, _controls
from featviz.figures._curves import _CURVE_MARKER_CELLS, _add_curves, _curve_markers
from featviz.figures._data import _config_title, _frame_text
from featviz.figures._layout import _below_plots, _diverged_note, _finish
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
    _view_title,
)
from featviz.metrics import span_rank

_TOP, _BOTTOM = 110, 200
_MARGIN = dict(l=60, r=30)


def _animation_layout(r: int, *, flat: bool = False) -> tuple[go.Figure, bool]:
    """The empty grid of animation_figure for a teacher span of dimension r: (figure, 3-D?).

    flat: a plain 2-D panel where the neurons' 3-D scene would be.
    """
    three_d = r >= 3 and not flat
    fig = make_subplots(
        rows=2,
        cols=3,
        specs=[
            [{"type": "scene" if three_d else "xy", "rowspan": 2}, {"type": "xy"}, {"type": "xy", "secondary_y": True}],
            [None, {"type": "xy"}, {"type": "xy"}],
        ],
        column_widths=[0.42, 0.29, 0.29],
        horizontal_spacing=0.075,
        vertical_spacing=0.16,
        subplot_titles=(
            _view_title(r),
            "angle to nearest teacher line vs mass",
            "mse (solid) and λ (dashed)",
            "captured mass per teacher (dashed: a*ᵢ)",
            "neurons by fate",
        ),
    )
    return fig, three_d


def preview_figure(cfg, *, note: str = "Training… the animation appears here when the run is ready.") -> go.Figure:
    """What the animation's place shows while its run trains: the same empty panels and a note.

    Same grid, titles and height as animation_figure(run of cfg), so the page does not jump when
    the run arrives, and the browser has loaded plotly.js by then.
    """
    # Flat: a 3-D scene costs the browser up to a second to set up (measured with software WebGL),
    # time better spent on the animation itself.
    fig, _ = _animation_layout(span_rank(cfg), flat=True)
    for row, col in ((1, 1), (1, 2), (1, 3), (2, 2), (2, 3)):  # plotly draws only panels with a trace
        fig.add_trace(go.Scatter(x=[], y=[], hoverinfo="skip", showlegend=False), row=row, col=col)
    fig.update_xaxes(showticklabels=False, ticks="", showgrid=False)
    fig.update_yaxes(showticklabels=False, ticks="", showgrid=False)
    return _finish(
        fig,
        title=_config_title(cfg),
        subtitle=note,
        height=820,
        top=_TOP,
        bottom=_BOTTOM,
        margin=_MARGIN,
        showlegend=False,
    )


def animation_figure(run, *, title: str | None = None, height: int | None = None, branch=None) -> go.Figure:
    """One animated figure of a run: neuron view, angle-vs-mass view and training curves.

    Panels: the student neurons projected on the teacher span with the teacher lines (left;
    3-D when the span is 3-D or larger); the angle to the nearest teacher line against the
    mass (log); mse with lam on a second axis; signed mass captured per teacher with a*_i
    dashed; neuron counts by fate. The first snapshot is shown; Play or the slider move all
    panels together. Frames carry only the animated traces (neurons and current-frame markers)
    and the title line, so the static curves are sent once. branch: (step, parent run) of a
    fork: the curves show the branch step and the parent's continuation, dashed.
    """
    v = _neuron_view(run)
    fig, three_d = _animation_layout(v.r)
    for t in _teacher_traces(run, v, v.extent):
        fig.add_trace(t, row=1, col=1)
    mass_range = _mass_range(v)
    _add_angle_guides(fig, 1, 2, mass_range, showlegend=True)
    cells = {"mse": (1, 3), "captured": (2, 2), "counts": (2, 3)}
    cur = _add_curves(fig, run, cells, branch=branch)
    for t in _fate_legend_traces():
        fig.add_trace(t, row=1, col=2)

    # Animated traces last; their indices are what the frames update.
    first = len(fig.data)
    fig.add_trace(_neuron_trace(v, 0), row=1, col=1)
    fig.add_trace(_angle_trace(v, 0), row=1, col=2)
    for tr, (cell, sec) in zip(_curve_markers(run, cur, 0, full=True), _CURVE_MARKER_CELLS, strict=True):
        r, c = cells[cell]
        fig.add_trace(tr, row=r, col=c, secondary_y=sec)
    animated = list(range(first, len(fig.data)))

    _style_view(fig, v, 1, 1, v.extent)
    _style_angle(fig, 1, 2, mass_range)

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
    H = height or 820
    labels = [_frame_text(run, i) for i in range(run.n_frames)]
    menus, sliders = _controls(labels, redraw=three_d, y=_below_plots(H, _TOP, _BOTTOM, 62))
    _finish(
        fig,
        title=title or _config_title(run.config),
        subtitle=PLAY_HINT,
        height=H,
        top=_TOP,
        bottom=_BOTTOM,
        margin=_MARGIN,
        legend_px=150,
        legend=dict(xanchor="left"),
        updatemenus=menus,
        sliders=sliders,
        hovermode="closest",
    )
    _diverged_note(fig, run, y=1.045)
    return fig
