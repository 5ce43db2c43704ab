"""The descent figure: an arrow from each neuron of a snapshot to where gradient descent sends it."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from featviz import projection
from featviz.descent import DESCENT_RADIUS_DEG, DescentTargets
from featviz.figures._data import _frame_text
from featviz.figures._layout import _axis_ref, _diverged_note, _finish, _scatter
from featviz.figures._neurons import (
    _fate_legend_traces,
    _neuron_trace,
    _neuron_view,
    _style_view,
    _teacher_traces,
)
from featviz.figures._style import CURSOR, FATE_COLORS, SECONDARY, teacher_color
from featviz.metrics import ALIGNED


def descent_figure(
    run,
    i: int,
    *,
    radius_deg: float = DESCENT_RADIUS_DEG,
    title: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """The descent-direction picture (PAPER.md section 4): where each neuron is heading at snapshot i.

    The neighbourhood T_t of teacher t is taken to be the neurons whose nearest teacher line
    is t and within radius_deg (30°) of it. At balance a neuron in T_t moves toward
    q_tj w*_t with sum_j q_tj^2 = 1; we draw the balanced share that splits the teacher's
    weight in proportion to mass:
        target_j = sign(w_j . w*_t) * sqrt(|a*_t| * mass_j / S_t) * w*_t,
    with S_t the total mass in T_t, so sum_{j in T_t} |target_j|^2 = |a*_t| (a neuron's
    |w_j|^2 equals its mass at balance) and the neuron stays on its side of the line. Every
    other neuron heads to 0. One arrow per neuron, from its position to its target, both
    projected like the neuron view (2-D arrows are annotations named 'descent', 3-D arrows
    are segments of the 'descent' trace with cone heads).
    """
    targets = DescentTargets.from_run(run, i, radius_deg=radius_deg)
    return descent_targets_figure(run, targets, title=title, height=height)


def descent_targets_figure(run, d: DescentTargets, *, title: str | None = None, height: int | None = None) -> go.Figure:
    """descent_figure of targets computed beforehand (the run gives the neurons and teachers)."""
    i = d.frame
    v = _neuron_view(run)
    tproj = projection.project(run.basis, d.target, np.zeros(d.target.shape[0]))
    pos = v.coords[i]
    extent = max(v.extent, projection.extent(tproj))
    colors = [teacher_color(t) if n else SECONDARY for t, n in zip(d.nearest, d.near, strict=True)]

    fig = make_subplots(rows=1, cols=1, specs=[[{"type": "scene"}]]) if v.ndim == 3 else make_subplots(rows=1, cols=1)
    for t in _teacher_traces(run, v, extent):
        fig.add_trace(t)
    for t in _fate_legend_traces(three_d=v.ndim == 3, lines=False):
        fig.add_trace(t)
    if v.ndim == 3:
        _add_segments(fig, pos, tproj, colors, extent)
    else:
        _add_arrows(fig, pos, tproj, colors)
    _add_targets(fig, tproj[d.near], [c for c, n in zip(colors, d.near, strict=True) if n], v.ndim)
    fig.add_trace(_neuron_trace(v, i))
    _style_view(fig, v, 1, 1, extent, eye=1.45)
    sub = (
        f"{_frame_text(run, i)}<br>arrows: toward sign·√(|a*ₜ|·mass/Sₜ)·w*ₜ within {d.radius_deg:g}° of a line "
        f"(coloured by teacher), toward 0 otherwise (grey)"
    )
    _finish(
        fig,
        title=title or "Descent direction: each neuron heads to a share of its teacher, or to 0",
        subtitle=sub,
        height=height or 680,
        top=120,
        bottom=110,
        legend_px=60 if v.ndim == 2 else 10,
    )
    _diverged_note(fig, run, y=1.0)
    return fig


def _add_segments(fig: go.Figure, pos: np.ndarray, tproj: np.ndarray, colors: list[str], extent: float) -> None:
    """3-D arrows: one 'descent' trace of segments (None between them) and cone heads at the targets."""
    xs, ys, zs, cs = [], [], [], []
    for p, q, c in zip(pos, tproj, colors, strict=True):
        xs += [float(p[0]), float(q[0]), None]
        ys += [float(p[1]), float(q[1]), None]
        zs += [float(p[2]), float(q[2]), None]
        cs += [c, c, c]
    fig.add_trace(
        go.Scatter3d(x=xs, y=ys, z=zs, mode="lines", name="descent", line=dict(color=cs, width=4), hoverinfo="skip")
    )
    vec = tproj - pos
    length = np.linalg.norm(vec, axis=-1, keepdims=True)
    moving = length[:, 0] > 1e-3 * extent
    if not moving.any():
        return
    u = vec[moving] / length[moving] * (0.08 * extent)
    tip = tproj[moving]
    fig.add_trace(
        go.Cone(
            x=tip[:, 0],
            y=tip[:, 1],
            z=tip[:, 2],
            u=u[:, 0],
            v=u[:, 1],
            w=u[:, 2],
            anchor="tip",
            sizemode="raw",
            sizeref=1.0,
            showscale=False,
            colorscale=[[0, CURSOR], [1, CURSOR]],
            name="descent heads",
            hoverinfo="skip",
        )
    )


def _add_arrows(fig: go.Figure, pos: np.ndarray, tproj: np.ndarray, colors: list[str]) -> None:
    """2-D arrows: one annotation named 'descent' per neuron, from its position to its target."""
    xref, yref = _axis_ref(fig, 1, 1)
    for p, q, color in zip(pos, tproj, colors, strict=True):
        fig.add_annotation(
            name="descent",
            x=float(q[0]),
            y=float(q[1]),
            ax=float(p[0]),
            ay=float(p[1]),
            xref=xref,
            yref=yref,
            axref=xref,
            ayref=yref,
            text="",
            showarrow=True,
            arrowhead=2,
            arrowsize=1.4,
            arrowwidth=1.4,
            arrowcolor=color,
            opacity=0.8,
        )


def _add_targets(fig: go.Figure, targets: np.ndarray, colors: list[str], ndim: int) -> None:
    """Open circles at the targets near a teacher, in each teacher's colour; a neutral legend entry."""
    if not targets.size:
        return
    for pts, color, legend in ((targets, colors, False), (np.full((1, ndim), None), FATE_COLORS[ALIGNED], True)):
        marker = dict(symbol="circle-open", size=7, color=color)
        style = dict(name="targets q·w* (teacher's colour)", legendgroup="targets", showlegend=legend)
        fig.add_trace(_scatter(pts.T, mode="markers", hoverinfo="skip", marker=marker, **style))
