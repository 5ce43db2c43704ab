"""The runs every session shares: one job manager per server, and the animation built once per run."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from featviz.jobs import JobManager
from featviz.run import Run

CHART_CONFIG = {"displaylogo": False}
MAX_SHOWN_POINTS = 40_000  # neuron positions over all frames of one animation (~3 MB of figure)


@st.cache_resource
def manager() -> JobManager:
    """One per server process: every session shares its runs and jobs."""
    return JobManager()


@st.cache_resource(max_entries=32, show_spinner=False)
def _animation_for(key: str, _run: Run) -> go.Figure:
    """Built once per run key (the run itself is not hashed)."""
    from featviz import figures

    return figures.animation_figure(_run)


def shown(run: Run) -> Run:
    """The run as animated: large runs keep fewer frames so the page stays light."""
    return run.thinned(MAX_SHOWN_POINTS)


def animation_figure(run: Run) -> go.Figure:
    return _animation_for(run.config.key(), shown(run))
