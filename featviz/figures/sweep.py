"""A sweep's outcomes: a heatmap over two parameters (values written in the cells), or one line
plot per outcome over one parameter (log axes where they fit, the log–log slope of the mse)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from featviz.figures._layout import _finish, _log_axis, _log_range
from featviz.figures._style import GUIDE, INK, INVISIBLE, SEQUENTIAL, SUBTITLE_SIZE, WARNING

# What each outcome is called on an axis or a colour bar (featviz.sweep.OUTCOMES says more).
OUTCOME_LABELS: dict[str, str] = {
    "aligned_mass": "mass within 5° of a teacher line (fraction)",
    "mse": "final mse",
    "mse_per_lam2": "final mse / λ²",
    "max_live_angle_deg": "largest angle of a live neuron (°)",
    "dead": "dead neurons",
    "captured_error": "worst captured-mass error",
    "far_mass": "far mass Σ mass·δ²",
    "diverged": "diverged (cell text: its step)",
}
# Outcomes whose positive values may span decades: log axes (and a log colour bar) when they do.
LOG_OUTCOMES = ("mse", "mse_per_lam2", "captured_error", "far_mass")
LOG_SPAN = 30.0  # max/min ratio from which a positive outcome is drawn on a log scale
LOG_COLOR_DECADES = 3  # a log colour bar spans at most this many decades below the largest value
# The line plots' panel titles: short enough for four panels side by side.
PANEL_TITLES: dict[str, str] = {
    "aligned_mass": "mass within 5° of a teacher",
    "mse": "final mse",
    "mse_per_lam2": "final mse / λ²",
    "max_live_angle_deg": "largest live angle (°)",
    "dead": "dead neurons",
    "captured_error": "worst captured-mass error",
    "far_mass": "far mass",
    "diverged": "diverged at step",
}


@dataclass(frozen=True)
class SweepMap:
    """A sweep's outcomes as arrays shaped like its grid (the first parameter first)."""

    names: tuple[str, ...]  # the varied parameters
    values: tuple[tuple[float, ...], ...]  # their values, per axis
    outcomes: Mapping[str, np.ndarray]  # outcome -> float array of the grid's shape
    diverged_step: np.ndarray  # int array of the grid's shape, -1 where the cell did not diverge

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping], names: Sequence[str], values: Sequence[Sequence[float]]) -> SweepMap:
        """From a sweep's rows (featviz.sweep: grid order, the first axis outermost)."""
        shape = tuple(len(v) for v in values)
        out = {name: np.array([float(r[name]) for r in rows], dtype=float).reshape(shape) for name in OUTCOME_LABELS}
        step = np.array([int(r["diverged_step"]) for r in rows]).reshape(shape)
        return cls(tuple(names), tuple(tuple(v) for v in values), out, step)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.values)

    def cell_index(self, position: Sequence[int]) -> int:
        """The flat (row) index of the cell at a position (one index per axis)."""
        return int(np.ravel_multi_index(tuple(position), self.shape))


def value_text(x: float) -> str:
    """A parameter value or an outcome as a cell reads it: 3 significant digits."""
    if x != x:
        return "—"
    if x == 0 or (1e-3 <= abs(x) < 1e4):
        return f"{x:.3g}"
    return f"{x:.2e}".replace("e-0", "e-").replace("e+0", "e")


