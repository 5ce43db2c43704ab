"""Training with progress: obtain_run shows a progress bar and Cancel while a run trains."""

from __future__ import annotations

import time

import streamlit as st

from featviz.budget import BudgetError, check_budget, likely_slow
from featviz.config import Config
from featviz.fork import Fork, config_of
from featviz.jobs import DONE, FAILED, QUEUED
from featviz.run import Run
from featviz.ui.runs import chart_width, manager
from featviz.ui.text import md
from featviz.ui.view import live_update, partial_figure

CANCELLED_NOTE = "Training was cancelled. Press **Train** to start it again."
# What the animation's place says before the animation is drawn: while the run trains, and once
# it has finished while the browser still receives and draws the chart.
TRAINING_NOTE = "Training… the animation appears here when the run is ready."
LOADING_NOTE = "Trained. Loading the animation…"
# Set once a session's page has had a chart: its browser has loaded plotly.js. Before that, a run
# still training shows the preview so the browser loads plotly.js while the server trains.
CHARTED = "charted"
LIVE_INTERVAL_S = 0.25  # the progress bar and the live snapshot are refreshed this often at most
CANCEL_WAIT_S = 3.0  # a Cancel waits this long at most for the job to stop and keep its frames


def obtain_run(
    cfg: Config | Fork, *, area, label: str = "run", wait_first: float = 1.0, figure_slot=None
) -> Run | None:
    """The run for cfg (a config or a fork): cached, or trained in the background while `area` shows a progress bar
    and a Cancel button. None when the run is refused, failed or was cancelled (said in `area`).

    figure_slot (the page's AnimationView, where it will draw the run's animation): while a run
    trains that takes about a second or more, or is the session's first chart, the chart first
    shows the animation's empty panels (figures.preview_figure): the page keeps its layout, and
    the browser loads and sets up plotly.js while the server trains. While the run trains the
    chart then shows its latest snapshot (LIVE_INTERVAL_S apart at most), and after a
    Cancel the frames trained so far. The page then shows the full animation in the same chart.
    """
    if not _may_start(cfg, area=area, label=label, figure_slot=figure_slot):
        return None
    mgr = manager()
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
        full, shown = -1, -1  # versions of the full live figure and of the state shown
        while not job.wait(LIVE_INTERVAL_S):
            bar.progress(job.fraction, text=_progress_text(job))
            live = live_update(job) if figure_slot is not None else None
            if live is None:
                continue
            if live.full_version != full:
                figure_slot.show(live.figure, live=True)
                full = shown = live.full_version
            if live.patch is not None and live.patch_version > shown:
                figure_slot.patch(live.patch)
                shown = live.patch_version
        slot.empty()
    if job.state == DONE and preview:  # the browser shows these panels until it has drawn the animation
        _preview(figure_slot, config_of(cfg), LOADING_NOTE)
    return _ended(job, area=area, label=label, figure_slot=figure_slot)


def _may_start(cfg: Config | Fork, *, area, label: str, figure_slot=None) -> bool:
    """False when cfg is over the budget or its training was cancelled (said in `area`).

    A click on the Cancel button of `label` cancels cfg's job here (its trained frames are kept).
    """
    try:
        check_budget(config_of(cfg))
    except BudgetError as e:
        area.error(str(e))
        return False
    mgr = manager()
    ck = f"cancelled_{label}"
    if st.session_state.get(f"cancel_{label}"):  # this run answers a click on Cancel
        running = mgr.job(cfg.key())
        mgr.cancel(cfg.key())
        if running is not None:
            running.wait(CANCEL_WAIT_S)  # its last partial run is then kept by the manager
        if mgr.cached(cfg) is None:  # a run that finished before the click is shown, not cancelled
            st.session_state[ck] = cfg.key()
    if st.session_state.get(ck) == cfg.key():
        area.info(CANCELLED_NOTE)
        _show_partial(figure_slot, mgr.partial(cfg.key()))
        return False
    return True


def _ended(job, *, area, label: str, figure_slot=None) -> Run | None:
    """A finished job's run; None when it failed or was cancelled (said in `area`)."""
    if job.state == DONE:
        return job.run
    if job.state == FAILED:
        if figure_slot is not None:
            figure_slot.empty()
        area.error(f"Training failed: {md(str(job.error))}")
    else:
        st.session_state[f"cancelled_{label}"] = job.key
        area.info(CANCELLED_NOTE)
        _show_partial(figure_slot, job.partial)
    return None


def obtain_pair(
    cfgs: tuple[Config, Config], *, areas, labels: tuple[str, str], figure_slot=None, live_figure=None
) -> tuple[Run | None, Run | None]:
    """Two runs trained at once (Compare): each area shows its run's progress bar and Cancel while
    it trains, and figure_slot shows live_figure(run_a, run_b) of the runs so far (finished or
    partial), rebuilt every FULL_EVERY_S at most. A run is None when it was refused, failed or
    was cancelled (said in its area).
    """
    from featviz.ui.view import FULL_EVERY_S

    ok = [_may_start(cfg, area=area, label=label) for cfg, area, label in zip(cfgs, areas, labels, strict=True)]
    if not all(ok):
        for cfg, fine in zip(cfgs, ok, strict=True):
            if fine:
                prefetch(cfg)  # the other run still trains, for when this one is asked again
        return tuple(None for _ in cfgs)
    mgr = manager()
    jobs = [mgr.submit(cfg) for cfg in cfgs]
    if figure_slot is not None:
        st.session_state[CHARTED] = True
    if not all(job.wait(1.0 / len(jobs)) for job in jobs):
        slots, bars = [], []
        for job, area, label in zip(jobs, areas, labels, strict=True):
            slot = area.empty()
            with slot.container():
                bars.append(st.progress(job.fraction, text=_pair_text(job)))
                if not job.finished:
                    st.button("Cancel training", key=f"cancel_{label}")
            slots.append(slot)
        shown, built = None, 0.0
        while not all(job.wait(LIVE_INTERVAL_S / len(jobs)) for job in jobs):
            for job, bar in zip(jobs, bars, strict=True):
                bar.progress(job.fraction, text=_pair_text(job))
            runs = [job.run if job.state == DONE else job.partial for job in jobs]
            versions = tuple(-1 if job.state == DONE else job.partial_version for job in jobs)
            if figure_slot is None or live_figure is None or None in runs or versions == shown:
                continue
            if time.monotonic() - built >= FULL_EVERY_S:
                figure_slot.show(live_figure(*runs), live=True)
                shown, built = versions, time.monotonic()
        for slot in slots:
            slot.empty()
    return tuple(_ended(job, area=area, label=label) for job, area, label in zip(jobs, areas, labels, strict=True))


def _show_partial(figure_slot, run: Run | None) -> None:
    """A cancelled run's trained frames stay on screen."""
    if figure_slot is None:
        return
    if run is None:
        figure_slot.empty()
    else:
        figure_slot.show(partial_figure(run), live=True)


def _preview(figure_slot, cfg: Config, note: str) -> None:
    from featviz import figures

    figure_slot.show(figures.preview_figure(cfg, note=note, width_hint=chart_width()))


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


def _pair_text(job) -> str:
    return "Trained; waiting for the other run…" if job.state == DONE else _progress_text(job)


def train_clicked(label: str = "run") -> None:
    """Forget a cancellation: the user asked for training again."""
    st.session_state.pop(f"cancelled_{label}", None)
