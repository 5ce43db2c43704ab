"""The neuron views: the projection on the teacher span, the angle-vs-mass view, teacher lines, fate legend.

A neuron's marker: colour = nearest teacher when aligned (grey undecided, light grey dead), symbol =
fate, area in the projection proportional to its mass |a_j||w_j| (dead neurons stay small but visible).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from featviz import projection
from featviz.figures._data import MASS_FLOOR, _f32, _finite, _teacher_name
from featviz.figures._layout import _axis_ref, _line, _log_axis, _log_range, _scatter
from featviz.figures._style import (
    FATE_COLORS,
    FATE_DASH,
    FATE_SYMBOLS,
    GUIDE,
    NEURON_EDGE,
    OUTLINE,
    teacher_color,
)
from featviz.metrics import ALIGNED, ALIGNED_DEG, DEAD, DEAD_SCALE, DEAD_SHRINK, UNDECIDED

# Marker diameters (px) of the projection, by mass: big enough to see from the back of a room.
SIZE_2D = (9.0, 30.0)
SIZE_3D = (7.0, 24.0)


@dataclass
class _View:
    """Per-snapshot drawing data of one run's neuron view (projection on the teacher span)."""

    coords: np.ndarray  # (T,m,n) with n = 2 (xy) or 3 (scene)
    teacher_dirs: np.ndarray  # (k,n) projected teacher directions, unit or 0 when out of view
    r: int  # dimension of the teacher span
    color_codes: np.ndarray  # (T,m) index into colorscale (see _color_codes)
    colorscale: list  # [[position, colour], ...], one stop per code
    symbols: np.ndarray  # (T,m) str
    sizes: np.ndarray  # (T,m)
    custom: np.ndarray  # (T,m,5) angle, mass, orth_norm, a_j, nearest teacher (1-based)
    angle: np.ndarray  # (T,m)
    mass_shown: np.ndarray  # (T,m) mass floored at MASS_FLOOR
    mass_ref: float

    @property
    def ndim(self) -> int:
        return self.coords.shape[-1]

    @property
    def extent(self) -> float:
        return projection.extent(self.coords)

    @property
    def subplot_title(self) -> str:
        return projection.view_title(self.r)

    def axis_titles(self) -> tuple[str, ...]:
        return projection.axis_titles(self.r, self.ndim)


def _color_codes(fate: np.ndarray, nearest: np.ndarray, k: int) -> tuple[np.ndarray, list]:
    """Colour of each neuron as a number and the colorscale that maps it exactly to its colour.

    Codes 0..k-1: aligned to teacher t (the teacher's colour); k: undecided; k+1: dead. Numbers
    instead of colour strings make frames smaller and much faster to build.
    """
    codes = projection.color_index(fate, nearest, k).astype(np.float32)
    colors = [teacher_color(t) for t in range(k)] + [FATE_COLORS[UNDECIDED], FATE_COLORS[DEAD]]
    scale = [[c / (k + 1), color] for c, color in enumerate(colors)]
    return codes, scale


def code_color(colorscale: list, code: float) -> str:
    """The colour a numeric marker colour stands for (inverse of the coding in _color_codes)."""
    return colorscale[round(float(code))][1]


def _fate_symbols(fate: np.ndarray) -> np.ndarray:
    return np.array([FATE_SYMBOLS[f] for f in range(3)], dtype=object)[fate]


def _neuron_view(run, *, mass_ref: float | None = None) -> _View:
    met = run.metrics
    r = run.basis.shape[0]
    coords = projection.project(run.basis, run.w, met.orth_norm)
    tdirs = projection.teacher_directions(run.teacher_w, run.basis)
    mass = _finite(met.mass, lo=0.0)
    ref = projection.mass_ref(mass) if mass_ref is None else mass_ref
    n = coords.shape[-1]
    sizes = SIZE_2D if n == 2 else SIZE_3D
    codes, scale = _color_codes(met.fate, met.nearest, run.teacher_w.shape[0])
    custom = np.stack(
        [
            met.line_angle_deg,
            mass,
            met.orth_norm,
            run.a,
            met.nearest + 1,
        ],
        -1,
    )
    return _View(
        coords=_finite(coords),
        teacher_dirs=tdirs,
        r=r,
        color_codes=codes,
        colorscale=scale,
        symbols=_fate_symbols(met.fate),
        sizes=projection.marker_sizes(mass, ref, small=sizes[0], big=sizes[1]),
        custom=_finite(custom),
        angle=_finite(met.line_angle_deg, lo=0.0, hi=90.0),
        mass_shown=np.maximum(mass, MASS_FLOOR),
        mass_ref=ref,
    )


