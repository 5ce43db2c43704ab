"""The theorem, measured: the certificate's bound on a run, the λ² law and the loss at the end of each stage."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from featviz.figures._data import _step_x
from featviz.figures._layout import _finish, _finish_row, _line, _log_axis, _log_range, _note, _step_ticks
from featviz.figures._style import (
    BAR,
    GUIDE,
    HIGHLIGHT_BAR,
    INK,
    OUTLINE,
    SECONDARY,
    SUBTITLE_SIZE,
    VIOLATION,
    warning_font,
)
from featviz.theorem_views import BOUND_FLOOR, BoundOnRun, Lam2Law, StageLosses

_HOVER = "step %{customdata:,}<br>%{y:.3g}<extra>%{fullData.name}</extra>"


def _wrap(text: str, width: int = 130) -> str:
    """Line breaks for an annotation (plotly does not wrap)."""
    lines, cur = [], ""
    for word in text.split():
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}".strip()
    return "<br>".join([*lines, cur])


def bound_figure(b: BoundOnRun, *, title: str | None = None, height: int | None = None) -> go.Figure:
    """Far mass over the frames (log y) against the certificate's bound (L_λ − L_λ*)/(λρ), the safe
    bound when it differs, markers on frames that violate the bound and a note on when it is loose."""
    fig = go.Figure()
    x, cd = _step_x(b.step), b.step.astype(np.int64)
    far = np.maximum(b.far_mass, BOUND_FLOOR)
    bound = np.where(b.paper_bound > 0, np.maximum(b.paper_bound, BOUND_FLOOR), np.nan)
    fig.add_trace(_line(x, far, color=INK, width=2, name="far mass Σ|a||w|δ²", customdata=cd, hovertemplate=_HOVER))
    fig.add_trace(
        _line(x, bound, color=SECONDARY, width=2, dash="dash", name="bound (L_λ − L_λ*)/(λρ)", customdata=cd).update(
            hovertemplate=_HOVER
        )
    )
    shown = [far, bound]
    if b.safe_bound is not None and np.nanmax(np.abs(b.safe_bound - b.paper_bound) / np.abs(b.paper_bound)) > 1e-3:
        safe = np.where(b.safe_bound > 0, np.maximum(b.safe_bound, BOUND_FLOOR), np.nan)
        fig.add_trace(
            _line(x, safe, color=GUIDE, width=1.5, dash="dot", name="safe bound (+ λ|g|²/(4ρ))", customdata=cd).update(
                hovertemplate=_HOVER
            )
        )
        shown.append(safe)
    if b.n_violated:
        v = b.violated
        fig.add_trace(
            go.Scatter(
                x=x[v],
                y=far[v],
                mode="markers",
                name=f"far mass above the bound ({b.n_violated} frames)",
                marker=dict(color=VIOLATION, size=10, symbol="x", line=dict(width=1, color=OUTLINE)),
                customdata=cd[v],
                hovertemplate=_HOVER,
            )
        )
    vals = np.concatenate([s[np.isfinite(s)] for s in shown]) if b.step.size else np.array([1.0])
    yr = _log_range(float(vals.min()), float(vals.max()), pad=0.3)
    last = int(b.step[-1]) if b.step.size else 1
    tv, tt = _step_ticks(last)
    first = float(x[0]) if b.step.size else 1.0
    fig.update_xaxes(
        type="log",
        range=_log_range(first, last + 1.0, pad=0.04),
        autorange=False,
        tickvals=tv,
        ticktext=tt,
        title_text="step (log scale)",
    )
    fig.update_yaxes(_log_axis(yr), title_text="far mass and its bound")
    h = height or 460
    top, bottom = 100, 150
    _finish(
        fig,
        title=title or "The certificate's bound on this run",
        subtitle=f"ρ = {b.rho:.3g} over the sphere; L_λ*: {b.reference}",
        height=h,
        top=top,
        bottom=bottom,
        legend_px=50,
    )
    font = warning_font() if b.n_violated else dict(size=SUBTITLE_SIZE - 1, color=SECONDARY)
    _note(fig, _wrap(b.note()), y=-(100 / max(h - top - bottom, 50)), font=font, yanchor="top", align="left")
    return fig


def lam2_figure(law: Lam2Law, *, title: str | None = None, height: int | None = None) -> go.Figure:
    """Per-epoch end mse against λ (log–log), with the exact line k λ²/(4 K̃(1)) for orthonormal teachers and
    the fitted line otherwise."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=law.lam,
            y=law.mse,
            mode="markers",
            name="end of each epoch",
            marker=dict(color=INK, size=9, line=dict(width=1, color=OUTLINE)),
            hovertemplate="λ %{x:.3g}<br>mse %{y:.3g}<extra></extra>",
        )
    )
    xs, ys = [law.lam], [law.mse]
    if law.exact_lam is not None:
        fig.add_trace(
            _line(law.exact_lam, law.exact_mse, color=SECONDARY, width=2, dash="dash", name="exact: k λ²/(4 K̃(1))")
        )
        xs.append(law.exact_lam)
        ys.append(law.exact_mse)
    elif np.isfinite(law.slope):
        gx = np.geomspace(law.lam.min(), law.lam.max(), 20)
        gy = 10 ** (law.intercept + law.slope * np.log10(gx))
        fig.add_trace(_line(gx, gy, color=SECONDARY, width=2, dash="dash", name=f"fit: slope {law.slope:.2f}"))
    xall, yall = np.concatenate(xs), np.concatenate(ys)
    pos = yall[yall > 0]
    fig.update_xaxes(_log_axis(_log_range(float(xall.min()), float(xall.max()), pad=0.1)), title_text="λ")
    fig.update_yaxes(
        _log_axis(_log_range(float(pos.min()) if pos.size else 1e-6, float(pos.max()) if pos.size else 1.0)),
        title_text="mse at the end of the epoch",
    )
    sub = f"fitted slope {law.slope:.2f} (the law: 2)" if np.isfinite(law.slope) else "one epoch: no slope"
    if law.exact_lam is not None:
        sub += f"; largest gap to the exact optimum {law.max_relative_error:.1%}"
    _finish_row(fig, title=title or "The λ² law", subtitle=sub, height=height, bottom=110, legend_px=50)
    return fig


