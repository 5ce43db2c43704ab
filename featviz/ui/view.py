"""The page's animation: one chart element per page (featviz.chart), kept across reruns, and the presentation view."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st

from featviz.chart import PATH_TRACES, AnimationChart, animation_chart
from featviz.ui.runs import WIDTH_HINT, chart_width

PRESENT = "present"  # ?view=present: the presentation view
VIEW_KEY = "view"  # the query parameter (and session key) that carries it


class AnimationView:
    """The place of a page's animation: the chart `key`, mounted at most once per script run.

    show() mounts the chart the first time in a run (with the same key in every run, so the
    browser keeps the same chart and updates it in place) and pushes later figures of the same
    run to it (the preview, live snapshots while training, then the full animation).
    """

    def __init__(
        self, key: str, *, trails: bool = False, present: bool = False, path_traces: tuple[str, ...] = PATH_TRACES
    ):
        self.key = key
        self.trails = trails
        self.path_traces = path_traces
        self.present = present  # the presentation view's chart (see presentation_switch)
        self.slot = st.empty()
        self.feed = st.empty()  # later figures of this run travel through it
        self.chart: AnimationChart | None = None

    def show(self, figure, *, live: bool = False) -> None:
        if self.chart is None:
            with self.slot:
                self.chart = animation_chart(
                    figure,
                    key=self.key,
                    live=live,
                    trails=self.trails,
                    path_traces=self.path_traces,
                    present=self.present,
                    width=chart_width(),
                )
        else:
            self.chart.update(figure, live=live, slot=self.feed)

    def patch(self, patch: str) -> None:
        """A live patch (Live.patch) for the chart mounted in this run; nothing if none is."""
        if self.chart is not None:
            self.chart.update(patch, live=True, slot=self.feed, patch=True)

    def empty(self) -> None:
        """Nothing in the animation's place (a refused or failed run)."""
        if self.chart is None:
            self.slot.empty()


# ---- live figures, shared by every session watching a job ----------------------------------

FULL_EVERY_S = 1.0  # a job's full live figure (curves, slider) is rebuilt this often at most
_LIVE_LOCK = threading.Lock()  # one full live figure built at a time, server-wide
_LIVE: OrderedDict[str, Live] = OrderedDict()
_LIVE_SIZE = 64
_log = logging.getLogger(__name__)


@dataclass
class Live:
    """What a training job's chart shows: a full figure of its partial run, then cheap patches.

    A full figure (figures.animation_figure: 0.3-0.6 s of CPU) is built at most every
    FULL_EVERY_S; between them a patch (a few ms) moves the neuron views to the latest state.
    Built once per version for every session watching the job, so a classroom costs one.
    """

    full_version: int
    figure: Any
    mass_ref: float
    n_frames: int
    built: float
    patch_version: int = -1
    patch: str | None = None  # JSON: {"traces": {name: data}, "label": slider line}
    lock: threading.Lock = field(default_factory=threading.Lock)


def live_update(job) -> Live | None:
    """The job's latest live figure and patch (None before its first partial run)."""
    from featviz import figures

    version, run = job.partial_version, job.partial
    entry = _LIVE.get(job.key)
    if run is None:
        return entry
    stale = entry is None or (version > entry.full_version and time.monotonic() - entry.built >= FULL_EVERY_S)
    if stale and _LIVE_LOCK.acquire(blocking=False):
        try:
            fig = figures.animation_figure(run, width_hint=WIDTH_HINT)  # shared by every session watching
            entry = Live(version, fig, _mass_ref(run), run.n_frames, time.monotonic(), patch_version=version)
            _LIVE[job.key] = entry
            _LIVE.move_to_end(job.key)
            while len(_LIVE) > _LIVE_SIZE:
                _LIVE.popitem(last=False)
        finally:
            _LIVE_LOCK.release()
    elif entry is not None and version > entry.patch_version and entry.lock.acquire(blocking=False):
        try:
            entry.patch, entry.patch_version = _patch(run, entry), version
        except Exception:  # noqa: BLE001 - the figures' internals changed: full figures only
            _log.exception("live patch failed")
            entry.patch_version = 1 << 62
        finally:
            entry.lock.release()
    return entry


def _mass_ref(run) -> float:
    from featviz.projection import mass_ref

    return mass_ref(np.nan_to_num(run.metrics.mass, nan=0.0, posinf=0.0))


def _patch(run, entry: Live) -> str:
    """The run's last state as the chart's last frame: neuron and angle traces, slider line."""
    from featviz.figures import latest_frame

    traces, label = latest_frame(run, mass_ref=entry.mass_ref, n_frames=entry.n_frames)
    return json.dumps({"traces": dict(zip(PATH_TRACES, traces, strict=True)), "label": label}, default=_plain)


def _plain(x):
    if isinstance(x, np.ndarray):
        return np.nan_to_num(x.astype(float)).tolist() if x.dtype.kind == "f" else x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(type(x).__name__)


def partial_figure(run):
    """The animation of a cancelled run's trained frames."""
    from featviz import figures

    return figures.animation_figure(run, width_hint=chart_width())


# ---- the presentation view -------------------------------------------------------------------


def presenting() -> bool:
    """True in the presentation view: ?view=present, kept in the session across reruns.

    A link's value counts when it is new (like the config's parameters); the button sets the
    session's value, which the page's set_query then writes to the URL.
    """
    asked = st.query_params.get(VIEW_KEY, "")
    if asked != st.session_state.get(VIEW_KEY + "_url", ""):
        st.session_state[VIEW_KEY + "_url"] = asked
        st.session_state[VIEW_KEY] = asked
    return st.session_state.get(VIEW_KEY) == PRESENT


def _toggle_view() -> None:
    st.session_state[VIEW_KEY] = "" if presenting() else PRESENT


_PRESENT_CSS = """
<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], header[data-testid="stHeader"] { display: none !important; }
[data-testid="stMainBlockContainer"], .block-container {
  padding: 0.5rem 1rem 0 1rem !important; max-width: 100% !important;
}
</style>
"""


def presentation_switch() -> bool:
    """The button that enters and leaves the presentation view; True while it is on.

    On, the sidebar and header are hidden and the chart fills the window with large text and
    controls (space: Play/Pause, ←/→: a frame, Home/End: first/last). The view travels in the
    link (?view=present) with the page's config; this is the one place that writes it.
    """
    on = presenting()
    st.button(
        "Leave presentation view" if on else "Presentation view",
        key="present_toggle",
        icon=":material/close_fullscreen:" if on else ":material/slideshow:",
        help="The animation alone, full screen, readable from the back of a room; keys: space, ←/→, Home/End.",
        on_click=_toggle_view,
    )
    if (st.query_params.get(VIEW_KEY) == PRESENT) != on:
        q = {k: st.query_params.get_all(k)[-1] for k in st.query_params if k != VIEW_KEY}
        st.query_params.from_dict(q | ({VIEW_KEY: PRESENT} if on else {}))
        st.session_state[VIEW_KEY + "_url"] = PRESENT if on else ""
    if on:
        st.html(_PRESENT_CSS)
    return on
