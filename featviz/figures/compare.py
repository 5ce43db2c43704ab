"""Two runs side by side under one slider: the Playground's panels for A and B, the same axes on both sides."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from featviz.figures._controls import (
    ANIMATION_MARGIN,
    ANIMATION_TOP,
    PLAY_HINT,
    SLIDER_TOP,
    _finish_animation,
    _nearest_frame,
    _paper_y,
)
from featviz.figures._curves import _CURVE_MARKER_CELLS, _add_curves, _curve_markers, _Curves, _lam_shown
from featviz.figures._data import _config_text, _finite
from featviz.figures._layout import (
    CURVE_LEGEND,
    _below_plots,
    _legend_px,
    _lin_range,
    _log_axis,
    _place_legends,
    _place_panels,
    _to_curve_legend,
    _warning,
    _x_axis,
    legend_names,
)
from featviz.figures._neurons import _fate_legend_traces, _neuron_view, _NeuronPanels
from featviz.figures._style import INK
from featviz.figures.animation import WIDTH_PX
from featviz.projection import mass_ref

# The figure in pixels, top to bottom, as in the animation: the title, the frame lines and the
# slider, then A's and B's neuron views side by side (when their spans have the same dimension)
# and the neuron views' key under them, then A's and B's angle-vs-mass views with the fates of
# both, then the curves of both runs (A solid, B dashed), then the curves' key. Heights are in
# pixels and follow the width the page gives the figure; widths are fractions checked from 900 px up.
_ROW_GAP = 110  # above each row: the row above's axis titles, then this row's panel titles
_BELOW_FIRST = {True: 8, False: 58}  # first row 3-D, 2-D: to the neuron key (past 2-D axis titles)
_ROW_TITLES = 44  # above a row: its panel titles
_SIDE = 210  # the angle-vs-mass and fate row
_CURVES = 190
_BOTTOM = 72  # step axis titles, then the curves' key (A/B line styles, masses)
HERO_PX = 420
_HERO_X = ((0.04, 0.46), (0.58, 1.0))  # inset: a 3-D scene draws its z labels left of its domain
_COL_X = ((0.0, 0.26), (0.37, 0.63), (0.74, 1.0))
_NARROW_SCENE_PX = 330  # a neuron view narrower than this is seen from further out
RUN_DASH = ("solid", "dash")  # A, B: every curve of run A is solid, of run B dashed


def hero_px(width_hint: int | None) -> int:
    """Height of each neuron view for a figure about width_hint px wide (None: HERO_PX)."""
    if width_hint is None:
        return HERO_PX
    return int(min(max(0.4 * width_hint, 340), 560))


def _eye(plot_px: float) -> float:
    """3-D camera distance of the neuron views: a half-width scene keeps its z tick labels whole,
    a narrow one (a 1280 px screen) also its z axis title, which plotly draws past the ticks."""
    return 1.9 if (_HERO_X[0][1] - _HERO_X[0][0]) * plot_px >= _NARROW_SCENE_PX else 2.3


def _tag(label: str) -> str:
    """'A: λ = 0' -> 'A': the short name of a run in the slider's lines and the title."""
    return label.split(":", 1)[0].strip() or label


def _geometry(hero: int | None, *, three_d: bool = False, key_px: int = 0, curve_key_px: int = 0) -> dict:
    """Paper y domains of the rows (hero None: no neuron-view row), the keys' tops (the neuron
    key under the first row) and the px -> paper y map; key_px, curve_key_px: the keys' heights."""
    rows = ([("hero", hero)] if hero else []) + [("side", _SIDE), ("curves", _CURVES)]
    below = _BELOW_FIRST[bool(hero) and three_d]
    gaps = [below + key_px + _ROW_TITLES] + [_ROW_GAP] * (len(rows) - 2)
    plot = sum(h for _, h in rows) + sum(gaps)
    out, top = {}, 0.0
    for (name, h), gap in zip(rows, [*gaps, 0], strict=True):
        out[name] = [1 - (top + h) / plot, 1 - top / plot]
        top += h + gap
    first = rows[0][1]
    bottom = _BOTTOM + curve_key_px
    height = ANIMATION_TOP + plot + bottom
    return out | dict(
        plot=plot,
        bottom=bottom,
        height=height,
        key_y=1 - (first + below) / plot,
        curve_key_y=_below_plots(height, ANIMATION_TOP, bottom, _BOTTOM - 12),
        paper_y=_paper_y(plot),
    )


