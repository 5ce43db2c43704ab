"""The dual certificate figure: η over the angle in the teacher plane, and its margin magnified."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from featviz.certificate_curves import CertificateCurves
from featviz.figures._data import _f32, _sub
from featviz.figures._layout import _finish, _line, _log_axis, _log_range
from featviz.figures._style import BAND, INK, OUTLINE, SECONDARY, teacher_color

CERT_FLOOR = 1e-5  # margins below this are drawn at it (log axis)


def certificate_figure(
    phi_deg,
    eta,
    *,
    teacher_angles_deg,
    signs,
    rho: float,
    max_abs_eta: float,
    title: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """The dual certificate eta over the angle phi in [0, 180) (PAPER.md sections 4 and 6).

    Top: eta, the band |eta| <= 1, the teacher angles (where eta = sign a*_i) and the
    quadratic bound |eta| <= 1 - rho delta^2 (both signs; delta = angle in radians to the
    nearest teacher line) that a valid certificate stays within. Bottom (when rho is known):
    the same condition magnified, the margin 1 - |eta| against rho delta^2, since with rho
    about 0.01 the bound is hard to tell from 1 at the top's scale.
    """
    c = CertificateCurves.from_values(
        phi_deg, eta, teacher_angles_deg=teacher_angles_deg, signs=signs, rho=rho, max_abs_eta=max_abs_eta
    )
    return certificate_curves_figure(c, title=title, height=height)


def certificate_curves_figure(
    c: CertificateCurves, *, title: str | None = None, height: int | None = None
) -> go.Figure:
    """certificate_figure of curves computed beforehand."""
    if c.has_rho:
        fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.64, 0.36], vertical_spacing=0.09)
    else:
        fig = make_subplots(rows=1, cols=1)
    _add_eta_panel(fig, c)
    if c.has_rho:
        _add_margin_panel(fig, c)
    ylo = min(-1.15, float(c.eta.min()) - 0.05)
    yhi = max(1.15, float(c.eta.max()) + 0.05)
    fig.update_xaxes(range=[-3, 183], tickvals=list(range(0, 181, 30)))
    fig.update_xaxes(title_text="direction angle φ in the teacher plane (°)", row=2 if c.has_rho else 1, col=1)
    fig.update_yaxes(range=[ylo, yhi], title_text="η(φ)", row=1, col=1)
    sub = f"max |η| = {c.max_abs_eta:.4f} (should be 1, at teachers only); ρ = " + (
        f"{c.rho:.3g} · below, magnified: the margin 1 − |η| stays above ρδ²" if c.has_rho else "n/a"
    )
    return _finish(
        fig,
        title=title or "Dual certificate η: ±1 on the teacher lines, below 1 − ρδ² elsewhere",
        subtitle=sub,
        height=height or (620 if c.has_rho else 440),
        top=95,
        bottom=100,
        legend_px=55,
        hovermode="closest",
    )


def _add_eta_panel(fig: go.Figure, c: CertificateCurves) -> None:
    """The band |η| ≤ 1, the bound ±(1 − ρδ²), η itself and the teachers (η = sign a*_i there)."""
    x, y = [0, 180, 180, 0, 0], [-1, -1, 1, 1, -1]
    band = dict(fill="toself", fillcolor=BAND, name="|η| ≤ 1", hoverinfo="skip")
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", line=dict(width=0), **band))
    if c.has_rho:
        bound = 1.0 - c.need
        xs = np.concatenate([c.phi_deg, [np.nan], c.phi_deg])
        ys = np.concatenate([bound, [np.nan], -bound])
        fig.add_trace(
            _line(
                [None if np.isnan(x) else float(x) for x in xs],
                [None if np.isnan(y) else float(y) for y in ys],
                color=SECONDARY,
                width=1.5,
                dash="dash",
                name=f"bound ±(1 − ρδ²), ρ = {c.rho:.3g}",
                hoverinfo="skip",
                connectgaps=False,
            )
        )
    hover = "φ = %{x:.1f}°<br>η = %{y:.4f}<extra></extra>"
    fig.add_trace(_line(_f32(c.phi_deg), _f32(c.eta), color=INK, width=2.5, name="η(φ)", hovertemplate=hover))
    for i, (a, sg) in enumerate(zip(c.teacher_deg, c.signs, strict=True)):
        color = teacher_color(i)
        xs = [float(a), float(a) + 180.0] if a < 1e-9 else [float(a)]  # eta is pi-periodic: 0° is 180° too
        for x in xs:
            fig.add_vline(x=x, line=dict(color=color, width=1, dash="dot"), row="all", col=1)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[float(sg)] * len(xs),
                mode="markers",
                name=f"w*{_sub(i + 1)} at {a:g}°, sign {'+' if sg >= 0 else '−'}",
                marker=dict(color=color, size=11, line=dict(color=OUTLINE, width=1.5)),
                hovertemplate=f"teacher {i + 1}: φ = {a:g}°, η = sign a* = {sg:+.0f}<extra></extra>",
            )
        )


def _add_margin_panel(fig: go.Figure, c: CertificateCurves) -> None:
    """Magnified on a log axis: the margin 1 − |η| above the needed ρδ² (both go to 0 like δ² at teachers)."""
    need = np.maximum(c.need, CERT_FLOOR)
    margin = np.maximum(c.margin, CERT_FLOOR)
    for y, name, style, label in (
        (need, "needed: ρδ²", dict(color=SECONDARY, width=1.5, dash="dash"), "ρδ²"),
        (margin, "margin 1 − |η|", dict(color=INK, width=2), "1 − |η|"),
    ):
        hover = "φ = %{x:.1f}°<br>" + label + " = %{y:.3g}<extra></extra>"
        fig.add_trace(_line(_f32(c.phi_deg), y, **style, name=name, hovertemplate=hover), row=2, col=1)
    rng = _log_range(CERT_FLOOR, float(max(margin.max(), c.need.max())), pad=0.1)
    fig.update_yaxes(_log_axis(rng, max_labels=4), title_text="1 − |η| (log)", row=2, col=1)