_NEURON_HOVER = (
    "neuron %{pointNumber}<br>"
    "angle to line ±w*%{customdata[4]:.0f}: %{customdata[0]:.2f}°<br>"
    "mass |a||w|: %{customdata[1]:.3g}<br>"
    "|w⊥|: %{customdata[2]:.3g}<br>"
    "a: %{customdata[3]:.3g}<extra></extra>"
)


def _color_scale_props(v: _View) -> dict:
    return dict(colorscale=v.colorscale, cmin=0, cmax=len(v.colorscale) - 1, showscale=False)


def _neuron_trace(v: _View, i: int, *, name: str = "student neurons", full: bool = True):
    """The projection scatter of snapshot i; full=False leaves out what frames do not change."""
    c = _f32(v.coords[i])
    marker = dict(color=v.color_codes[i], symbol=v.symbols[i].tolist(), size=_f32(v.sizes[i]))
    common = dict(customdata=_f32(v.custom[i]), marker=marker)
    if full:
        marker |= _color_scale_props(v)
        # A dark edge: a neuron drawn in its teacher's colour stays visible on that teacher's line.
        marker["line"] = dict(width=1.5 if v.ndim == 2 else 1.0, color=NEURON_EDGE)
        common |= dict(name=name, mode="markers", hovertemplate=_NEURON_HOVER, showlegend=False)
    if v.ndim == 3:
        return dict(type="scatter3d", x=c[:, 0], y=c[:, 1], z=c[:, 2], **common)
    return dict(type="scatter", x=c[:, 0], y=c[:, 1], **common)


def _angle_trace(v: _View, i: int, *, name: str = "angle vs mass", full: bool = True):
    marker = dict(color=v.color_codes[i], symbol=v.symbols[i].tolist())
    common = dict(customdata=_f32(v.custom[i]), marker=marker)
    if full:
        marker |= _color_scale_props(v) | dict(size=9, line=dict(width=0.5, color=OUTLINE))
        common |= dict(name=name, mode="markers", hovertemplate=_NEURON_HOVER, showlegend=False)
    return dict(type="scatter", x=_f32(v.angle[i]), y=_f32(v.mass_shown[i]), **common)


def _teacher_traces(run, v: _View, extent: float, *, showlegend: bool = True) -> list:
    """Lines +-w*_i through the origin, long enough to reach the edge of the fixed axes."""
    out = []
    for i, u in enumerate(v.teacher_dirs):
        name = _teacher_name(i, float(run.teacher_a[i]), out_of_view=not np.any(u))
        seg = np.stack([-extent * u, extent * u])
        style = dict(
            mode="lines",
            name=name,
            legendgroup=f"teacher{i}",
            showlegend=showlegend,
            hoverinfo="name",
            line=dict(color=teacher_color(i), width=3 if v.ndim == 2 else 5),
            opacity=0.6,
        )
        out.append(_scatter(seg.T, **style))
    return out


def _fate_legend_traces(*, three_d: bool = False, lines: bool = True) -> list:
    """Legend-only entries for the fates: the neuron symbol and (lines) the style of its count curve."""
    text = {
        ALIGNED: f"aligned (≤ {ALIGNED_DEG:g}° from a line)",
        UNDECIDED: "undecided",
        DEAD: f"dead (shrank to ≤ {DEAD_SHRINK:g}× its peak, < {DEAD_SCALE:g}·Σ|a*ᵢ|)",
    }
    out = []
    for f in (ALIGNED, UNDECIDED, DEAD):
        style = dict(
            mode="lines+markers" if lines else "markers",
            name=text[f],
            legendgroup=f"fate{f}",
            marker=dict(symbol=FATE_SYMBOLS[f], color=FATE_COLORS[f], size=9),
            line=dict(color=FATE_COLORS[f], dash=FATE_DASH[f], width=2),
        )
        out.append(_scatter([[None]] * (3 if three_d else 2), **style))
    return out


def _style_view(fig: go.Figure, v: _View, row: int, col: int, extent: float, *, eye: float = 1.6) -> None:
    """Fixed, symmetric axes with equal scales (angles on screen are true angles).

    eye: 3-D camera distance along x and y; a little further out than plotly's 1.25 keeps the
    tick labels of a small scene inside its panel.
    """
    titles = v.axis_titles()
    rng = [-extent, extent]
    if v.ndim == 3:
        axes = {
            name: dict(range=rng, autorange=False, title=dict(text=t), nticks=5)
            for name, t in zip(("xaxis", "yaxis", "zaxis"), titles, strict=True)
        }
        camera = dict(eye=dict(x=eye, y=eye, z=0.72 * eye))
        fig.update_scenes(aspectmode="cube", camera=camera, row=row, col=col, **axes)
        return
    xref, _ = _axis_ref(fig, row, col)
    yr = [-0.06 * extent, extent] if v.r == 1 else rng
    fig.update_xaxes(range=rng, autorange=False, title_text=titles[0], constrain="domain", row=row, col=col)
    fig.update_yaxes(
        range=yr,
        autorange=False,
        title_text=titles[1],
        scaleanchor=xref,
        scaleratio=1,
        constrain="domain",
        row=row,
        col=col,
    )


