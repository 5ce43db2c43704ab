"""Shared layout pieces: axes, the title, the one finishing step, warnings and the trace helpers."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from featviz.figures._style import (
    INVISIBLE,
    LEGEND_BACKGROUND,
    LEGEND_SIZE,
    SUBTITLE_SIZE,
    SUBTLE_TEXT,
    TEMPLATE,
    warning_font,
)


def _axis_ref(fig: go.Figure, row: int, col: int) -> tuple[str, str]:
    """('x2', 'y2')-style references of the xy subplot at (row, col)."""
    sp = fig.get_subplot(row, col)
    return sp.xaxis.plotly_name.replace("axis", ""), sp.yaxis.plotly_name.replace("axis", "")


def _step_text(v: int) -> str:
    """A round step count, short: 100, 1,000, 10k, 1M."""
    if v >= 10**6:
        return f"{v // 10**6:,}M"
    if v >= 10**4:
        return f"{v // 10**3:,}k"
    return f"{v:,}"


def _step_ticks(last_step: int) -> tuple[list[float], list[str]]:
    """Tick values (step + 1, the log axis's x) and labels of a step axis up to last_step.

    Every decade up to 10^4 steps, then every other one ending on the last (about 30 px a decade
    in a 1280 px screen's curve panel): labels that do not fit are turned by plotly, and turned
    labels ran into the key below.
    """
    top = max(1, int(math.log10(max(last_step, 1))))
    if top <= 4:
        vals = [0, 1] + [10**p for p in range(1, top + 1)]
    else:
        vals = [0] + [10**p for p in range(top % 2 or 2, top + 1, 2)]
    vals = [v for v in vals if v <= max(last_step, 1)]
    return [v + 1.0 for v in vals], [_step_text(v) for v in vals]


def _log_range(lo: float, hi: float, pad: float = 0.15) -> list[float]:
    lo, hi = math.log10(max(lo, 1e-300)), math.log10(max(hi, 1e-300))
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    return [lo - pad, hi + pad]


def _log_axis(rng: list[float], *, max_labels: int = 8) -> dict:
    """A fixed log axis labelled 10^n; only whole decades are labelled when it spans several."""
    out = dict(type="log", range=rng, autorange=False, exponentformat="power")
    span = rng[1] - rng[0]
    if span >= 1.5:
        out["dtick"] = max(1, math.ceil(span / max_labels))
        return out
    # Under 1.5 decades plotly labels the minor ticks with bare digits (0.3 reads "3"): write
    # out round values instead, 1-2-5 first and finer round mantissas when too few fit.
    lo, hi = 10 ** rng[0], 10 ** rng[1]
    exps = range(math.floor(rng[0]) - 1, math.ceil(rng[1]) + 1)
    vals: list[float] = []
    for mantissas in ((1, 2, 5), (1, 2, 3, 5, 7), (1, 1.5, 2, 3, 4, 5, 6, 8), [x / 10 for x in range(10, 100)]):
        vals = [float(f"{f * 10.0**e:.6g}") for e in exps for f in mantissas if lo <= f * 10.0**e <= hi]
        if len(vals) >= 2:
            break
    most = min(max_labels, 4) if len(vals) and mantissas[-1] == 9.9 else max_labels
    if len(vals) > most:  # keep every n-th
        vals = vals[:: math.ceil(len(vals) / most)]
    out["tickvals"] = vals
    out["ticktext"] = [f"{v:.3g}" for v in vals]
    return out


def _lin_range(lo: float, hi: float, pad: float = 0.06) -> list[float]:
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    span = hi - lo
    return [lo - pad * span, hi + pad * span]


def _x_axis(fig: go.Figure, run_steps: list[int], row: int, col: int, *, title: bool = True) -> None:
    """The fixed log step axis of a curve panel, wide enough for the longest run."""
    last = max(run_steps)
    tv, tt = _step_ticks(last)
    fig.update_xaxes(
        type="log",
        range=_log_range(1.0, last + 1.0, pad=0.04),
        autorange=False,
        tickvals=tv,
        ticktext=tt,
        tickangle=0,
        title_text="step (log scale)" if title else None,
        row=row,
        col=col,
    )


def _place_panels(fig: go.Figure, cells) -> None:
    """Each panel in its domain and its subplot title centred above it.

    cells: ((row, col), x domain, y domain) per panel, in the order of the subplot titles.
    """
    for ((row, col), x, y), note in zip(cells, fig.layout.annotations, strict=True):
        sp = fig.get_subplot(row, col)
        if isinstance(sp, go.layout.Scene):
            sp.domain = dict(x=x, y=y)
        else:
            sp.xaxis.domain, sp.yaxis.domain = x, y
        note.update(x=(x[0] + x[1]) / 2, y=y[1], yanchor="bottom", yshift=4)


def _below_plots(height: int, top: int, bottom: int, px: float) -> float:
    """Paper y of a point px pixels below the plotting area, where controls and legends sit."""
    return -px / max(height - top - bottom, 50)


def _title(text: str, subtitle: str) -> dict:
    return dict(text=f"<b>{text}</b>", subtitle=dict(text=subtitle, font=dict(size=SUBTITLE_SIZE, color=SUBTLE_TEXT)))


def _finish(
    fig: go.Figure,
    *,
    title: str,
    subtitle: str,
    height: int,
    top: int,
    bottom: int,
    legend_px: float | None = None,
    legend: dict | None = None,
    margin: dict | None = None,
    **layout,
) -> go.Figure:
    """The template, the title, the height and margins, and a horizontal legend legend_px below the plots."""
    if legend_px is not None:
        y = _below_plots(height, top, bottom, legend_px)
        layout["legend"] = dict(orientation="h", x=0.0, y=y, yanchor="top") | (legend or {})
    fig.update_layout(
        template=TEMPLATE,
        title=_title(title, subtitle),
        height=height,
        margin=dict(t=top, b=bottom) | (margin or {}),
        **layout,
    )
    return fig


def _finish_row(
    fig: go.Figure, *, title: str, subtitle: str, height: int | None, bottom: int, legend_px: float
) -> go.Figure:
    """_finish for a figure of one row of panels: 420 px tall unless asked, 100 px for the title above."""
    return _finish(
        fig, title=title, subtitle=subtitle, height=height or 420, top=100, bottom=bottom, legend_px=legend_px
    )


def _note(fig: go.Figure, text: str, *, y: float, font: dict, yanchor: str = "bottom", **kw) -> None:
    """Text at the paper's left edge at paper height y, without an arrow; kw: its other properties."""
    fig.add_annotation(
        text=text,
        xref="paper",
        yref="paper",
        x=0.0,
        y=y,
        xanchor="left",
        yanchor=yanchor,
        showarrow=False,
        font=font,
        **kw,
    )


def _warning(fig: go.Figure, text: str, *, y: float, **kw) -> None:
    """A warning line in the paper's top-left corner (a diverged run's message)."""
    _note(fig, "⚠ " + text, y=y, font=warning_font(), **kw)


def _diverged_note(fig: go.Figure, run, *, y: float = 1.0) -> None:
    if run.status == "diverged":
        _warning(fig, run.message, y=y, align="left")


def _scatter(columns, **style) -> go.Scatter | go.Scatter3d:
    """A 2-D scatter of columns (x, y) or a 3-D one of (x, y, z)."""
    if len(columns) == 3:
        return go.Scatter3d(x=columns[0], y=columns[1], z=columns[2], **style)
    return go.Scatter(x=columns[0], y=columns[1], **style)


def _line(x, y, *, color: str, width: float, dash: str | None = None, **kw) -> go.Scatter:
    """A plain line trace; kw are the trace's other properties (name, hovertemplate, ...)."""
    line = dict(color=color, width=width) | ({"dash": dash} if dash else {})
    return go.Scatter(x=x, y=y, mode="lines", line=line, **kw)


def figure_html(fig: go.Figure) -> str:
    """A standalone HTML page of the figure (plotly.js inlined, works offline) for downloads."""
    return fig.to_html(include_plotlyjs=True, full_html=True, auto_play=False)


# ---- the two keys of an animated figure ------------------------------------------------------
# "legend" keys the neuron views (teacher lines, fates, thresholds) and sits right under them, so
# it is on the first screen with the neuron view; CURVE_LEGEND keys the training curves, under them.
CURVE_LEGEND = "legend2"
_LEGEND_ROW_PX = 22  # one row of a horizontal legend (13 px text, 9 px markers); measured 30 px for one row, 52 for two
_LEGEND_ITEM_PX = 46  # an entry's symbol and padding, besides its text
_LEGEND_CHAR_PX = 7.4  # a generous average glyph width of the legend's text


def legend_names(fig: go.Figure, legend: str = "legend") -> list[str]:
    """The entries of the key `legend` of a figure, in order (one per legend group)."""
    seen, out = set(), []
    for t in fig.data:
        if t.showlegend is False or (t.legend or "legend") != legend:
            continue
        group = t.legendgroup or id(t)
        if group not in seen:
            seen.add(group)
            out.append(t.name or "")
    return out


def _legend_px(names: list[str], plot_px: float) -> int:
    """Height in px of a horizontal legend of these entries wrapped in plot_px, as plotly.js wraps it."""
    rows, x = 0, 0.0
    for name in names:
        w = _LEGEND_ITEM_PX + _LEGEND_CHAR_PX * len(name)
        if rows == 0 or x + w > plot_px:
            rows, x = rows + 1, 0.0
        x += w
    return _LEGEND_ROW_PX * rows + 8


def _to_curve_legend(traces) -> None:
    """The traces' legend entries go to the curves' key."""
    for t in traces:
        t.legend = CURVE_LEGEND


def _place_legends(fig: go.Figure, *, neuron_y: float, curve_y: float) -> None:
    """The neuron key at paper y neuron_y and the curve key at curve_y (tops), both horizontal."""
    style = dict(orientation="h", x=0.0, xanchor="left", yanchor="top", font=dict(size=LEGEND_SIZE))
    fig.update_layout(
        # Transparent: its box starts a few px under the fate panel's tick labels, and a white box
        # cut the tails off their commas ("1,000" read "1.000").
        legend=style | dict(y=neuron_y, bgcolor=INVISIBLE),
        legend2=style | dict(y=curve_y, bgcolor=LEGEND_BACKGROUND, tracegroupgap=2),
    )