def compare_figure(
    run_a,
    run_b,
    *,
    labels: tuple[str, str] = ("A", "B"),
    title: str | None = None,
    height: int | None = None,
    width_hint: int | None = None,
) -> go.Figure:
    """Two runs side by side under one slider, with the same axis ranges on both sides.

    The Playground's panels for both runs: A's and B's neurons projected on the teacher span (only
    when both spans have the same dimension), A's and B's angle-vs-mass views, then one panel each
    for the neurons by fate, mse with λ (right axis), captured mass per teacher and total and far
    mass against Σ|a*ᵢ|, with run A solid and run B dashed. Opens on the last frame of both; Play
    replays. Slider position s of N = max(T_a, T_b) maps to each run's nearest frame
    round(s / (N - 1) * (T - 1)). width_hint: the width in px the page gives the figure, if known.
    """
    runs = (run_a, run_b)
    tags = tuple(_tag(lab) for lab in labels)
    ref = max(mass_ref(_finite(r.metrics.mass, lo=0.0)) for r in runs)
    views = [_neuron_view(r, mass_ref=ref) for r in runs]
    same = runs[0].basis.shape[0] == runs[1].basis.shape[0]  # projections only when comparable
    three_d = same and views[0].ndim == 3
    fig = _grid(views, labels, tags, same=same, three_d=three_d)
    side, crow = (2, 3) if same else (1, 2)
    cells = {"counts": (side, 3), "mse": (crow, 1), "captured": (crow, 2), "mass": (crow, 3)}
    heroes = ((1, 1), (1, 2)) if same else ()  # projections only when comparable
    panels = _NeuronPanels(runs, tuple(views), view_cells=heroes, angle_cells=((side, 1), (side, 2)))
    panels.add_static(fig)
    curs = []
    for n, (r, tag, dash) in enumerate(zip(runs, tags, RUN_DASH, strict=True)):
        start = len(fig.data)
        curs.append(_add_curves(fig, r, cells, showlegend=n == 0, ytitles=False))
        _mark_run(fig.data[start:], tag, dash)
        _to_curve_legend(fig.data[start:])
    cur = _shared_axes(fig, runs, curs, cells)
    for lab, dash in zip(labels, RUN_DASH, strict=True):  # the key to the line styles
        key = go.Scatter(x=[None], y=[None], mode="lines", line=dict(color=INK, width=2, dash=dash))
        key.update(name=f"{lab} ({'solid' if dash == 'solid' else 'dashed'})", legend=CURVE_LEGEND)
        fig.add_trace(key, row=crow, col=1)
    for t in _fate_legend_traces():
        fig.add_trace(t, row=side, col=1)

    N = max(r.n_frames for r in runs)
    idx = [[_nearest_frame(s, N, r.n_frames) for s in range(N)] for r in runs]
    places = [(*cell, False) for cell in panels.cells]
    for _ in runs:
        places += [(*cells[c], sec) for c, sec in _CURVE_MARKER_CELLS]

    def animated(s: int, full: bool) -> list:
        out = panels.frame_traces([ii[s] for ii in idx], full=full)
        for r, ii, dash in zip(runs, idx, RUN_DASH, strict=True):
            marks = _curve_markers(r, cur, ii[s], full=full)
            if full and dash != "solid":  # B's current-step line dashed too
                for m in marks:
                    if m.get("mode") == "lines":
                        m["line"] = m["line"] | dict(dash=dash)
            out += marks
        return out

    first = len(fig.data)
    for tr, (r_, c_, sec) in zip(animated(N - 1, True), places, strict=True):  # opens on the last frame
        fig.add_trace(tr, row=r_, col=c_, secondary_y=sec)
    anim = list(range(first, len(fig.data)))
    plot_px = (width_hint or WIDTH_PX) - ANIMATION_MARGIN["l"] - ANIMATION_MARGIN["r"]
    panels.style(fig, eye=_eye(plot_px))
    g = _geometry(
        hero_px(width_hint) if same else None,
        three_d=three_d,
        key_px=_legend_px(legend_names(fig), plot_px),
        curve_key_px=_legend_px(legend_names(fig, CURVE_LEGEND), plot_px),
    )
    _set_geometry(fig, g, same=same)

    fig.frames = [dict(name=str(s), traces=anim, data=animated(s, False)) for s in range(N)]
    slider_text = [_slider_text(runs, tags, [ii[s] for ii in idx]) for s in range(N)]
    longer = runs[int(runs[1].n_frames > runs[0].n_frames)]
    shared = _config_text(run_a.config) if run_a.config == run_b.config else "A solid, B dashed"
    _finish_animation(
        fig,
        slider_text,
        marks_run=longer,
        redraw=three_d,
        paper_y=g["paper_y"],
        title=title or _compare_title(runs, tags),
        subtitle=f"{shared} · {PLAY_HINT}",
        height=height or g["height"],
        bottom=g["bottom"],
    )
    _place_legends(fig, neuron_y=g["key_y"], curve_y=g["curve_key_y"])
    for n, r in enumerate(r for r in runs if r.status == "diverged"):
        _warning(fig, f"{tags[runs.index(r)]}: {r.message}", y=g["paper_y"](SLIDER_TOP - 4 - 18 * n), align="left")
    return fig


