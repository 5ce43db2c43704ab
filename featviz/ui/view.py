"""The page's animation: one chart element per page (featviz.chart), kept across reruns, and the presentation view."""

from __future__ import annotations

import threading
from collections import OrderedDict

import streamlit as st

from featviz.chart import PATH_TRACES, AnimationChart, animation_chart

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
                )
        else:
            self.chart.update(figure, live=live, slot=self.feed)

    def empty(self) -> None:
        """Nothing in the animation's place (a refused or failed run)."""
        if self.chart is None:
            self.slot.empty()


# ---- live figures, shared by every session watching a job ----------------------------------

_LIVE_LOCK = threading.Lock()  # one live figure built at a time, server-wide
_LIVE: OrderedDict[str, tuple[int, object]] = OrderedDict()  # job key -> (partial version, figure)
_LIVE_SIZE = 64


def live_figure(job):
    """The animation of a training job's partial run, built once per version for every session.

    While another session builds one, the last built figure is returned (or None): a classroom
    watching one job costs one figure per snapshot, and the builds never pile up.
    """
    from featviz import figures

    version, run = job.partial_version, job.partial
    hit = _LIVE.get(job.key)
    if run is None or (hit is not None and hit[0] >= version):
        return hit[1] if hit else None
    if not _LIVE_LOCK.acquire(blocking=False):
        return hit[1] if hit else None
    try:
        fig = figures.animation_figure(run)
        _LIVE[job.key] = (version, fig)
        _LIVE.move_to_end(job.key)
        while len(_LIVE) > _LIVE_SIZE:
            _LIVE.popitem(last=False)
        return fig
    finally:
        _LIVE_LOCK.release()


def partial_figure(run):
    """The animation of a cancelled run's trained frames."""
    from featviz import figures

    return figures.animation_figure(run)


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
