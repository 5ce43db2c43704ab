"""The one Play/Pause and slider builder shared by every animated figure, its labelled ticks, and the
finishing step of an animated figure."""

from __future__ import annotations

import plotly.graph_objects as go

from featviz.figures._data import _slider_marks
from featviz.figures._layout import _finish
from featviz.figures._style import FONT_SIZE, GUIDE, HIDDEN_SIZE, INVISIBLE, SUBTITLE_SIZE, SUBTLE_TEXT, TEXT

FRAME_MS = 120  # Play: time per frame

# The top band of an animated figure, in px from the figure's top: the title under the modebar,
# the frame line, then the slider's rail, Play and Pause, the tick labels, the first panel titles.
ANIMATION_TOP = 220
SLIDER_TOP = 90  # the frame line, then the slider's rail
BUTTONS_TOP = 132
ANIMATION_LEGEND_PX = 55  # the legend's top, below the plots
# autoexpand off: the geometry above already makes room for everything, and a margin that a
# legend or the slider pushed while the chart was briefly narrower (a page still laying out)
# left both keys drawn 12 and 22 px too high after plotly.js put the margin back: the neuron
# view's key then covered the fate panel's tick labels.
ANIMATION_MARGIN = dict(l=70, r=50, autoexpand=False)

# The slider's current-value line describes the frame shown. A frame's layout (a title) is not
# redrawn while a 2-D animation plays, so the per-frame text lives in the slider labels instead.
PLAY_HINT = "▶ Play replays the training"

SLIDER_X, SLIDER_LEN = 0.2, 0.8  # paper x of the slider; Play and Pause sit left of it
_STEP_INSET = 10  # px: plotly.js draws the first and last tick this far inside the slider's ends
# Tick labels are placed for the narrowest plot the pages give (about 900 px of content):
# labels that would overlap there are merged (stages) or left out (epochs).
_NARROW_PLOT_PX = 800
_CHAR_PX = 0.6 * FONT_SIZE  # a generous average glyph width


