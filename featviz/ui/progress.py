"""Training with progress: obtain_run shows a progress bar and Cancel while a run trains."""

from __future__ import annotations

import time

import streamlit as st

from featviz.budget import BudgetError, check_budget, likely_slow
from featviz.config import Config
from featviz.fork import Fork, config_of
from featviz.jobs import DONE, FAILED, QUEUED
from featviz.run import Run
from featviz.ui.runs import CHART_CONFIG, manager

CANCELLED_NOTE = "Training was cancelled. Press **Train** to start it again."
# What the animation's place says before the animation is drawn: while the run trains, and once
# it has finished while the browser still receives and draws the chart.
TRAINING_NOTE = "Training… the animation appears here when the run is ready."
LOADING_NOTE = "Trained. Loading the animation…"
# Set once a session's page has had a chart: its browser has loaded plotly.js. Before that, a run
# still training shows the preview so the browser loads plotly.js while the server trains.
CHARTED = "charted"


def obtain_run(
    cfg: Config | Fork, *, area, label: str = "run", wait_first: float = 1.0, figure_slot=None
) -> Run | None:
    """The run for cfg (a config or a fork): cached, or trained in the background while `area` shows a progress bar
    and a Cancel button. None when the run is refused, failed or was cancelled (said in `area`).

    figure_slot (an st.empty where the page will draw the run's animation): while a run trains
    that takes about a second or more, or is the session's first chart, the slot shows the
    animation's empty panels (figures.preview_figure): the page keeps its layout, and the
    browser loads and sets up plotly.js (a 4.7 MB script) while the server trains. When the run
    is done the panels say so until the page draws the animation in their place.
    """
    try:
        check_budget(config_of(cfg))
    except BudgetError as e:
        area.error(str(e))
        return None
    mgr = manager()
    ck = f"cancelled_{label}"
    if st.session_state.get(f"cancel_{label}"):  # this run answers a click on Cancel
        mgr.cancel(cfg.key())
        st.session_state[ck] = cfg.key()
    if st.session_state.get(ck) == cfg.key():
        area.info(CANCELLED_NOTE)
        return None
    preview = figure_slot is not None and (likely_slow(config_of(cfg)) or not st.session_state.get(CHARTED))
    preview = preview and mgr.cached(cfg) is None
    if preview:
        # Drawn before the job starts: its first step, importing torch, holds the interpreter.
        _preview(figure_slot, config_of(cfg), TRAINING_NOTE)
    if figure_slot is not None:
        st.session_state[CHARTED] = True
    job = mgr.submit(cfg)
    # Short runs finish within wait_first: no progress bar flashes by.
    if not job.wait(wait_first):
        # Poll in the script itself. A click anywhere (Cancel, a widget) ends this run at the next
        # Streamlit call and starts a new one, so the page stays responsive; no fragment reruns
        # the app from inside it (that raced with other sessions' widget state under load).
        slot = area.empty()
        with slot.container():
            bar = st.progress(job.fraction, text=_progress_text(job))
            st.button("Cancel training", key=f"cancel_{label}")
        while not job.wait(0.3):
            bar.progress(job.fraction, text=_progress_text(job))
        slot.empty()
    if job.state == DONE:
        if preview:  # the browser shows these panels until it has the animation and has drawn it
            _preview(figure_slot, config_of(cfg), LOADING_NOTE)
        return job.run
    if figure_slot is not None:
        figure_slot.empty()
    if job.state == FAILED:
        area.error(f"Training failed: {job.error}")
    else:
        st.session_state[ck] = cfg.key()
        area.info(CANCELLED_NOTE)
    return None


def _preview(figure_slot, cfg: Config, note: str) -> None:
    from featviz import figures

    figure_slot.plotly_chart(figures.preview_figure(cfg, note=note), theme=None, config=CHART_CONFIG)


def prefetch(cfg: Config) -> None:
    """Start training cfg in the background (within the budget) without waiting for it."""
    try:
        check_budget(cfg)
    except BudgetError:
        return
    manager().submit(cfg)


def _progress_text(job) -> str:
    if job.state == QUEUED:
        return "Waiting for a free worker (other runs are training)…"
    elapsed = time.monotonic() - job.started
    mse = "…" if job.mse != job.mse else f"{job.mse:.3g}"
    return f"Training: step {job.step:,} of {job.total:,} · exact mse {mse} · {elapsed:.1f} s"


def train_clicked(label: str = "run") -> None:
    """Forget a cancellation: the user asked for training again."""
    st.session_state.pop(f"cancelled_{label}", None)
