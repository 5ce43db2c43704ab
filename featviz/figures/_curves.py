"""The training-curve panels: mse with λ, captured mass per teacher, neurons by fate, and their markers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from featviz.figures._data import MASS_FLOOR, _f32, _finite, _step_x, _sub, _teacher_total_name
from featviz.figures._layout import _lin_range, _line, _log_axis, _log_range, _x_axis
from featviz.figures._style import CURSOR, FATE_COLORS, FATE_DASH, GUIDE, INK, OUTLINE, SECONDARY, teacher_color
from featviz.metrics import ALIGNED, DEAD, FATE_NAMES, UNDECIDED
from featviz.run import STAGE_1

_HOVER_STEP = "step %{customdata:,}"


@dataclass
class _Curves:
    """Fixed axis ranges of the curve panels, for the current-frame markers."""

    mse_range: list[float]
    lam_range: list[float]
    lam_log: bool  # False when lam is 0 somewhere (linear axis)
    cap_range: list[float]
    count_range: list[float]
    mass_range: list[float] | None = None  # log range of the total-mass panel, when drawn


def _mse_shown(run) -> np.ndarray:
    return _finite(run.mse, lo=1e-30)


def _lam_shown(run) -> tuple[np.ndarray, bool]:
    lam = _finite(run.lam, lo=0.0)
    return lam, bool((lam > 0).all())


def _add_curves(
    fig: go.Figure,
    run,
    cells: dict[str, tuple[int, int]],
    *,
    showlegend: bool = True,
    ytitles: bool = True,
    branch=None,
) -> _Curves:
    """Static curves: mse with lam on a secondary axis, captured mass per teacher, counts by fate,
    and (when cells has "mass") the total and far mass against sum_i |a*_i|.

    ytitles=False leaves the y axes untitled where the panel titles say what they show.
    branch: (step, parent run) for a fork: a vertical line at the branch step and the parent's
    own continuation after it, dashed and faint, in each panel.
    """
    mse_range, lam_range, lam_log = _add_mse_lam(fig, run, *cells["mse"], showlegend=showlegend, ytitles=ytitles)
    cap_range = _add_captured(fig, run, *cells["captured"], ytitle=ytitles)
    count_range = _add_counts(fig, run, *cells["counts"], ytitle=ytitles)
    mass_range = _add_mass(fig, run, *cells["mass"], showlegend=showlegend) if "mass" in cells else None
    curves = _Curves(mse_range, lam_range, lam_log, cap_range, count_range, mass_range)
    if branch is not None:
        _add_branch(fig, run, *branch, curves, cells)
    return curves


def _add_branch(fig: go.Figure, run, step: int, parent, cur: _Curves, cells: dict[str, tuple[int, int]]) -> None:
    """A fork's branch point (a vertical line) and the parent's continuation after it (dashed)."""
    after = parent.step >= step
    x = _f32(_step_x(parent.step[after]))
    met = parent.metrics
    k = met.captured.shape[1]
    series = {
        "mse": [(_mse_shown(parent)[after], INK)],
        "captured": [(_finite(met.captured[after, i]), teacher_color(i)) for i in range(k)],
        "counts": [(met.counts[after, f].astype(np.int32), FATE_COLORS[f]) for f in (ALIGNED, UNDECIDED, DEAD)],
    }
    # The panels' ranges grow to hold the parent's continuation too.
    shown_mse = np.concatenate([_mse_shown(run), series["mse"][0][0]])
    cur.mse_range = _log_range(float(shown_mse.min()), float(shown_mse.max()), pad=0.3)
    fig.update_yaxes(_log_axis(cur.mse_range), row=cells["mse"][0], col=cells["mse"][1], secondary_y=False)
    caps = np.concatenate([_finite(run.metrics.captured).ravel(), *[y for y, _ in series["captured"]]])
    caps = np.concatenate([caps, _finite(run.teacher_a), [0.0]])
    cur.cap_range = _lin_range(float(caps.min()), float(caps.max()))
    fig.update_yaxes(range=cur.cap_range, row=cells["captured"][0], col=cells["captured"][1])
    ranges = {"mse": (cur.mse_range, True), "captured": (cur.cap_range, False), "counts": (cur.count_range, False)}
    for cell, lines in series.items():
        r, c = cells[cell]
        for y, color in lines:
            trace = _line(x, y, color=color, width=1.5, dash="dash", name="parent run", hoverinfo="skip")
            fig.add_trace(trace.update(opacity=0.45, showlegend=False), row=r, col=c)
        yr, log = ranges[cell]
        edge = _vline(float(_step_x(step)), yr, log=log, full=False)
        name = f"branch at step {step:,}"
        fig.add_trace(_line(edge["x"], edge["y"], color=GUIDE, width=1.5, dash="dot", name=name), row=r, col=c)
        fig.data[-1].update(showlegend=False, hoverinfo="name")


def _teacher_total(run) -> float:
    return float(np.abs(_finite(run.teacher_a)).sum())


def _add_mass(fig: go.Figure, run, r: int, c: int, *, showlegend: bool) -> list[float]:
    """Total mass and far mass (log) with sum_i |a*_i| dotted: the excess a run carries is visible."""
    x, cd = _f32(_step_x(run.step)), run.step.astype(np.int64)
    met = run.metrics
    total, far = _finite(met.total_mass, lo=MASS_FLOOR), _finite(met.far_mass, lo=MASS_FLOOR)
    ref = _teacher_total(run)
    for y, name, style, group in (
        (total, "total mass Σ|aⱼ|‖wⱼ‖", dict(color=INK, width=2), "total"),
        (far, "far mass Σ mass·δ²", dict(color=SECONDARY, width=2, dash="dash"), "far"),
    ):
        hover = _HOVER_STEP + f"<br>{name.split(' Σ')[0]}: " + "%{y:.3g}<extra></extra>"
        trace = _line(x, _f32(y), **style, customdata=cd, name=name, legendgroup=group, hovertemplate=hover)
        fig.add_trace(trace.update(showlegend=showlegend), row=r, col=c)
    xr = [1.0, float(run.step[-1]) + 1.0]
    ref_line = _line(xr, [ref, ref], color=GUIDE, width=2, dash="dot", name=_teacher_total_name(ref))
    fig.add_trace(ref_line.update(legendgroup="ref", showlegend=showlegend, hoverinfo="name"), row=r, col=c)
    lo = max(min(float(total.min()), float(far.min()), ref), MASS_FLOOR)
    hi = max(float(total.max()), float(far.max()), ref)
    rng = _log_range(lo, hi, pad=0.2)
    _x_axis(fig, [int(run.step[-1])], r, c)
    fig.update_yaxes(_log_axis(rng, max_labels=4), row=r, col=c)
    return rng


def _add_mse_lam(
    fig: go.Figure, run, r: int, c: int, *, showlegend: bool, ytitles: bool = True
) -> tuple[list[float], list[float], bool]:
    """mse (log, left) and lam (right; linear when it reaches 0); returns both ranges and lam's scale."""
    x, cd = _f32(_step_x(run.step)), run.step.astype(np.int64)
    mse = _mse_shown(run)
    lam, lam_log = _lam_shown(run)
    for y, name, style, label, group, secondary in (
        (mse, "mse (left)", dict(color=INK, width=2), "mse", "mse", False),
        (lam, "λ (right)", dict(color=SECONDARY, width=1.5, dash="dash"), "λ", "lam", True),
    ):
        hover = _HOVER_STEP + f"<br>{label} " + "%{y:.3g}<extra></extra>"
        trace = _line(x, y, **style, customdata=cd, name=name, legendgroup=group, hovertemplate=hover)
        notes = _lam_notes(run) if secondary else None
        if notes is not None:  # the stage-1 point says why λ dips there
            trace.update(text=notes, hovertemplate=hover.replace("<extra>", "%{text}<extra>"))
        fig.add_trace(trace.update(showlegend=showlegend), row=r, col=c, secondary_y=secondary)
    mse_range = _log_range(float(mse.min()), float(mse.max()), pad=0.3)
    if lam_log:
        lam_range = _log_range(float(lam.min()), float(lam.max()), pad=0.3)
    else:
        lam_range = _lin_range(0.0, float(lam.max()) or 1.0)
    _x_axis(fig, [int(run.step[-1])], r, c)
    fig.update_yaxes(_log_axis(mse_range, max_labels=4), title_text="mse" if ytitles else None, row=r, col=c)
    if lam_log:
        lam_axis = _log_axis(lam_range, max_labels=3)
    else:
        lam_axis = dict(type="linear", range=lam_range, autorange=False, nticks=3)
    fig.update_yaxes(lam_axis, title_text="λ" if ytitles else None, showgrid=False, secondary_y=True, row=r, col=c)
    return mse_range, lam_range, lam_log


