"""Two runs side by side under one slider, with the same axis ranges on both sides."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from featviz.figures._controls import PLAY_HINT, _controls, _nearest_frame
from featviz.figures._curves import _dots, _mse_shown
from featviz.figures._data import _f32, _finite, _step_x
from featviz.figures._layout import _below_plots, _finish, _line, _log_axis, _log_range, _warning, _x_axis
from featviz.figures._neurons import (
    _add_angle_guides,
    _angle_trace,
    _fate_legend_traces,
    _mass_range,
    _mass_ref,
    _neuron_trace,
    _neuron_view,
    _style_angle,
    _style_view,
    _teacher_traces,
)
from featviz.figures._style import COMPARE_COLORS


def compare_figure(
    run_a,
    run_b,
    *,
    labels: tuple[str, str] = ("A", "B"),
    title: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """Two runs side by side under one slider, with the same axis ranges on both sides.

    Rows: the projections on the teacher span (only when both spans have the same dimension),
    the angle-vs-mass views, and both mse curves on one panel. Slider position s of
    N = max(T_a, T_b) maps to each run's nearest frame round(s / (N - 1) * (T - 1)).
    """
    runs = (run_a, run_b)
    ref = max(_mass_ref(_finite(r.metrics.mass, lo=0.0)) for r in runs)
    views = [_neuron_view(r, mass_ref=ref) for r in runs]
    same = runs[0].basis.shape[0] == runs[1].basis.shape[0]  # projections only when comparable
    three_d = same and views[0].ndim == 3
    fig = _grid(views, labels, same=same, three_d=three_d)
    arow, mrow = (2, 3) if same else (1, 2)
    extent = max(v.extent for v in views)
    mass_range = _mass_range(*views)
    if same:
        for col, (r, v) in enumerate(zip(runs, views, strict=True), start=1):
            for t in _teacher_traces(r, v, extent, showlegend=col == 1):
                fig.add_trace(t, row=1, col=col)
    for col in (1, 2):
        _add_angle_guides(fig, arow, col, mass_range, showlegend=col == 1)
    for t in _fate_legend_traces():
        fig.add_trace(t, row=arow, col=1)
    mse = [_mse_shown(r) for r in runs]
    _add_mse(fig, runs, mse, labels, mrow)

    N = max(r.n_frames for r in runs)
    idx = [[_nearest_frame(s, N, r.n_frames) for s in range(N)] for r in runs]

    def animated(s: int, full: bool) -> list:
        out = [_neuron_trace(v, ii[s], full=full) for v, ii in zip(views, idx, strict=True)] if same else []
        out += [_angle_trace(v, ii[s], full=full) for v, ii in zip(views, idx, strict=True)]
        for r, m, ii, color in zip(runs, mse, idx, COMPARE_COLORS, strict=True):
            out.append(_dots(float(_step_x(r.step[ii[s]])), [m[ii[s]]], [color], full=full))
        return out

    first = len(fig.data)
    cells = ([(1, 1), (1, 2)] if same else []) + [(arow, 1), (arow, 2), (mrow, 1), (mrow, 1)]
    for tr, (r_, c_) in zip(animated(0, True), cells, strict=True):
        fig.add_trace(tr, row=r_, col=c_)
    anim = list(range(first, len(fig.data)))
    if same:
        for col, v in enumerate(views, start=1):
            _style_view(fig, v, 1, col, extent, eye=1.45)  # a little closer than the Playground: two scenes share a row
    for col in (1, 2):
        _style_angle(fig, arow, col, mass_range, ytitle=col == 1)

    fig.frames = [dict(name=str(s), traces=anim, data=animated(s, False)) for s in range(N)]
    H, top, bottom = height or ((1200 if three_d else 1050) if same else 760), 140, 200
    slider_text = [_slider_text(runs, labels, [ii[s] for ii in idx]) for s in range(N)]
    menus, sliders = _controls(slider_text, redraw=three_d, y=_below_plots(H, top, bottom, 62))
    _finish(
        fig,
        title=title or f"Compare {labels[0]} and {labels[1]}",
        subtitle=PLAY_HINT,
        height=H,
        top=top,
        bottom=bottom,
        legend_px=150,
        updatemenus=menus,
        sliders=sliders,
        hovermode="closest",
    )
    for n, r in enumerate(r for r in runs if r.status == "diverged"):
        _warning(fig, f"{labels[runs.index(r)]}: {r.message}", y=1.02 + 0.03 * n)
    return fig


def _grid(views: list, labels: tuple[str, str], *, same: bool, three_d: bool) -> go.Figure:
    """Rows: both projections (when `same`), both angle-vs-mass views, one mse panel across."""
    la, lb = labels
    vt = "scene" if three_d else "xy"
    specs = ([[{"type": vt}, {"type": vt}]] if same else []) + [[{}, {}], [{"colspan": 2}, None]]
    titles = ([f"{la}: {views[0].subplot_title}", f"{lb}: {views[1].subplot_title}"] if same else []) + [
        f"{la}: angle vs mass",
        f"{lb}: angle vs mass",
        "mse of both runs",
    ]
    return make_subplots(
        rows=3 if same else 2,
        cols=2,
        specs=specs,
        subplot_titles=titles,
        row_heights=[0.56, 0.24, 0.2] if same else [0.55, 0.45],
        vertical_spacing=0.11 if same else 0.2,
        horizontal_spacing=0.1,
    )


def _add_mse(fig: go.Figure, runs, mse: list[np.ndarray], labels: tuple[str, str], row: int) -> None:
    """Both runs' mse on one log panel (A solid, B dashed), over the longer run's steps."""
    for r, m, lab, color, dash in zip(runs, mse, labels, COMPARE_COLORS, ("solid", "dash"), strict=True):
        hover = f"{lab}: " + "step %{customdata:,}, mse %{y:.3g}<extra></extra>"
        x = _f32(_step_x(r.step))
        trace = _line(x, m, color=color, width=2, dash=dash, customdata=r.step.astype(np.int64), hovertemplate=hover)
        fig.add_trace(trace.update(name=f"{lab}: mse"), row=row, col=1)
    all_mse = np.concatenate(mse)
    mse_range = _log_range(float(all_mse.min()), float(all_mse.max()), pad=0.3)
    _x_axis(fig, [int(r.step[-1]) for r in runs], row, 1)
    fig.update_yaxes(_log_axis(mse_range, max_labels=4), title_text="mse", row=row, col=1)


def _slider_text(runs, labels: tuple[str, str], frames: list[int]) -> str:
    """Both runs' frames in two compact lines above the slider."""

    def one(r, lab, i):
        al, dead, und = (int(x) for x in r.metrics.counts[i])
        return (
            f"{lab}: frame {i + 1}/{r.n_frames} · step {int(r.step[i]):,} · {r.stage_name(i)} — "
            f"{al}/{r.config.m} aligned, {dead} dead, {und} undecided, mse {r.mse[i]:.2g}"
        )

    return "<br>".join(one(r, lab, i) for r, lab, i in zip(runs, labels, frames, strict=True))