# How a setting reads in a label: the symbols the pages and the paper use.
_SYMBOLS = {"lam": "λ", "lam_decay": "λ decay", "a_star": "a*", "eta1": "η₁", "init": "init", "lr": "lr"}


def compare_labels(cfg_a, cfg_b) -> tuple[str, str]:
    """('A: λ = 0', 'B: λ = 0.1'): each run named by the settings in which the two differ."""
    ma, mb = cfg_a.to_mapping(), cfg_b.to_mapping()
    changed = [k for k in mb if mb[k] != ma[k]]

    def side(name: str, m: dict, other: str) -> str:
        parts = [f"{_SYMBOLS.get(k, k)} = {m[k]}" for k in changed]
        return f"{name}: " + (", ".join(parts) or f"same as {other}")

    return side("A", ma, "B"), side("B", mb, "A")


def _compare_title(runs, tags: tuple[str, ...]) -> str:
    """'A: 27 of 30 aligned · B: 28 of 30 aligned, 2 vanished': what the last frames show."""

    def one(r, tag: str) -> str:
        al, dead, _ = (int(x) for x in r.metrics.counts[-1])
        return f"{tag}: {al} of {r.config.m} aligned" + (f", {dead} vanished" if dead else "")

    return " · ".join(one(r, t) for r, t in zip(runs, tags, strict=True))


def _mark_run(traces, tag: str, dash: str) -> None:
    """A run's training curves (the traces with steps as customdata): its line style, its name in hovers."""
    for t in traces:
        if t.customdata is None:  # reference lines (a*ᵢ, Σ|a*ᵢ|) keep their own style
            continue
        t.line.dash = dash
        t.hovertemplate = f"{tag}: " + t.hovertemplate
        if dash != "solid":
            t.name = f"{tag}: {t.name}"


