"""The static training-curve figure: mse and λ, captured mass per teacher, neurons by fate."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from featviz.figures._curves import _add_curves
from featviz.figures._data import _teacher_name
from featviz.figures._layout import _diverged_note, _finish_row, _line, _x_axis
from featviz.figures._neurons import _fate_legend_traces
from featviz.figures._style import teacher_color


def curves_figure(run, *, title: str | None = None, height: int | None = None, branch=None) -> go.Figure:
    """Static training curves: mse and lam, captured mass per teacher, neurons by fate.

    branch: (step, parent run) of a fork: the branch step and the parent's continuation, dashed."""
    fig = make_subplots(
        rows=1,
        cols=3,
        specs=[[{"type": "xy", "secondary_y": True}, {"type": "xy"}, {"type": "xy"}]],
        horizontal_spacing=0.12,
        subplot_titles=("mse (solid) and λ (dashed)", "captured mass per teacher (dashed: a*ᵢ)", "neurons by fate"),
    )
    _add_curves(fig, run, {"mse": (1, 1), "captured": (1, 2), "counts": (1, 3)}, branch=branch)
    for t in _fate_legend_traces():
        fig.add_trace(t, row=1, col=3)
    for i in range(run.config.k):  # teacher legend entries for the captured-mass colours
        entry = _line([None], [None], color=teacher_color(i), width=2, name=_teacher_name(i, float(run.teacher_a[i])))
        fig.add_trace(entry.update(legendgroup=f"teacher{i}"), row=1, col=2)
    _x_axis(fig, [int(run.step[-1])], 1, 1)
    sub = f"{run.n_frames} snapshots up to step {int(run.step[-1]):,}"
    _finish_row(fig, title=title or "Training curves", subtitle=sub, height=height, bottom=130, legend_px=58)
    _diverged_note(fig, run, y=1.12)
    return fig