LAM_STAGE1_NOTE = "stage 1: weight decay 1/η = init/η₁, so the one large step is W ← −η·∂L/∂W"


def _lam_notes(run) -> list[str] | None:
    """Hover notes of the λ curve: why its stage-1 point (algo=paper) is not the λ setting; None without stage 1."""
    at = np.flatnonzero(run.stage == STAGE_1)
    if not at.size:
        return None
    notes = [""] * run.n_frames
    for i in at:
        notes[i] = f"<br>{LAM_STAGE1_NOTE}"
    return notes


def _add_captured(fig: go.Figure, run, r: int, c: int, *, ytitle: bool = True) -> list[float]:
    """Signed mass captured by each teacher, with its a*_i dashed; returns the panel's y range."""
    x, cd = _f32(_step_x(run.step)), run.step.astype(np.int64)
    cap = _finite(run.metrics.captured)
    a_star = _finite(run.teacher_a)
    xr = [1.0, float(run.step[-1]) + 1.0]
    for i in range(cap.shape[1]):
        color, group, name = teacher_color(i), f"teacher{i}", f"captured by w*{_sub(i + 1)}"
        hover = _HOVER_STEP + f"<br>{name}: " + "%{y:.3g}<extra></extra>"
        curve = _line(x, _f32(cap[:, i]), color=color, width=2, customdata=cd, name=name, hovertemplate=hover)
        fig.add_trace(curve.update(legendgroup=group, showlegend=False), row=r, col=c)
        a_name = f"a*{_sub(i + 1)} = {a_star[i]:.3g}"
        target = _line(xr, [a_star[i]] * 2, color=color, width=1, dash="dash", name=a_name)
        fig.add_trace(target.update(legendgroup=group, showlegend=False, hoverinfo="name"), row=r, col=c)
    lo = min(0.0, float(cap.min()), float(a_star.min()))
    cap_range = _lin_range(lo, max(0.0, float(cap.max()), float(a_star.max())))
    _x_axis(fig, [int(run.step[-1])], r, c)
    title = "signed mass a|w|" if ytitle else None
    fig.update_yaxes(range=cap_range, autorange=False, title_text=title, nticks=5, row=r, col=c)
    return cap_range


