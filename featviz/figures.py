"""Pure plotly figure builders for recorded runs: data in, ``go.Figure`` out, one registered template.

Every figure uses the ``featviz`` template registered at import (Okabe–Ito colours, which stay
distinguishable under the common colour-vision deficiencies). Nothing here imports streamlit or
torch; a figure is a function of a ``Run`` (numpy arrays and metrics) and keyword-only options.

Encodings shared by all neuron views (see ``FATE_SYMBOLS`` / ``FATE_COLORS``):
colour = nearest teacher for aligned neurons, grey for undecided, light grey for dead;
symbol = fate (circle aligned, x dead, diamond undecided); marker area in the projection
proportional to the neuron's mass |a_j||w_j| (dead neurons stay small but visible).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from featviz.metrics import ALIGNED, ALIGNED_DEG, DEAD, DEAD_MASS, FATE_NAMES, UNDECIDED, frame_summary

TEMPLATE = "featviz"

# Okabe & Ito (2008), "Color Universal Design"; black and yellow last (yellow is faint on white).
TEACHER_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
FATE_COLORS = {ALIGNED: "#1A1A1A", DEAD: "#BDBDBD", UNDECIDED: "#7A7A7A"}  # ALIGNED: in fate-only panels
FATE_SYMBOLS = {ALIGNED: "circle", DEAD: "x", UNDECIDED: "diamond"}
FATE_DASH = {ALIGNED: "solid", DEAD: "dot", UNDECIDED: "dash"}
COMPARE_COLORS = ("#000000", "#7A7A7A")  # run A, run B: grey levels, the hues belong to teachers

MASS_FLOOR = 1e-6  # masses below this are drawn at it, so log axes can show dead neurons
DISPLAY_CAP = 1e30  # anything larger is drawn at the cap (a diverged run's mse can be huge)
FRAME_MS = 120  # Play: time per frame
DESCENT_RADIUS_DEG = 30.0  # descent_figure: neighbourhood T_i of a teacher line
CERT_FLOOR = 1e-5  # certificate_figure: margins below this are drawn at it (log axis)

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _register_template() -> None:
    t = go.layout.Template(pio.templates["plotly_white"])
    t.layout.colorway = TEACHER_COLORS
    t.layout.font = dict(family="Helvetica Neue, Arial, sans-serif", size=12, color="#222222")
    t.layout.title = dict(x=0.01, xanchor="left", y=0.985, yanchor="top", font=dict(size=17))
    t.layout.hoverlabel = dict(font_size=12, align="left")
    t.layout.legend = dict(font=dict(size=11), bgcolor="rgba(255,255,255,0.8)", tracegroupgap=2)
    t.layout.margin = dict(l=60, r=20, t=90, b=60)
    axis = dict(showline=True, linecolor="#444444", mirror=True, ticks="outside", zeroline=False)
    t.layout.xaxis.update(axis)
    t.layout.yaxis.update(axis)
    for name in ("xaxis", "yaxis", "zaxis"):
        t.layout.scene[name].update(backgroundcolor="#FAFAFA", gridcolor="#DDDDDD", zerolinecolor="#999999")
    t.layout.annotationdefaults = dict(font=dict(size=13))
    pio.templates[TEMPLATE] = t


_register_template()


# ---- small helpers --------------------------------------------------------------------


def _finite(x, *, lo: float = -DISPLAY_CAP, hi: float = DISPLAY_CAP) -> np.ndarray:
    """A float array with NaN -> 0 and +-inf / huge values clipped to the display cap."""
    x = np.asarray(x, dtype=float)
    return np.clip(np.nan_to_num(x, nan=0.0, posinf=hi, neginf=lo), lo, hi)


def _f32(x) -> np.ndarray:
    """float32 halves the (base64) payload; plots need no more than 7 digits."""
    return _finite(x, lo=-3e38, hi=3e38).astype(np.float32)


def _sub(i: int) -> str:
    return str(i).translate(_SUB)


def _teacher_name(i: int, a_star: float) -> str:
    return f"±w*{_sub(i + 1)} (a*={a_star:+.3g})"


def _axis_ref(fig: go.Figure, row: int, col: int) -> tuple[str, str]:
    """('x2', 'y2')-style references of the xy subplot at (row, col)."""
    sp = fig.get_subplot(row, col)
    return sp.xaxis.plotly_name.replace("axis", ""), sp.yaxis.plotly_name.replace("axis", "")


def _step_x(step) -> np.ndarray:
    """Snapshots are log-spaced: plot step + 1 on a log axis, tick-labelled with the step."""
    return np.asarray(step, dtype=float) + 1.0


def _step_ticks(last_step: int) -> tuple[list[float], list[str]]:
    vals = [0, 1] + [10**p for p in range(1, max(1, int(math.log10(max(last_step, 1)))) + 1)]
    vals = [v for v in vals if v <= max(last_step, 1)]
    return [v + 1.0 for v in vals], [f"{v:,}" for v in vals]


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
    # out 1-2-5 values instead.
    lo, hi = 10 ** rng[0], 10 ** rng[1]
    exps = range(math.floor(rng[0]) - 1, math.ceil(rng[1]) + 1)
    vals = [f * 10.0**e for e in exps for f in (1, 2, 5) if lo <= f * 10.0**e <= hi]
    if len(vals) < 2:
        vals = [float(v) for v in np.geomspace(lo, hi, 4)[1:-1]]
    out["tickvals"] = vals
    out["ticktext"] = [f"{v:.3g}" for v in vals]
    return out


def _lin_range(lo: float, hi: float, pad: float = 0.06) -> list[float]:
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    span = hi - lo
    return [lo - pad * span, hi + pad * span]


def _frame_label(run, i: int) -> str:
    return f"step {int(run.step[i]):,} · {run.stage_name(i)} · λ={float(run.lam[i]):.3g}"


def _frame_text(run, i: int) -> str:
    return f"frame {i + 1}/{run.n_frames} · {_frame_label(run, i)} — {frame_summary(run, i)}"


# The slider's current-value line describes the frame shown. A frame's layout (a title) is not
# redrawn while a 2-D animation plays, so the per-frame text lives in the slider labels instead.
PLAY_HINT = "▶ Play, or drag the slider: the line above the slider describes the frame shown"


def _config_title(c) -> str:
    extra = f" at {', '.join(f'{a:g}°' for a in c.angles)}" if c.teachers == "planar" and c.k > 1 else ""
    return (
        f"Student neurons and teacher lines: d={c.d}, k={c.k} {c.teachers}{extra}, m={c.m}, "
        f"{c.algo}, λ={c.lam:g}, init={c.init:g}"
    )


def _title(text: str, subtitle: str) -> dict:
    return dict(text=f"<b>{text}</b>", subtitle=dict(text=subtitle, font=dict(size=13, color="#444444")))


# ---- neuron views ---------------------------------------------------------------------


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
        return _extent(self.coords)

    @property
    def subplot_title(self) -> str:
        return _view_title(self.r)

    def axis_titles(self) -> tuple[str, ...]:
        if self.r == 1:
            return ("coordinate along w*₁", "|w⊥| (norm off the line)")
        return tuple(f"u{_sub(i + 1)}" for i in range(self.ndim))


def _view_title(r: int) -> str:
    if r == 1:
        return "neurons: along w*₁ vs norm off the teacher line"
    if r <= 3:
        return f"neurons projected on the {r}-D teacher span"
    return f"neurons: first 3 of {r} teacher-span coordinates"


def _extent(coords: np.ndarray) -> float:
    ext = float(np.abs(coords).max()) if coords.size else 0.0
    return max(ext, 1e-6) * 1.12


def _mass_ref(mass: np.ndarray) -> float:
    # A high percentile, not the max: one runaway neuron should not shrink all the others.
    return max(float(np.percentile(mass, 99.5)), 1e-12) if mass.size else 1.0


def _marker_sizes(mass: np.ndarray, ref: float, *, small: float, big: float) -> np.ndarray:
    """Area proportional to mass, capped at the reference; never below `small` pixels."""
    return small + (big - small) * np.sqrt(np.clip(mass / ref, 0.0, 1.0))


def _color_codes(fate: np.ndarray, nearest: np.ndarray, k: int) -> tuple[np.ndarray, list]:
    """Colour of each neuron as a number and the colorscale that maps it exactly to its colour.

    Codes 0..k-1: aligned to teacher t (the teacher's colour); k: undecided; k+1: dead. Numbers
    instead of colour strings make frames smaller and much faster to build.
    """
    codes = np.where(fate == ALIGNED, nearest, k)
    codes = np.where(fate == DEAD, k + 1, codes).astype(np.float32)
    colors = [TEACHER_COLORS[t % len(TEACHER_COLORS)] for t in range(k)] + [FATE_COLORS[UNDECIDED], FATE_COLORS[DEAD]]
    scale = [[c / (k + 1), color] for c, color in enumerate(colors)]
    return codes, scale


def code_color(colorscale: list, code: float) -> str:
    """The colour a numeric marker colour stands for (inverse of the coding in _color_codes)."""
    return colorscale[round(float(code))][1]


def _fate_symbols(fate: np.ndarray) -> np.ndarray:
    return np.array([FATE_SYMBOLS[f] for f in range(3)], dtype=object)[fate]


def _project(run, w: np.ndarray, orth: np.ndarray) -> np.ndarray:
    """(...,d) -> (...,n) coordinates of the neuron view; orth = norm off the teacher span."""
    p = w @ run.basis.T
    r = run.basis.shape[0]
    if r == 1:
        return np.stack([p[..., 0], orth], -1)
    return p[..., :3] if r >= 3 else p


def _neuron_view(run, *, mass_ref: float | None = None) -> _View:
    met = run.metrics
    r = run.basis.shape[0]
    coords = _project(run, run.w, met.orth_norm)
    tp = run.teacher_w @ run.basis.T  # (k,r)
    tp = np.concatenate([tp, np.zeros_like(tp[:, :1])], -1) if r == 1 else tp[:, :3]
    norms = np.linalg.norm(tp, axis=-1, keepdims=True)
    tdirs = np.where(norms > 1e-9, tp / np.where(norms > 1e-9, norms, 1.0), 0.0)
    mass = _finite(met.mass, lo=0.0)
    ref = _mass_ref(mass) if mass_ref is None else mass_ref
    n = coords.shape[-1]
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
        sizes=_marker_sizes(mass, ref, small=5.0 if n == 2 else 3.5, big=20.0 if n == 2 else 15.0),
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
        marker["line"] = dict(width=0.5, color="white") if v.ndim == 2 else dict(width=0)
        common |= dict(name=name, mode="markers", hovertemplate=_NEURON_HOVER, showlegend=False)
    if v.ndim == 3:
        return dict(type="scatter3d", x=c[:, 0], y=c[:, 1], z=c[:, 2], **common)
    return dict(type="scatter", x=c[:, 0], y=c[:, 1], **common)


def _angle_trace(v: _View, i: int, *, name: str = "angle vs mass", full: bool = True):
    marker = dict(color=v.color_codes[i], symbol=v.symbols[i].tolist())
    common = dict(customdata=_f32(v.custom[i]), marker=marker)
    if full:
        marker |= _color_scale_props(v) | dict(size=9, line=dict(width=0.5, color="white"))
        common |= dict(name=name, mode="markers", hovertemplate=_NEURON_HOVER, showlegend=False)
    return dict(type="scatter", x=_f32(v.angle[i]), y=_f32(v.mass_shown[i]), **common)


def _teacher_traces(run, v: _View, extent: float, *, showlegend: bool = True) -> list:
    """Lines +-w*_i through the origin, long enough to reach the edge of the fixed axes."""
    out = []
    for i, u in enumerate(v.teacher_dirs):
        name = _teacher_name(i, float(run.teacher_a[i]))
        if not np.any(u):
            name += " (⊥ to view)"
        seg = np.stack([-extent * u, extent * u])
        style = dict(
            mode="lines",
            name=name,
            legendgroup=f"teacher{i}",
            showlegend=showlegend,
            hoverinfo="name",
            line=dict(color=TEACHER_COLORS[i % len(TEACHER_COLORS)], width=2.5 if v.ndim == 2 else 5),
            opacity=0.75,
        )
        if v.ndim == 3:
            out.append(go.Scatter3d(x=seg[:, 0], y=seg[:, 1], z=seg[:, 2], **style))
        else:
            out.append(go.Scatter(x=seg[:, 0], y=seg[:, 1], **style))
    return out


def _fate_legend_traces(*, three_d: bool = False, lines: bool = True) -> list:
    """Legend-only entries for the fates: the neuron symbol and (lines) the style of its count curve."""
    text = {
        ALIGNED: f"aligned (≤ {ALIGNED_DEG:g}° from a line; teacher's colour)",
        UNDECIDED: "undecided",
        DEAD: f"dead (mass < {DEAD_MASS:g})",
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
        if three_d:
            out.append(go.Scatter3d(x=[None], y=[None], z=[None], **style))
        else:
            out.append(go.Scatter(x=[None], y=[None], **style))
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


def _add_angle_guides(fig: go.Figure, row: int, col: int, mass_range: list[float], *, showlegend: bool) -> None:
    """Dotted threshold lines: the aligned angle and the dead mass."""
    lo, hi = 10 ** mass_range[0], 10 ** mass_range[1]
    style = dict(mode="lines", line=dict(color="#999999", width=1, dash="dot"), hoverinfo="name", showlegend=showlegend)
    fig.add_trace(
        go.Scatter(x=[ALIGNED_DEG, ALIGNED_DEG], y=[lo, hi], name="fate thresholds", legendgroup="thr", **style),
        row=row,
        col=col,
    )
    fig.add_trace(
        go.Scatter(
            x=[0, 90],
            y=[DEAD_MASS, DEAD_MASS],
            name="fate thresholds",
            legendgroup="thr",
            **(style | dict(showlegend=False)),
        ),
        row=row,
        col=col,
    )


def _style_angle(fig: go.Figure, row: int, col: int, mass_range: list[float], *, ytitle: bool = True) -> None:
    fig.update_xaxes(
        range=[-2, 92],
        autorange=False,
        tickvals=[0, 15, 30, 45, 60, 75, 90],
        title_text="angle to nearest teacher line (°)",
        row=row,
        col=col,
    )
    fig.update_yaxes(_log_axis(mass_range), title_text="mass |a||w|" if ytitle else None, row=row, col=col)


def _mass_range(*views: _View) -> list[float]:
    ms = np.concatenate([v.mass_shown.ravel() for v in views])
    return _log_range(float(ms.min()), float(ms.max()), pad=0.25)


# ---- training curves ------------------------------------------------------------------


@dataclass
class _Curves:
    """Fixed axis ranges of the curve panels and the traces added, for current-frame markers."""

    mse_range: list[float]
    lam_range: list[float]
    lam_log: bool  # False when lam is 0 somewhere (linear axis)
    cap_range: list[float]
    count_range: list[float]


def _mse_shown(run) -> np.ndarray:
    return _finite(run.mse, lo=1e-30)


def _lam_shown(run) -> tuple[np.ndarray, bool]:
    lam = _finite(run.lam, lo=0.0)
    return lam, bool((lam > 0).all())


def _x_axis(fig: go.Figure, run_steps: list[int], row: int, col: int, *, title: bool = True) -> None:
    last = max(run_steps)
    tv, tt = _step_ticks(last)
    fig.update_xaxes(
        type="log",
        range=_log_range(1.0, last + 1.0, pad=0.04),
        autorange=False,
        tickvals=tv,
        ticktext=tt,
        title_text="step (log scale)" if title else None,
        row=row,
        col=col,
    )


def _add_curves(fig: go.Figure, run, cells: dict[str, tuple[int, int]], *, showlegend: bool = True) -> _Curves:
    """Static curves: mse with lam on a secondary axis, captured mass per teacher, counts by fate."""
    met = run.metrics
    x = _f32(_step_x(run.step))
    steps = [int(run.step[-1])]
    hx = "step %{customdata:,}"
    cd = run.step.astype(np.int64)

    r, c = cells["mse"]
    mse = _mse_shown(run)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=mse,
            customdata=cd,
            name="mse (left)",
            mode="lines",
            line=dict(color="#000000", width=2),
            hovertemplate=hx + "<br>mse %{y:.3g}<extra></extra>",
            showlegend=showlegend,
            legendgroup="mse",
        ),
        row=r,
        col=c,
    )
    lam, lam_log = _lam_shown(run)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=lam,
            customdata=cd,
            name="λ (right)",
            mode="lines",
            line=dict(color="#7A7A7A", width=1.5, dash="dash"),
            hovertemplate=hx + "<br>λ %{y:.3g}<extra></extra>",
            showlegend=showlegend,
            legendgroup="lam",
        ),
        row=r,
        col=c,
        secondary_y=True,
    )
    mse_range = _log_range(float(mse.min()), float(mse.max()), pad=0.3)
    if lam_log:
        lam_range = _log_range(float(lam.min()), float(lam.max()), pad=0.3)
    else:
        lam_range = _lin_range(0.0, float(lam.max()) or 1.0)
    _x_axis(fig, steps, r, c, title=False)
    fig.update_yaxes(_log_axis(mse_range), title_text="mse", row=r, col=c)
    lam_axis = _log_axis(lam_range) if lam_log else dict(type="linear", range=lam_range, autorange=False)
    fig.update_yaxes(lam_axis, title_text="λ", showgrid=False, secondary_y=True, row=r, col=c)

    r, c = cells["captured"]
    cap = _finite(met.captured)
    a_star = _finite(run.teacher_a)
    xr = [1.0, float(run.step[-1]) + 1.0]
    for i in range(cap.shape[1]):
        color = TEACHER_COLORS[i % len(TEACHER_COLORS)]
        group = f"teacher{i}"
        fig.add_trace(
            go.Scatter(
                x=x,
                y=_f32(cap[:, i]),
                customdata=cd,
                mode="lines",
                line=dict(color=color, width=2),
                name=f"captured by w*{_sub(i + 1)}",
                legendgroup=group,
                showlegend=False,
                hovertemplate=hx + f"<br>captured by w*{_sub(i + 1)}: " + "%{y:.3g}<extra></extra>",
            ),
            row=r,
            col=c,
        )
        fig.add_trace(
            go.Scatter(
                x=xr,
                y=[a_star[i]] * 2,
                mode="lines",
                line=dict(color=color, width=1, dash="dash"),
                name=f"a*{_sub(i + 1)} = {a_star[i]:.3g}",
                legendgroup=group,
                showlegend=False,
                hoverinfo="name",
            ),
            row=r,
            col=c,
        )
    cap_range = _lin_range(
        min(0.0, float(cap.min()), float(a_star.min())), max(0.0, float(cap.max()), float(a_star.max()))
    )
    _x_axis(fig, steps, r, c)
    fig.update_yaxes(range=cap_range, autorange=False, title_text="signed mass a|w|", row=r, col=c)

    r, c = cells["counts"]
    for f in (ALIGNED, UNDECIDED, DEAD):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=met.counts[:, f].astype(np.int32),
                customdata=cd,
                mode="lines",
                line=dict(color=FATE_COLORS[f], width=2, dash=FATE_DASH[f], shape="hv"),
                name=f"{FATE_NAMES[f]} neurons",
                legendgroup=f"fate{f}",
                showlegend=False,
                hovertemplate=hx + f"<br>{FATE_NAMES[f]}: " + "%{y}<extra></extra>",
            ),
            row=r,
            col=c,
        )
    count_range = [-0.03 * run.config.m - 0.5, 1.03 * run.config.m + 0.5]
    _x_axis(fig, steps, r, c)
    fig.update_yaxes(range=count_range, autorange=False, title_text="neurons", row=r, col=c)
    return _Curves(mse_range, lam_range, lam_log, cap_range, count_range)


def _vline(x: float, yr: list[float], *, log: bool, full: bool):
    y = [10 ** yr[0], 10 ** yr[1]] if log else list(yr)
    kw = dict(type="scatter", x=[x, x], y=y)
    if full:
        kw |= dict(
            mode="lines", line=dict(color="#555555", width=1), hoverinfo="skip", showlegend=False, name="current frame"
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
            marker=dict(color=list(colors), size=9, symbol=symbol, line=dict(width=1.5, color="white")),
        )
    return kw


def _curve_markers(run, cur: _Curves, i: int, *, full: bool) -> list:
    """Animated current-frame markers, in the order of _CURVE_MARKER_CELLS."""
    x = float(_step_x(run.step[i]))
    met = run.metrics
    k = met.captured.shape[1]
    lam, _ = _lam_shown(run)
    return [
        _vline(x, cur.mse_range, log=True, full=full),
        _dots(x, [_mse_shown(run)[i]], ["#000000"], full=full),
        _dots(x, [lam[i]], ["#7A7A7A"], full=full, symbol="square"),
        _vline(x, cur.cap_range, log=False, full=full),
        _dots(x, _finite(met.captured[i]), [TEACHER_COLORS[t % len(TEACHER_COLORS)] for t in range(k)], full=full),
        _vline(x, cur.count_range, log=False, full=full),
        _dots(x, met.counts[i], [FATE_COLORS[f] for f in range(3)], full=full),
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
)


# ---- animation controls ---------------------------------------------------------------


def _controls(labels: list[str], *, redraw: bool, y: float) -> tuple[list, list]:
    """Play/Pause buttons and one slider over frames named '0', '1', ..."""
    frame_args = dict(mode="immediate", frame=dict(duration=0, redraw=redraw), transition=dict(duration=0))
    steps = [dict(method="animate", label=lab, args=[[str(i)], frame_args]) for i, lab in enumerate(labels)]
    play = dict(
        label="▶ Play",
        method="animate",
        args=[
            None,
            dict(
                frame=dict(duration=FRAME_MS, redraw=redraw),
                fromcurrent=True,
                transition=dict(duration=0),
                mode="immediate",
            ),
        ],
    )
    pause = dict(
        label="❚❚ Pause",
        method="animate",
        args=[[None], dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0), mode="immediate")],
    )
    menus = [
        dict(
            type="buttons",
            direction="left",
            buttons=[play, pause],
            showactive=False,
            x=0.0,
            xanchor="left",
            y=y,
            yanchor="top",
            pad=dict(t=0, r=8),
            font=dict(size=12),
        )
    ]
    sliders = [
        dict(
            active=0,
            steps=steps,
            x=0.16,
            len=0.84,
            xanchor="left",
            y=y + 0.012,
            yanchor="top",
            pad=dict(t=30, b=0),
            # Step labels would overlap; the current value above the slider names the frame.
            font=dict(color="rgba(0,0,0,0)", size=1),
            ticklen=4,
            minorticklen=0,
            tickcolor="#999999",
            currentvalue=dict(visible=True, prefix="showing: ", xanchor="left", font=dict(size=13, color="#222222")),
            transition=dict(duration=0),
        )
    ]
    return menus, sliders


def _below_plots(height: int, top: int, bottom: int, px: float) -> float:
    """Paper y of a point px pixels below the plotting area, where controls and legends sit."""
    return -px / max(height - top - bottom, 50)


def _diverged_note(fig: go.Figure, run, *, y: float = 1.0) -> None:
    if run.status == "diverged":
        fig.add_annotation(
            text="⚠ " + run.message,
            xref="paper",
            yref="paper",
            x=0.0,
            y=y,
            xanchor="left",
            yanchor="bottom",
            showarrow=False,
            align="left",
            font=dict(color="#D55E00", size=12),
        )


# ---- public figures -------------------------------------------------------------------


def span_rank(cfg) -> int:
    """Dimension of the teacher span for a config, without building the teachers."""
    if cfg.k == 1:
        return 1
    if cfg.teachers == "planar":
        return 2
    return min(cfg.k, cfg.d)


def _animation_layout(
    r: int, *, flat: bool = False, height: int | None = None
) -> tuple[go.Figure, bool, tuple[int, int, int]]:
    """The empty grid of animation_figure for a teacher span of dimension r: (figure, 3-D?, (H, top, bottom)).

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
    return fig, three_d, (height or 820, 110, 200)


def preview_figure(cfg, *, note: str = "Training… the animation appears here when the run is ready.") -> go.Figure:
    """What the animation's place shows while its run trains: the same empty panels and a note.

    Same grid, titles and height as animation_figure(run of cfg), so the page does not jump when
    the run arrives, and the browser has loaded plotly.js by then.
    """
    # Flat: a 3-D scene costs the browser up to a second to set up (measured with software WebGL),
    # time better spent on the animation itself.
    fig, _, (H, top, bottom) = _animation_layout(span_rank(cfg), flat=True)
    for row, col in ((1, 1), (1, 2), (1, 3), (2, 2), (2, 3)):  # plotly draws only panels with a trace
        fig.add_trace(go.Scatter(x=[], y=[], hoverinfo="skip", showlegend=False), row=row, col=col)
    fig.update_xaxes(showticklabels=False, ticks="", showgrid=False)
    fig.update_yaxes(showticklabels=False, ticks="", showgrid=False)
    fig.update_layout(
        template=TEMPLATE,
        title=_title(_config_title(cfg), note),
        height=H,
        margin=dict(t=top, b=bottom, l=60, r=30),
        showlegend=False,
    )
    return fig


def animation_figure(run, *, title: str | None = None, height: int | None = None) -> go.Figure:
    """One animated figure of a run: neuron view, angle-vs-mass view and training curves.

    Panels: the student neurons projected on the teacher span with the teacher lines (left;
    3-D when the span is 3-D or larger); the angle to the nearest teacher line against the
    mass (log); mse with lam on a second axis; signed mass captured per teacher with a*_i
    dashed; neuron counts by fate. The first snapshot is shown; Play or the slider move all
    panels together. Frames carry only the animated traces (neurons and current-frame markers)
    and the title line, so the static curves are sent once.
    """
    v = _neuron_view(run)
    fig, three_d, (H, top, bottom) = _animation_layout(v.r, height=height)
    extent = v.extent
    for t in _teacher_traces(run, v, extent):
        fig.add_trace(t, row=1, col=1)
    mass_range = _mass_range(v)
    _add_angle_guides(fig, 1, 2, mass_range, showlegend=True)
    cells = {"mse": (1, 3), "captured": (2, 2), "counts": (2, 3)}
    cur = _add_curves(fig, run, cells)
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

    _style_view(fig, v, 1, 1, extent)
    _style_angle(fig, 1, 2, mass_range)

    head = title or _config_title(run.config)
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
    labels = [_frame_text(run, i) for i in range(run.n_frames)]
    menus, sliders = _controls(labels, redraw=three_d, y=_below_plots(H, top, bottom, 62))
    fig.update_layout(
        template=TEMPLATE,
        title=_title(head, PLAY_HINT),
        height=H,
        margin=dict(t=top, b=bottom, l=60, r=30),
        legend=dict(orientation="h", x=0.0, xanchor="left", y=_below_plots(H, top, bottom, 150), yanchor="top"),
        updatemenus=menus,
        sliders=sliders,
        hovermode="closest",
    )
    _diverged_note(fig, run, y=1.045)
    return fig


def curves_figure(run, *, title: str | None = None, height: int | None = None) -> go.Figure:
    """Static training curves: mse and lam, captured mass per teacher, neurons by fate."""
    fig = make_subplots(
        rows=1,
        cols=3,
        specs=[[{"type": "xy", "secondary_y": True}, {"type": "xy"}, {"type": "xy"}]],
        horizontal_spacing=0.12,
        subplot_titles=("mse (solid) and λ (dashed)", "captured mass per teacher (dashed: a*ᵢ)", "neurons by fate"),
    )
    _add_curves(fig, run, {"mse": (1, 1), "captured": (1, 2), "counts": (1, 3)})
    for t in _fate_legend_traces():
        fig.add_trace(t, row=1, col=3)
    for i in range(run.config.k):  # teacher legend entries for the captured-mass colours
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                name=_teacher_name(i, float(run.teacher_a[i])),
                legendgroup=f"teacher{i}",
                line=dict(color=TEACHER_COLORS[i % len(TEACHER_COLORS)], width=2),
            ),
            row=1,
            col=2,
        )
    _x_axis(fig, [int(run.step[-1])], 1, 1)
    H, top, bottom = height or 420, 100, 130
    fig.update_layout(
        template=TEMPLATE,
        title=_title(title or "Training curves", f"{run.n_frames} snapshots up to step {int(run.step[-1]):,}"),
        height=H,
        margin=dict(t=top, b=bottom),
        legend=dict(orientation="h", x=0.0, y=_below_plots(H, top, bottom, 58), yanchor="top"),
    )
    _diverged_note(fig, run, y=1.12)
    return fig


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
    phi = _finite(phi_deg)
    eta = _finite(eta)
    tdeg = np.mod(_finite(teacher_angles_deg), 180.0)
    s = np.sign(_finite(signs))
    diff = np.abs(phi[:, None] - tdeg[None, :]) % 180.0
    delta = np.radians(np.minimum(diff, 180.0 - diff).min(-1))
    rho_ok = math.isfinite(float(rho))
    need = float(rho) * delta**2 if rho_ok else None  # the margin 1 - |eta| a valid certificate keeps
    if rho_ok:
        fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.64, 0.36], vertical_spacing=0.09)
    else:
        fig = make_subplots(rows=1, cols=1)
    fig.add_trace(
        go.Scatter(
            x=[0, 180, 180, 0, 0],
            y=[-1, -1, 1, 1, -1],
            fill="toself",
            mode="lines",
            line=dict(width=0),
            fillcolor="rgba(86,180,233,0.12)",
            name="|η| ≤ 1",
            hoverinfo="skip",
        )
    )
    if rho_ok:
        bound = 1.0 - need
        xs = np.concatenate([phi, [np.nan], phi])
        ys = np.concatenate([bound, [np.nan], -bound])
        fig.add_trace(
            go.Scatter(
                x=[None if np.isnan(x) else float(x) for x in xs],
                y=[None if np.isnan(y) else float(y) for y in ys],
                mode="lines",
                name=f"bound ±(1 − ρδ²), ρ = {float(rho):.3g}",
                line=dict(color="#7A7A7A", width=1.5, dash="dash"),
                hoverinfo="skip",
                connectgaps=False,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=_f32(phi),
            y=_f32(eta),
            mode="lines",
            name="η(φ)",
            line=dict(color="#000000", width=2.5),
            hovertemplate="φ = %{x:.1f}°<br>η = %{y:.4f}<extra></extra>",
        )
    )
    for i, (a, sg) in enumerate(zip(tdeg, s, strict=True)):
        color = TEACHER_COLORS[i % len(TEACHER_COLORS)]
        xs = [float(a), float(a) + 180.0] if a < 1e-9 else [float(a)]  # eta is pi-periodic: 0° is 180° too
        for x in xs:
            fig.add_vline(x=x, line=dict(color=color, width=1, dash="dot"), row="all", col=1)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[float(sg)] * len(xs),
                mode="markers",
                name=f"w*{_sub(i + 1)} at {a:g}°, sign {'+' if sg >= 0 else '−'}",
                marker=dict(color=color, size=11, line=dict(color="white", width=1.5)),
                hovertemplate=f"teacher {i + 1}: φ = {a:g}°, η = sign a* = {sg:+.0f}<extra></extra>",
            )
        )
    if rho_ok:
        # Log scale: near the teachers both go to 0 like delta^2; values under FLOOR drawn at it.
        floor = CERT_FLOOR
        margin = np.maximum(1.0 - np.abs(eta), floor)
        for y, name, line, label in (
            (np.maximum(need, floor), "needed: ρδ²", dict(color="#7A7A7A", width=1.5, dash="dash"), "ρδ²"),
            (margin, "margin 1 − |η|", dict(color="#000000", width=2), "1 − |η|"),
        ):
            fig.add_trace(
                go.Scatter(
                    x=_f32(phi),
                    y=y,
                    mode="lines",
                    name=name,
                    line=line,
                    hovertemplate="φ = %{x:.1f}°<br>" + label + " = %{y:.3g}<extra></extra>",
                ),
                row=2,
                col=1,
            )
        rng = _log_range(floor, float(max(margin.max(), need.max())), pad=0.1)
        fig.update_yaxes(_log_axis(rng, max_labels=4), title_text="1 − |η| (log)", row=2, col=1)
    ylo = min(-1.15, float(eta.min()) - 0.05)
    yhi = max(1.15, float(eta.max()) + 0.05)
    fig.update_xaxes(range=[-3, 183], tickvals=list(range(0, 181, 30)))
    fig.update_xaxes(title_text="direction angle φ in the teacher plane (°)", row=2 if rho_ok else 1, col=1)
    fig.update_yaxes(range=[ylo, yhi], title_text="η(φ)", row=1, col=1)
    H, top, bottom = height or (620 if rho_ok else 440), 95, 100
    sub = f"max |η| = {float(max_abs_eta):.4f} (should be 1, at teachers only); ρ = " + (
        f"{float(rho):.3g} · below, magnified: the margin 1 − |η| stays above ρδ²" if rho_ok else "n/a"
    )
    fig.update_layout(
        template=TEMPLATE,
        title=_title(title or "Dual certificate η: ±1 on the teacher lines, below 1 − ρδ² elsewhere", sub),
        hovermode="closest",
        height=H,
        margin=dict(t=top, b=bottom),
        legend=dict(orientation="h", x=0.0, y=_below_plots(H, top, bottom, 55), yanchor="top"),
    )
    return fig


