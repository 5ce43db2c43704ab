"""The runs every session shares: one job manager per server, and the animation built once per run."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from featviz.config import ConfigError
from featviz.fork import Fork
from featviz.jobs import JobManager
from featviz.run import Run

CHART_CONFIG = {"displaylogo": False}
MAX_SHOWN_POINTS = 40_000  # neuron positions over all frames of one animation (~3 MB of figure)
# The width (px) the pages' figures are built for until the chart has reported the width the
# browser gives it (featviz.chart.chart_width): what a 1400 px wide window gives the chart beside
# the sidebar. The chart reports its width only when it differs from this by more than 100 px, so
# at about 1400 px the figure is built once.
WIDTH_HINT = 1050


def chart_width() -> int:
    """The width in px the pages' figures are built for: the chart's, once the browser reported it."""
    from featviz.chart import chart_width as reported

    return reported(WIDTH_HINT)


@st.cache_resource
def manager() -> JobManager:
    """One per server process: every session shares its runs and jobs."""
    return JobManager()


@st.cache_resource(max_entries=32, show_spinner=False)
def _animation_for(key: str, width: int, _run: Run, _branch=None) -> go.Figure:
    """Built once per run key and width (the run itself is not hashed)."""
    from featviz import figures

    return figures.animation_figure(_run, branch=_branch, width_hint=width)


def run_key(run: Run) -> str:
    """What a run is, for the caches: its fork's key for a fork, else its config's."""
    if run.fork is not None:
        try:
            return Fork.from_mapping(run.fork).key()
        except ConfigError:  # a saved file's malformed link: still not the plain run of its config
            return "fork-" + run.config.key()
    return run.config.key()


def fork_branch(run: Run) -> tuple[int, Run] | None:
    """(branch step, parent run) of a fork whose parent is in the caches, else None."""
    if run.fork is None:
        return None
    try:
        fork = Fork.from_mapping(run.fork)
    except ConfigError:
        return None
    parent = manager().cached(fork.parent)
    return None if parent is None else (fork.step, shown(parent))


def shown(run: Run) -> Run:
    """The run as animated: large runs keep fewer frames so the page stays light."""
    return run.thinned(MAX_SHOWN_POINTS)


def animation_figure(run: Run, *, key: str | None = None) -> go.Figure:
    """The run's animation for the chart's width, built once per key (default: run_key(run)) and
    width; a fork's shows its branch."""
    branch = fork_branch(run)
    return _animation_for((key or run_key(run)) + ("|branch" if branch else ""), chart_width(), shown(run), branch)


@st.cache_data(max_entries=4, show_spinner=False)
def uploaded_run(data: bytes) -> tuple[Run, str]:
    """(the checked run, an id for the caches: the hash of the file) of an uploaded .npz;
    raises featviz.upload.UploadError with one message for people."""
    import hashlib

    from featviz.upload import load_run_bytes

    return load_run_bytes(data), "upload-" + hashlib.sha256(data).hexdigest()[:32]


def run_link(run: Run) -> dict[str, str]:
    """The Playground parameters that train the run again: its fork link, or its config."""
    return dict(run.fork) if run.fork is not None else run.config.to_mapping()