def _add_angle_guides(
    fig: go.Figure, row: int, col: int, mass_range: list[float], *, showlegend: bool, dead_floor: float
) -> None:
    """Dotted threshold lines: the aligned angle and the absolute part of the dead rule."""
    lo, hi = 10 ** mass_range[0], 10 ** mass_range[1]
    guides = (([ALIGNED_DEG, ALIGNED_DEG], [lo, hi], showlegend), ([0, 90], [dead_floor, dead_floor], False))
    for x, y, legend in guides:
        guide = _line(x, y, color=GUIDE, width=1, dash="dot", name="fate thresholds", legendgroup="thr")
        fig.add_trace(guide.update(hoverinfo="name", showlegend=legend), row=row, col=col)


def _style_angle(fig: go.Figure, row: int, col: int, mass_range: list[float], *, ytitle: bool = True) -> None:
    fig.update_xaxes(
        range=[-2, 92],
        autorange=False,
        tickvals=[0, 15, 30, 45, 60, 75, 90],
        title_text="angle to nearest line (°)",
        row=row,
        col=col,
    )
    fig.update_yaxes(
        _log_axis(mass_range, max_labels=5), title_text="mass |a||w|" if ytitle else None, row=row, col=col
    )


def _mass_range(*views: _View, floor: float | None = None) -> list[float]:
    """Log range of the angle view's mass axis: every neuron, and the dead floor when given."""
    ms = np.concatenate([v.mass_shown.ravel() for v in views] + ([[floor]] if floor else []))
    return _log_range(float(ms.min()), float(ms.max()), pad=0.25)


def _frame_traces(views, frames, *, full: bool, projections: bool = True) -> list[dict]:
    """One frame's neuron traces: each view's projection (unless not projections), then each view's angle view."""
    pairs = list(zip(views, frames, strict=True))
    out = [_neuron_trace(v, i, full=full) for v, i in pairs] if projections else []
    return out + [_angle_trace(v, i, full=full) for v, i in pairs]


@dataclass(frozen=True)
class _NeuronPanels:
    """The neuron panels of one figure, one set per run: its projection (where drawn) and its angle view.

    All runs share one extent for the projections and one mass range for the angle views; the
    first run's teacher lines and thresholds carry the legend.
    """

    runs: tuple
    views: tuple[_View, ...]
    view_cells: tuple[tuple[int, int], ...]  # (row, col) of each run's projection; () draws none
    angle_cells: tuple[tuple[int, int], ...]  # (row, col) of each run's angle view

    @property
    def cells(self) -> list[tuple[int, int]]:
        """Where the traces of frame_traces go, in their order."""
        return [*self.view_cells, *self.angle_cells]

    @property
    def extent(self) -> float:
        return max(v.extent for v in self.views)

    @property
    def mass_range(self) -> list[float]:
        return _mass_range(*self.views)

    def add_static(self, fig: go.Figure) -> None:
        """What frames do not change: teacher lines in the projections, fate thresholds in the angle views."""
        extent, mass_range = self.extent, self.mass_range
        for n, (run, v, (row, col)) in enumerate(zip(self.runs, self.views, self.view_cells, strict=False)):
            for t in _teacher_traces(run, v, extent, showlegend=n == 0):
                fig.add_trace(t, row=row, col=col)
        for n, (run, (row, col)) in enumerate(zip(self.runs, self.angle_cells, strict=True)):
            _add_angle_guides(fig, row, col, mass_range, showlegend=n == 0, dead_floor=run.metrics.dead_floor)

    def frame_traces(self, frames: list[int], *, full: bool) -> list[dict]:
        """The animated traces of each run's snapshot frames[n], to go in `cells`."""
        return _frame_traces(self.views, frames, full=full, projections=bool(self.view_cells))

    def style(self, fig: go.Figure, *, eye: float = 1.6) -> None:
        """Fixed axes: equal scales in the projections (eye: their 3-D camera distance), log mass in the angle views."""
        extent, mass_range = self.extent, self.mass_range
        for v, (row, col) in zip(self.views, self.view_cells, strict=False):
            _style_view(fig, v, row, col, extent, eye=eye)
        for n, (row, col) in enumerate(self.angle_cells):
            _style_angle(fig, row, col, mass_range, ytitle=n == 0)
