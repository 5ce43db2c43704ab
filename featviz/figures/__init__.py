"""Pure plotly figure builders for recorded runs: data in, ``go.Figure`` out, one registered template.

Every figure uses the ``featviz`` template (``_style``, registered at import). Nothing here imports
streamlit or torch; a figure is a function of a ``Run`` (numpy arrays and metrics), or of the data
a domain module computed from it, and keyword-only options. One module per view: ``animation``
(and its preview), ``curves``, ``certificate``, ``descent``, ``compare``, ``sweep``, ``theorem``
(the bound on a run, the λ² law, the stage losses); the shared pieces are
``_neurons`` (neuron and teacher traces), ``_curves`` (training-curve panels), ``_controls`` (the
Play/slider builder), ``_layout`` (axes, titles, the one finishing step) and ``_data``.
"""

from featviz.figures._controls import FRAME_MS, PLAY_HINT
from featviz.figures._data import MASS_FLOOR
from featviz.figures._layout import figure_html
from featviz.figures._neurons import code_color
from featviz.figures._style import COMPARE_COLORS, FATE_COLORS, FATE_SYMBOLS, TEACHER_COLORS, TEMPLATE
from featviz.figures.animation import animation_figure, latest_frame, preview_figure
from featviz.figures.certificate import CERT_FLOOR, certificate_curves_figure, certificate_figure
from featviz.figures.compare import compare_figure, compare_labels
from featviz.figures.curves import curves_figure
from featviz.figures.descent import descent_figure, descent_targets_figure
from featviz.figures.sweep import OUTCOME_LABELS, SweepMap, loglog_slope, sweep_figure
from featviz.figures.theorem import bound_figure, lam2_figure, stage_loss_figure

__all__ = [
    "CERT_FLOOR",
    "COMPARE_COLORS",
    "FATE_COLORS",
    "FATE_SYMBOLS",
    "FRAME_MS",
    "MASS_FLOOR",
    "OUTCOME_LABELS",
    "PLAY_HINT",
    "TEACHER_COLORS",
    "TEMPLATE",
    "SweepMap",
    "animation_figure",
    "bound_figure",
    "certificate_curves_figure",
    "certificate_figure",
    "code_color",
    "compare_figure",
    "compare_labels",
    "curves_figure",
    "descent_figure",
    "descent_targets_figure",
    "figure_html",
    "lam2_figure",
    "latest_frame",
    "loglog_slope",
    "preview_figure",
    "stage_loss_figure",
    "sweep_figure",
]
