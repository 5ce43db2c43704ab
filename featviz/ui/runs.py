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
# The width (px) the pages' figures are built for. The server does not know the browser's width,
# and a figure rebuilt after the browser reported it would arrive a second time on every page
# load; plotly still fits the figure to its container's width, so only the neuron view's height
# depends on this. 1050 px is what a 1400 px wide window gives the chart beside the sidebar: its
# figure is short enough for Play to be on the first screen there, and tests/test_browser_layout.py
# checks the figures built with it at the 900, 1050 and 1550 px of 1280, 1400 and 1920 px screens.
WIDTH_HINT = 1050


@st.cache_resource
def manager() -> JobManager:
    """One per server process: every session shares its runs and jobs."""
    return JobManager()


@st.cache_resource(max_entries=32, show_spinner=False)
def _animation_for(key: str, _run: Run, _branch=None) -> go.Figure:
    """Built once per run key (the run itself is not hashed)."""
    from featviz import figures

    return figures.animation_figure(_run, branch=_branch, width_hint=WIDTH_HINT)


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
    """The run's animation, built once per key (default: run_key(run)); a fork's shows its branch."""
    branch = fork_branch(run)
    return _animation_for((key or run_key(run)) + ("|branch" if branch else ""), shown(run), branch)


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