def _add_counts(fig: go.Figure, run, r: int, c: int, *, ytitle: bool = True) -> list[float]:
    """Neurons per fate over the steps (a step function); returns the panel's y range."""
    x, cd = _f32(_step_x(run.step)), run.step.astype(np.int64)
    for f in (ALIGNED, UNDECIDED, DEAD):
        hover = _HOVER_STEP + f"<br>{FATE_NAMES[f]}: " + "%{y}<extra></extra>"
        counts = run.metrics.counts[:, f].astype(np.int32)
        trace = _line(x, counts, color=FATE_COLORS[f], width=2, dash=FATE_DASH[f], customdata=cd, hovertemplate=hover)
        trace.update(line_shape="hv", name=f"{FATE_NAMES[f]} neurons", legendgroup=f"fate{f}", showlegend=False)
        fig.add_trace(trace, row=r, col=c)
    count_range = [-0.03 * run.config.m - 0.5, 1.03 * run.config.m + 0.5]
    _x_axis(fig, [int(run.step[-1])], r, c)
    title = "neurons" if ytitle else None
    fig.update_yaxes(range=count_range, autorange=False, title_text=title, nticks=5, row=r, col=c)
    return count_range


def _vline(x: float, yr: list[float], *, log: bool, full: bool):
    y = [10 ** yr[0], 10 ** yr[1]] if log else list(yr)
    kw = dict(type="scatter", x=[x, x], y=y)
    if full:
        kw |= dict(
            mode="lines", line=dict(color=CURSOR, width=1), hoverinfo="skip", showlegend=False, name="current frame"
        )
    return kw


def _dots(x: float, ys, colors, *, full: bool, name: str = "current frame", symbol: str = "circle"):
    kw = dict(type="scatter", x=[x] * len(ys), y=[float(y) for y in ys])
    if full:
        kw |= dict(
            mode="markers",
            name=name,
            showlegend=False,
            hoverinfo="skip",
            marker=dict(color=list(colors), size=9, symbol=symbol, line=dict(width=1.5, color=OUTLINE)),
        )
    return kw


def _curve_markers(run, cur: _Curves, i: int, *, full: bool) -> list:
    """Animated current-frame markers, in the order of _CURVE_MARKER_CELLS (the mass panel's last,
    when it is drawn)."""
    x = float(_step_x(run.step[i]))
    met = run.metrics
    k = met.captured.shape[1]
    lam, _ = _lam_shown(run)
    mass = []
    if cur.mass_range is not None:
        ys = [max(float(_finite(met.total_mass[i])), MASS_FLOOR), max(float(_finite(met.far_mass[i])), MASS_FLOOR)]
        mass = [_vline(x, cur.mass_range, log=True, full=full), _dots(x, ys, [INK, SECONDARY], full=full)]
    return [
        _vline(x, cur.mse_range, log=True, full=full),
        _dots(x, [_mse_shown(run)[i]], [INK], full=full),
        _dots(x, [lam[i]], [SECONDARY], full=full, symbol="square"),
        _vline(x, cur.cap_range, log=False, full=full),
        _dots(x, _finite(met.captured[i]), [teacher_color(t) for t in range(k)], full=full),
        _vline(x, cur.count_range, log=False, full=full),
        _dots(x, met.counts[i], [FATE_COLORS[f] for f in range(3)], full=full),
        *mass,
    ]


# (cell name, secondary y) of each trace returned by _curve_markers
_CURVE_MARKER_CELLS = (
    ("mse", False),
    ("mse", False),
    ("mse", True),
    ("captured", False),
    ("captured", False),
    ("counts", False),
    ("counts", False),
    ("mass", False),
    ("mass", False),
)