def _shared_axes(fig: go.Figure, runs, curs: list[_Curves], cells: dict) -> _Curves:
    """One y range per curve panel covering both runs, and a step axis as long as the longer run."""

    def union(rs: list[list[float]]) -> list[float]:
        return [min(r[0] for r in rs), max(r[1] for r in rs)]

    lam_log = all(c.lam_log for c in curs)
    if lam_log:
        lam_range = union([c.lam_range for c in curs])
        lam_axis = _log_axis(lam_range, max_labels=3)
    else:
        lam_range = _lin_range(0.0, max(float(_lam_shown(r)[0].max()) for r in runs) or 1.0)
        lam_axis = dict(type="linear", range=lam_range, autorange=False, nticks=3)
    cur = _Curves(
        mse_range=union([c.mse_range for c in curs]),
        lam_range=lam_range,
        lam_log=lam_log,
        cap_range=union([c.cap_range for c in curs]),
        count_range=union([c.count_range for c in curs]),
        mass_range=union([c.mass_range for c in curs]),
    )
    steps = [int(r.step[-1]) for r in runs]
    for cell in cells.values():
        _x_axis(fig, steps, *cell)
    fig.update_yaxes(_log_axis(cur.mse_range, max_labels=4), row=cells["mse"][0], col=cells["mse"][1])
    fig.update_yaxes(lam_axis, secondary_y=True, row=cells["mse"][0], col=cells["mse"][1])
    fig.update_yaxes(range=cur.cap_range, row=cells["captured"][0], col=cells["captured"][1])
    fig.update_yaxes(range=cur.count_range, row=cells["counts"][0], col=cells["counts"][1])
    fig.update_yaxes(_log_axis(cur.mass_range, max_labels=4), row=cells["mass"][0], col=cells["mass"][1])
    return cur


def _grid(views: list, labels, tags, *, same: bool, three_d: bool) -> go.Figure:
    """The panels: both neuron views (when `same`), both angle views and the fates, three curve panels."""
    vt = "scene" if three_d else "xy"
    xy, curve_specs = {"type": "xy"}, [{"type": "xy", "secondary_y": True}, {"type": "xy"}, {"type": "xy"}]
    specs = ([[{"type": vt}, {"type": vt}, None]] if same else []) + [[xy, xy, xy], curve_specs]
    titles = ([f"{lab} · neurons" for lab in labels] if same else []) + [
        f"{tags[0]}: angle to nearest line vs mass",
        f"{tags[1]}: angle to nearest line vs mass",
        "neurons by fate",
        "mse (λ thin, right axis)",
        "captured mass (a*ᵢ thin)",
        "total and far mass vs Σ|a*ᵢ|",
    ]
    return make_subplots(rows=len(specs), cols=3, specs=specs, subplot_titles=titles)


def _set_geometry(fig: go.Figure, g: dict, *, same: bool) -> None:
    """The panels' domains and titles at the geometry g."""
    cells = [((1, c + 1), x, g["hero"]) for c, x in enumerate(_HERO_X)] if same else []
    side, crow = (2, 3) if same else (1, 2)
    cells += [((side, c + 1), x, g["side"]) for c, x in enumerate(_COL_X)]
    cells += [((crow, c + 1), x, g["curves"]) for c, x in enumerate(_COL_X)]
    _place_panels(fig, cells)
    fig.get_subplot(crow, 1, secondary_y=True).yaxis.domain = g["curves"]  # the mse panel's λ axis


def _slider_text(runs, tags: tuple[str, ...], frames: list[int]) -> str:
    """Both runs' frames in two compact lines above the slider."""

    def one(r, tag, i):
        al, dead, _ = (int(x) for x in r.metrics.counts[i])
        return (
            f"{tag} · frame {i + 1}/{r.n_frames} · step {int(r.step[i]):,} · {r.stage_name(i)} — "
            f"{al}/{r.config.m} aligned, {dead} dead, mse {r.mse[i]:.2g}"
        )

    return "<br>".join(one(r, tag, i) for r, tag, i in zip(runs, tags, frames, strict=True))