def descent_targets(run, i: int, *, radius_deg: float = DESCENT_RADIUS_DEG) -> tuple[np.ndarray, np.ndarray]:
    """Target point (m,d) of each neuron in snapshot i and whether it heads to a teacher (m,).

    A neuron within radius_deg of its nearest teacher line t heads to
    sign(w_j . w*_t) sqrt(|a*_t| mass_j / S_t) w*_t, where S_t is the total mass of the
    neurons near t; every other neuron heads to 0.
    """
    met = run.metrics
    w = run.w[i]
    t = met.nearest[i].astype(int)
    mass = _finite(met.mass[i], lo=0.0)
    near = met.line_angle_deg[i] <= radius_deg
    k = run.teacher_w.shape[0]
    S = np.array([mass[near & (t == s)].sum() for s in range(k)])
    share = np.sqrt(np.abs(run.teacher_a[t]) * mass / np.maximum(S[t], 1e-300))
    sign = np.sign(np.einsum("md,md->m", w, run.teacher_w[t]))
    sign = np.where(sign == 0, 1.0, sign)
    target = (sign * share)[:, None] * run.teacher_w[t]
    target = np.where(near[:, None], target, 0.0)
    return _finite(target), near


def descent_figure(
    run,
    i: int,
    *,
    radius_deg: float = DESCENT_RADIUS_DEG,
    title: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """Picture 1 of the paper (PAPER.md section 4): where each neuron is heading at snapshot i.

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
    i = int(i) % run.n_frames
    v = _neuron_view(run)
    target, near = descent_targets(run, i, radius_deg=radius_deg)
    tproj = _project(run, target, np.zeros(target.shape[0]))
    pos = v.coords[i]
    extent = max(v.extent, _extent(tproj))
    nearest = run.metrics.nearest[i].astype(int)
    colors = [TEACHER_COLORS[t % len(TEACHER_COLORS)] if n else "#7A7A7A" for t, n in zip(nearest, near, strict=True)]

    if v.ndim == 3:
        fig = make_subplots(rows=1, cols=1, specs=[[{"type": "scene"}]])
    else:
        fig = make_subplots(rows=1, cols=1)
    for t in _teacher_traces(run, v, extent):
        fig.add_trace(t)
    for t in _fate_legend_traces(three_d=v.ndim == 3, lines=False):
        fig.add_trace(t)
    if v.ndim == 3:
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
        head = 0.08 * extent
        moving = length[:, 0] > 1e-3 * extent
        if moving.any():
            u = vec[moving] / length[moving] * head
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
                    colorscale=[[0, "#555555"], [1, "#555555"]],
                    name="descent heads",
                    hoverinfo="skip",
                )
            )
    else:
        xref, yref = _axis_ref(fig, 1, 1)
        for j, (p, q) in enumerate(zip(pos, tproj, strict=True)):
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
                arrowcolor=colors[j],
                opacity=0.8,
            )
    targets_near = tproj[near]
    if targets_near.size:
        near_colors = [c for c, n in zip(colors, near, strict=True) if n]
        # Drawn in each teacher's colour; the legend's entry (a point at None) in no one teacher's hue.
        for pts, color, legend in (
            (targets_near, near_colors, False),
            (np.full((1, v.ndim), None), FATE_COLORS[ALIGNED], True),
        ):
            common = dict(
                mode="markers",
                name="targets q·w* (teacher's colour)",
                legendgroup="targets",
                showlegend=legend,
                hoverinfo="skip",
                marker=dict(symbol="circle-open", size=7, color=color),
            )
            if v.ndim == 3:
                fig.add_trace(go.Scatter3d(x=pts[:, 0], y=pts[:, 1], z=pts[:, 2], **common))
            else:
                fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], **common))
    fig.add_trace(_neuron_trace(v, i))
    _style_view(fig, v, 1, 1, extent, eye=1.45)
    H, top, bottom = height or 680, 120, 110
    sub = (
        f"{_frame_text(run, i)}<br>arrows: toward sign·√(|a*ₜ|·mass/Sₜ)·w*ₜ within {radius_deg:g}° of a line "
        f"(coloured by teacher), toward 0 otherwise (grey)"
    )
    fig.update_layout(
        template=TEMPLATE,
        title=_title(title or "Descent direction: each neuron heads to a share of its teacher, or to 0", sub),
        height=H,
        margin=dict(t=top, b=bottom),
        legend=dict(orientation="h", x=0.0, y=_below_plots(H, top, bottom, 60 if v.ndim == 2 else 10), yanchor="top"),
    )
    _diverged_note(fig, run, y=1.0)
    return fig


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
    la, lb = labels
    ref = max(_mass_ref(_finite(r.metrics.mass, lo=0.0)) for r in runs)
    views = [_neuron_view(r, mass_ref=ref) for r in runs]
    same = runs[0].basis.shape[0] == runs[1].basis.shape[0]
    three_d = same and views[0].ndim == 3
    rows = 3 if same else 2
    vt = "scene" if three_d else "xy"
    specs = ([[{"type": vt}, {"type": vt}]] if same else []) + [[{}, {}], [{"colspan": 2}, None]]
    titles = ([f"{la}: {views[0].subplot_title}", f"{lb}: {views[1].subplot_title}"] if same else []) + [
        f"{la}: angle vs mass",
        f"{lb}: angle vs mass",
        "mse of both runs",
    ]
    fig = make_subplots(
        rows=rows,
        cols=2,
        specs=specs,
        subplot_titles=titles,
        row_heights=[0.56, 0.24, 0.2] if same else [0.55, 0.45],
        vertical_spacing=0.11 if same else 0.2,
        horizontal_spacing=0.1,
    )
    extent = max(v.extent for v in views)
    mass_range = _mass_range(*views)
    arow = 2 if same else 1
    mrow = rows
    if same:
        for col, (r, v) in enumerate(zip(runs, views, strict=True), start=1):
            for t in _teacher_traces(r, v, extent, showlegend=col == 1):
                fig.add_trace(t, row=1, col=col)
    for col in (1, 2):
        _add_angle_guides(fig, arow, col, mass_range, showlegend=col == 1)
    for t in _fate_legend_traces():
        fig.add_trace(t, row=arow, col=1)
    N = max(r.n_frames for r in runs)
    idx = [[_nearest_frame(s, N, r.n_frames) for s in range(N)] for r in runs]
    mse = [_mse_shown(r) for r in runs]
    all_mse = np.concatenate(mse)
    mse_range = _log_range(float(all_mse.min()), float(all_mse.max()), pad=0.3)
    for r, m, lab, color, dash in zip(runs, mse, labels, COMPARE_COLORS, ("solid", "dash"), strict=True):
        fig.add_trace(
            go.Scatter(
                x=_f32(_step_x(r.step)),
                y=m,
                customdata=r.step.astype(np.int64),
                mode="lines",
                name=f"{lab}: mse",
                line=dict(color=color, width=2, dash=dash),
                hovertemplate=f"{lab}: " + "step %{customdata:,}, mse %{y:.3g}<extra></extra>",
            ),
            row=mrow,
            col=1,
        )

    def animated(s: int, full: bool) -> list:
        out = []
        for v, ii in zip(views, idx, strict=True):
            if same:
                out.append(_neuron_trace(v, ii[s], full=full))
        for v, ii in zip(views, idx, strict=True):
            out.append(_angle_trace(v, ii[s], full=full))
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
    _x_axis(fig, [int(r.step[-1]) for r in runs], mrow, 1)
    fig.update_yaxes(_log_axis(mse_range, max_labels=4), title_text="mse", row=mrow, col=1)

    def text(s: int) -> str:
        def one(r, lab, i):  # compact: two of these share the line above the slider
            al, dead, und = (int(x) for x in r.metrics.counts[i])
            return (
                f"{lab}: frame {i + 1}/{r.n_frames} · step {int(r.step[i]):,} · {r.stage_name(i)} — "
                f"{al}/{r.config.m} aligned, {dead} dead, {und} undecided, mse {r.mse[i]:.2g}"
            )

        return "<br>".join(one(r, lab, ii[s]) for r, lab, ii in zip(runs, labels, idx, strict=True))

    head = title or f"Compare {la} and {lb}"
    fig.frames = [dict(name=str(s), traces=anim, data=animated(s, False)) for s in range(N)]
    labels_ = [text(s) for s in range(N)]
    H, top, bottom = height or ((1200 if three_d else 1050) if same else 760), 140, 200
    menus, sliders = _controls(labels_, redraw=three_d, y=_below_plots(H, top, bottom, 62))
    fig.update_layout(
        template=TEMPLATE,
        title=_title(head, PLAY_HINT),
        height=H,
        margin=dict(t=top, b=bottom),
        legend=dict(orientation="h", x=0.0, y=_below_plots(H, top, bottom, 150), yanchor="top"),
        updatemenus=menus,
        sliders=sliders,
        hovermode="closest",
    )
    notes = [r for r in runs if r.status == "diverged"]
    for n, r in enumerate(notes):
        lab = labels[runs.index(r)]
        fig.add_annotation(
            text=f"⚠ {lab}: {r.message}",
            xref="paper",
            yref="paper",
            x=0.0,
            y=1.02 + 0.03 * n,
            xanchor="left",
            yanchor="bottom",
            showarrow=False,
            font=dict(color="#D55E00", size=12),
        )
    return fig


def _nearest_frame(s: int, n_slider: int, n_frames: int) -> int:
    """Slider position s of n_slider -> nearest frame of a run with n_frames snapshots."""
    if n_slider <= 1 or n_frames <= 1:
        return 0
    return round(s / (n_slider - 1) * (n_frames - 1))


def figure_html(fig: go.Figure) -> str:
    """A standalone HTML page of the figure (plotly.js inlined, works offline) for downloads."""
    return fig.to_html(include_plotlyjs=True, full_html=True, auto_play=False)