def _controls(
    labels: list[str],
    *,
    redraw: bool,
    y: float,
    active: int | None = None,
    slider_y: float | None = None,
) -> tuple[list, list]:
    """Play/Pause buttons and one slider over frames named '0', '1', ...

    y: paper y of the buttons' top; slider_y: of the slider's top (default: level with the
    buttons). active: the frame shown first (default the last: the figure opens on the result).
    """
    last = len(labels) - 1
    frame_args = dict(mode="immediate", frame=dict(duration=0, redraw=redraw), transition=dict(duration=0))
    steps = [dict(method="animate", label=lab, args=[[str(i)], frame_args]) for i, lab in enumerate(labels)]
    play = dict(
        label="▶ Play",
        method="animate",
        # From the start: the figure opens on the last frame, and Play replays the training.
        args=[
            [str(i) for i in range(len(labels))],
            dict(
                frame=dict(duration=FRAME_MS, redraw=redraw),
                fromcurrent=False,
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
    sy = y if slider_y is None else slider_y
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
            font=dict(size=FONT_SIZE),
        )
    ]
    sliders = [
        dict(
            active=last if active is None else active,
            steps=steps,
            x=SLIDER_X,
            len=SLIDER_LEN,
            xanchor="left",
            y=sy,
            yanchor="top",
            pad=dict(t=0, b=0, l=0, r=0),
            # Step labels would overlap; the current value above the slider names the frame and
            # _tick_labels names the stage and epoch starts.
            font=dict(color=INVISIBLE, size=HIDDEN_SIZE),
            ticklen=6,
            minorticklen=0,
            tickcolor=GUIDE,
            currentvalue=dict(
                visible=True, prefix="showing: ", xanchor="left", font=dict(size=SUBTITLE_SIZE, color=TEXT)
            ),
            transition=dict(duration=0),
        )
    ]
    return menus, sliders


def _label_width(text: str) -> float:
    return len(text) * _CHAR_PX


def _tick_px(frac: float, plot_px: float) -> float:
    """Pixel offset of a tick from the slider's left end (plotly.js geometry, pad 0)."""
    return _STEP_INSET + (plot_px * SLIDER_LEN - 2 * _STEP_INSET) * frac


def _merge_text(texts: list[str]) -> str:
    """'init', 'stage 1', 'stage 2' -> 'init · stage 1 · 2' (the word once)."""
    out, seen_stage = [], False
    for t in texts:
        if t.startswith("stage "):
            out.append(t if not seen_stage else t.removeprefix("stage "))
            seen_stage = True
        else:
            out.append(t)
    return " · ".join(out)


def tick_labels(marks: list[tuple[int, str, bool]], n: int) -> list[tuple[int, str, str]]:
    """Which ticks to label, and how: [(frame, text, anchor)] with anchor 'left'/'center'/'right'.

    marks: (frame, text, must) in frame order; must-marks (stage starts) whose labels would overlap
    at the narrowest width are merged into one label at the first of them; other marks (epoch
    starts) are left out where they would overlap. n: number of frames.
    """
    if n <= 1:
        return []
    gap = _CHAR_PX  # clear space between two labels

    def extent(frame: int, text: str, anchor: str) -> tuple[float, float]:
        x, w = _tick_px(frame / (n - 1), _NARROW_PLOT_PX), _label_width(text)
        return {"left": (x - 4, x + w), "right": (x - w, x + 4)}.get(anchor, (x - w / 2, x + w / 2))

    def anchor(frame: int) -> str:
        return "left" if frame == 0 else "right" if frame == n - 1 else "center"

    # Stage marks first, merged while they collide.
    groups: list[list[tuple[int, str]]] = []
    for frame, text, must in marks:
        if not must:
            continue
        if groups:
            first = groups[-1][0][0]
            lo, _ = extent(frame, text, anchor(frame))
            if lo < extent(first, _merge_text([t for _, t in groups[-1]]), "left")[1] + gap:
                groups[-1].append((frame, text))
                continue
        groups.append([(frame, text)])
    placed = []
    for g in groups:
        frame = g[0][0]
        text = _merge_text([t for _, t in g])
        a = "left" if len(g) > 1 and frame != n - 1 else anchor(frame)
        placed.append((frame, text, a))
    spans = [extent(f, t, a) for f, t, a in placed]
    for frame, text, must in marks:
        if must:
            continue
        a = anchor(frame)
        lo, hi = extent(frame, text, a)
        if all(hi + gap <= s_lo or lo >= s_hi + gap for s_lo, s_hi in spans):
            placed.append((frame, text, a))
            spans.append((lo, hi))
    return sorted(placed)


def _tick_annotations(labels: list[tuple[int, str, str]], n: int, *, y: float, yshift: float) -> list[dict]:
    """Annotations under the slider's ticks (paper x plus the px offset plotly.js adds)."""
    out = []
    for frame, text, anchor in labels:
        frac = frame / max(n - 1, 1)
        out.append(
            dict(
                name="slider tick",
                text=text,
                xref="paper",
                yref="paper",
                x=SLIDER_X + SLIDER_LEN * frac,
                xshift=_STEP_INSET * (1 - 2 * frac),
                y=y,
                yshift=yshift,
                xanchor=anchor,
                yanchor="top",
                showarrow=False,
                font=dict(size=FONT_SIZE, color=SUBTLE_TEXT),
            )
        )
    return out


def _nearest_frame(s: int, n_slider: int, n_frames: int) -> int:
    """Slider position s of n_slider -> nearest frame of a run with n_frames snapshots."""
    if n_slider <= 1 or n_frames <= 1:
        return 0
    return round(s / (n_slider - 1) * (n_frames - 1))


def _paper_y(plot: float):
    """Figure px from the top -> paper y, in an animated figure whose plots are `plot` px tall."""
    return lambda px_from_top: 1 + (ANIMATION_TOP - px_from_top) / plot


def _finish_animation(
    fig: go.Figure,
    labels: list[str],
    *,
    marks_run,
    redraw: bool,
    paper_y,
    **finish,
) -> go.Figure:
    """Play/Pause and the slider over frames named by `labels`, ticked at the stage and epoch starts
    of marks_run, then the template, title and legend of an animated figure.

    paper_y: figure px from the top -> paper y (the figure's geometry); finish: the title,
    subtitle, height and bottom (px below the plots) for _finish.
    """
    n = len(labels)
    slider_y = paper_y(SLIDER_TOP)
    menus, sliders = _controls(labels, redraw=redraw, y=paper_y(BUTTONS_TOP), slider_y=slider_y)
    ticks = _tick_annotations(tick_labels(_slider_marks(marks_run), n), n, y=slider_y, yshift=-80)
    _finish(
        fig,
        top=ANIMATION_TOP,
        margin=ANIMATION_MARGIN,
        legend_px=ANIMATION_LEGEND_PX,
        legend=dict(xanchor="left"),
        updatemenus=menus,
        sliders=sliders,
        hovermode="closest",
        **finish,
    )
    for a in ticks:
        fig.add_annotation(a)
    return fig