def stage_loss_figure(s: StageLosses, *, title: str | None = None, height: int | None = None) -> go.Figure:
    """The mse at the end of each stage (log bars) against the linear floor and the check's threshold."""
    share = s.share
    colors = [HIGHLIGHT_BAR if n == "stage 2" else BAR for n in s.names]
    fig = go.Figure(
        go.Bar(
            x=np.arange(len(s.names)),
            y=s.mse,
            customdata=list(s.names),
            marker_color=colors,
            name="mse at the end of the stage",
            hovertemplate="%{customdata}: mse %{y:.3g}<extra></extra>",
            showlegend=False,
        )
    )
    n = len(s.names)
    # Values under the bars, not on them: bars near the floor would put their labels on its line.
    labels = [
        f"<b>{name}</b><br>{v:.3g} ({p:.1%} of the floor)" for name, v, p in zip(s.names, s.mse, share, strict=True)
    ]
    fig.add_trace(
        _line([-0.5, n - 0.5], [s.floor] * 2, color=INK, width=1.5, dash="dash", name=f"linear floor {s.floor:.4f}")
    )
    fig.add_trace(
        _line(
            [-0.5, n - 0.5],
            [s.threshold * s.floor] * 2,
            color=GUIDE,
            width=1.5,
            dash="dot",
            name=f"{s.threshold:.0%} of the floor (the check's stage-2 limit)",
        )
    )
    fig.update_xaxes(range=[-0.5, n - 0.5], autorange=False, tickvals=list(range(n)), ticktext=labels)
    lo = float(np.min(s.mse[s.mse > 0])) if (s.mse > 0).any() else 1e-6
    hi = max(float(s.mse.max()), s.floor)
    fig.update_yaxes(_log_axis(_log_range(lo, hi, pad=0.6)), title_text="mse")
    sub = f"stage 2 ends at {s.share_of('stage 2'):.1%} of the linear floor (what α + β·x alone leaves)"
    _finish_row(
        fig, title=title or "The loss at the end of each stage", subtitle=sub, height=height, bottom=110, legend_px=60
    )
    return fig
