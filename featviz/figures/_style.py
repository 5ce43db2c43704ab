"""The look of every figure: the registered template, the palette and every colour and font size.

Okabe–Ito colours (Okabe & Ito 2008, "Color Universal Design") stay distinguishable under the
common colour-vision deficiencies. No other module of the package writes a colour or a font size.

Encodings shared by all neuron views: colour = nearest teacher for aligned neurons, grey for
undecided, light grey for dead; symbol = fate (circle aligned, x dead, diamond undecided).
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

from featviz.metrics import ALIGNED, DEAD, UNDECIDED

TEMPLATE = "featviz"

# Black and yellow last: yellow is faint on white.
TEACHER_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
INK = "#000000"  # the main curve of a panel (mse, η, the margin)
SECONDARY = "#7A7A7A"  # the second curve of a panel (λ, a bound), undecided neurons
LIGHT = "#BDBDBD"  # dead neurons
DARK = "#1A1A1A"  # aligned neurons in panels that show the fate only
CURSOR = "#555555"  # the current-frame line, arrow heads
GUIDE = "#999999"  # dotted thresholds, slider ticks
TEXT = "#222222"
SUBTLE_TEXT = "#444444"  # subtitles, axis lines
WARNING = "#D55E00"  # a diverged run's message
OUTLINE = "white"  # marker outlines
NEURON_EDGE = "#1A1A1A"  # the edge of a student neuron: visible on its own teacher line
BAND = "rgba(86,180,233,0.12)"  # the band |η| ≤ 1
INVISIBLE = "rgba(0,0,0,0)"
VIOLATION = WARNING  # a frame where a measured quantity exceeds its bound
BAR = "#A8A8A8"  # bars of a per-stage summary (grey: the hues belong to teachers)
HIGHLIGHT_BAR = "#4D4D4D"  # the bar a check is about
LEGEND_BACKGROUND = "rgba(255,255,255,0.8)"
SCENE_BACKGROUND, SCENE_GRID, SCENE_ZERO_LINE = "#FAFAFA", "#DDDDDD", "#999999"

FATE_COLORS = {ALIGNED: DARK, DEAD: LIGHT, UNDECIDED: SECONDARY}  # ALIGNED: in fate-only panels
FATE_SYMBOLS = {ALIGNED: "circle", DEAD: "x", UNDECIDED: "diamond"}
FATE_DASH = {ALIGNED: "solid", DEAD: "dot", UNDECIDED: "dash"}
COMPARE_COLORS = (INK, SECONDARY)  # run A, run B: grey levels, the hues belong to teachers
# Sweep heatmaps: viridis reads in grey and under the common colour-vision deficiencies.
SEQUENTIAL = "Viridis"

FONT_FAMILY = "Helvetica Neue, Arial, sans-serif"
# Sizes read from the back of a room on a projector: nothing under 13 px.
FONT_SIZE = 13  # body text, tick labels, hover labels, buttons, warnings, slider tick labels
TITLE_SIZE = 20
SUBTITLE_SIZE = 14  # subtitles, panel titles, the slider's current value
LEGEND_SIZE = 13
HIDDEN_SIZE = 1  # text drawn only to take no room (the slider's step labels)
# The modebar (Plotly's toolbar) sits in the top 30 px; the title starts below it.
MODEBAR_PX = 34


def teacher_color(i: int) -> str:
    return TEACHER_COLORS[i % len(TEACHER_COLORS)]


def warning_font() -> dict:
    return dict(color=WARNING, size=FONT_SIZE)


def _register_template() -> None:
    t = go.layout.Template(pio.templates["plotly_white"])
    t.layout.colorway = TEACHER_COLORS
    t.layout.font = dict(family=FONT_FAMILY, size=FONT_SIZE, color=TEXT)
    t.layout.title = dict(
        x=0.01,
        xanchor="left",
        y=1.0,
        yref="container",
        yanchor="top",
        pad=dict(t=MODEBAR_PX),
        font=dict(size=TITLE_SIZE),
    )
    t.layout.hoverlabel = dict(font_size=FONT_SIZE, align="left")
    t.layout.legend = dict(font=dict(size=LEGEND_SIZE), bgcolor=LEGEND_BACKGROUND, tracegroupgap=2)
    t.layout.margin = dict(l=60, r=20, t=90, b=60)
    axis = dict(showline=True, linecolor=SUBTLE_TEXT, mirror=True, ticks="outside", zeroline=False)
    t.layout.xaxis.update(axis)
    t.layout.yaxis.update(axis)
    for name in ("xaxis", "yaxis", "zaxis"):
        t.layout.scene[name].update(
            backgroundcolor=SCENE_BACKGROUND, gridcolor=SCENE_GRID, zerolinecolor=SCENE_ZERO_LINE
        )
    t.layout.annotationdefaults = dict(font=dict(size=SUBTITLE_SIZE))
    pio.templates[TEMPLATE] = t


_register_template()