def loglog_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of log y against log x over the points where both are positive (NaN if < 2)."""
    ok = (x > 0) & (y > 0) & np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def _log_fits(v: np.ndarray) -> bool:
    v = v[np.isfinite(v)]
    return v.size >= 2 and bool((v > 0).all()) and v.max() / v.min() >= LOG_SPAN


def _cell_texts(sm: SweepMap, outcome: str) -> np.ndarray:
    if outcome == "diverged":
        return np.where(sm.diverged_step >= 0, np.char.add("step ", sm.diverged_step.astype(str)), "no")
    return np.vectorize(value_text, otypes=[object])(sm.outcomes[outcome])


def sweep_heatmap(sm: SweepMap, outcome: str, *, title: str = "", height: int = 560) -> go.Figure:
    """Two parameters: one cell per run, coloured by `outcome`, its value written in the cell.

    Cells are equally wide whatever the spacing of the values (the axes are categories labelled
    with the values). Outcomes spanning decades get a log colour bar labelled with powers of ten.
    """
    (xn, yn), (xv, yv) = sm.names, sm.values
    z = sm.outcomes[outcome]  # (len(xv), len(yv))
    log = outcome in LOG_OUTCOMES and _log_fits(z)
    shown = np.log10(z) if log else z
    colorbar = dict(title=dict(text=OUTCOME_LABELS[outcome], side="right"), thickness=18, len=0.9)
    if log:
        # One tiny value (an exact recovery, 1e-11) must not wash out the rest: clip the scale.
        zmin = max(float(np.nanmin(shown)), float(np.nanmax(shown)) - LOG_COLOR_DECADES)
        lo, hi = math.ceil(zmin), math.floor(float(np.nanmax(shown)))
        ticks = list(range(lo, hi + 1, max(1, math.ceil((hi - lo) / 8))))
        if ticks:
            colorbar |= dict(tickvals=ticks, ticktext=[f"1e{t}" for t in ticks])
    if outcome == "diverged":
        colorbar |= dict(tickvals=[0, 1], ticktext=["no", "yes"])
    xl, yl = [value_text(v) for v in xv], [value_text(v) for v in yv]
    index = np.arange(z.size).reshape(z.shape)
    fig = go.Figure(
        go.Heatmap(
            x=xl,
            y=yl,
            z=shown.T,
            text=_cell_texts(sm, outcome).T,
            texttemplate="%{text}",
            customdata=index.T,
            colorscale=SEQUENTIAL,
            zmin=0 if outcome in ("aligned_mass", "diverged") else (zmin if log else None),
            zmax=1 if outcome in ("aligned_mass", "diverged") else (float(np.nanmax(shown)) if log else None),
            colorbar=colorbar,
            xgap=2,
            ygap=2,
            hoverinfo="skip",
        )
    )
    # Plotly reports no click on a heatmap to Streamlit: an invisible marker on each cell takes it.
    xs, ys = np.meshgrid(np.arange(len(xv)), np.arange(len(yv)), indexing="ij")
    fig.add_trace(
        go.Scatter(
            x=[xl[i] for i in xs.ravel()],
            y=[yl[j] for j in ys.ravel()],
            mode="markers",
            marker=dict(symbol="square", size=min(60, (height - 170) / len(yv) * 0.9), color=INVISIBLE),
            customdata=np.arange(z.size),
            text=_cell_texts(sm, outcome).ravel(),
            showlegend=False,
            hovertemplate=f"{xn}=%{{x}}<br>{yn}=%{{y}}<br>{OUTCOME_LABELS[outcome]}: %{{text}}"
            "<br>click: open in the Playground<extra></extra>",
        )
    )
    fig.update_xaxes(type="category", title_text=xn, showgrid=False, mirror=False, ticks="")
    fig.update_yaxes(type="category", title_text=yn, showgrid=False, mirror=False, ticks="")
    title = title or f"{OUTCOME_LABELS[outcome]} over {xn} × {yn}"
    return _finish_sweep(
        fig, title, f"{len(xv)} × {len(yv)}", "a cell", height=height, top=100, margin=dict(l=80, r=40)
    )


PANEL_ORDER = tuple(OUTCOME_LABELS)


def sweep_lines(sm: SweepMap, *, title: str = "", height: int = 700) -> go.Figure:
    """One parameter: a line plot per outcome, log axes where the values span decades; the mse
    panel, when log–log, gives its fitted slope (2 where the final mse grows as λ²)."""
    (xn,), (xv,) = sm.names, sm.values
    x = np.asarray(xv, dtype=float)
    logx = bool((x > 0).all()) and x.max() / x.min() >= 10
    slope = loglog_slope(x, sm.outcomes["mse"]) if logx and _log_fits(sm.outcomes["mse"]) else float("nan")
    names = list(PANEL_ORDER)
    titles = [PANEL_TITLES[n] + (f" · slope {slope:.2f}" if n == "mse" and slope == slope else "") for n in names]
    fig = make_subplots(rows=2, cols=4, subplot_titles=titles, horizontal_spacing=0.08, vertical_spacing=0.22)
    for i, name in enumerate(names):
        row, col = i // 4 + 1, i % 4 + 1
        y = sm.outcomes[name]
        if name == "diverged":
            y = np.where(sm.diverged_step >= 0, sm.diverged_step, np.nan).astype(float)
        color = WARNING if name == "diverged" else INK
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines+markers",
                line=dict(color=color, width=2),
                marker=dict(size=8, color=color),
                customdata=np.arange(x.size),
                showlegend=False,
                hovertemplate=f"{xn}=%{{x:.4g}}<br>{OUTCOME_LABELS[name]}: %{{y:.4g}}"
                "<br>click: open in the Playground<extra></extra>",
            ),
            row=row,
            col=col,
        )
        if name == "mse" and slope == slope:  # the fit, dotted
            ok = (x > 0) & (y > 0)
            c = np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)
            fit = np.exp(np.polyval(c, np.log(x)))
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=fit,
                    mode="lines",
                    line=dict(color=GUIDE, dash="dot", width=2),
                    hoverinfo="skip",
                    showlegend=False,
                ),
                row=row,
                col=col,
            )
        if logx:
            fig.update_xaxes(_log_axis(_log_range(x.min(), x.max(), pad=0.08)), row=row, col=col)
        if name in LOG_OUTCOMES and _log_fits(y):
            fig.update_yaxes(_log_axis(_log_range(np.nanmin(y), np.nanmax(y))), row=row, col=col)
        if name == "aligned_mass":
            fig.update_yaxes(range=[-0.05, 1.05], row=row, col=col)
        fig.update_xaxes(title_text=xn if row == 2 or name == "far_mass" else None, row=row, col=col)
    fig.update_annotations(font_size=SUBTITLE_SIZE)
    return _finish_sweep(fig, title or f"Outcomes over {xn}", f"{x.size}", "a point", height=height, top=140)


def _finish_sweep(fig: go.Figure, title: str, runs: str, target: str, *, height: int, top: int, **kw) -> go.Figure:
    """A sweep figure's finish: how many runs, what a click on `target` opens, room for the axis titles below."""
    subtitle = f"{runs} runs · click {target} to open its run in the Playground"
    return _finish(fig, title=title, subtitle=subtitle, height=height, top=top, bottom=70, **kw)


def sweep_figure(sm: SweepMap, outcome: str = "aligned_mass", *, title: str = "") -> go.Figure:
    """The sweep's figure: the heatmap of `outcome` for two parameters, the line plots for one."""
    return sweep_heatmap(sm, outcome, title=title) if len(sm.names) == 2 else sweep_lines(sm, title=title)
