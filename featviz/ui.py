"""Streamlit glue shared by the pages: config widgets, links, the shared job manager.

The only module of the package (with the pages) that imports streamlit. Caching lives here:
one process-wide JobManager (memory LRU in front of the disk cache) and cached figures.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from urllib.parse import urlencode

import plotly.graph_objects as go
import streamlit as st

from featviz.config import (
    PARAMS,
    BudgetError,
    Config,
    ConfigError,
    check_budget,
    default_a_star,
    default_angles,
    encode_value,
    parse_lenient,
)
from featviz.jobs import DONE, FAILED, QUEUED, JobManager, likely_slow
from featviz.run import Run

# Steps of the +/- buttons of the float widgets.
FLOAT_STEPS = {"sep": 5.0, "init": 0.01, "lam": 0.001, "lam_decay": 0.05, "lr": 0.01, "eta1": 0.5}
LABELS = {
    "d": "d · input dimension",
    "k": "k · teacher neurons",
    "teachers": "teachers · directions",
    "sep": "sep · min angle (°)",
    "angles": "angles (°)",
    "a_star": "a* · teacher output weights",
    "m": "m · student width",
    "init": "init · initial norm",
    "symmetric": "symmetric init (f = 0 at start)",
    "lam": "λ · weight decay",
    "lam_decay": "λ decay per epoch",
    "epochs": "epochs",
    "steps": "steps per epoch",
    "lr": "lr · learning rate",
    "algo": "algorithm",
    "eta1": "eta1 · stage-1 step × init",
    "data": "data",
    "n": "n · training points",
    "seed": "seed",
    "frames": "frames kept",
}
GROUPS = {"teacher": "Teacher", "student": "Student", "training": "Training"}
# Parameters shown only when they matter.
SHOWN_IF = {
    "sep": lambda v: v["teachers"] == "random",
    "angles": lambda v: v["teachers"] == "planar",
    "eta1": lambda v: v["algo"] == "paper",
    "symmetric": lambda v: v["algo"] != "paper",
    "n": lambda v: v["data"] == "samples",
}


_FRAME = threading.local()
PAGES = (
    ("pages/playground.py", "Playground", ":material/tune:"),
    ("pages/lessons.py", "Lessons", ":material/school:"),
    ("pages/theory.py", "Theory", ":material/function:"),
    ("pages/compare.py", "Compare", ":material/compare:"),
)


def frame():
    """The frame around every page: page config and navigation. Returns the page to run."""
    _FRAME.ran = True
    st.set_page_config(page_title="featviz · how gradient descent learns features", page_icon="🧭", layout="wide")
    pages = [st.Page(path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in enumerate(PAGES)]
    return st.navigation(pages)


def page_frame() -> None:
    """Make sure a page runs inside the frame.

    With a pages/ folder next to app.py, Streamlit starts in its legacy multipage mode until
    st.navigation runs once, and in that mode a link straight to a page runs the page without
    app.py (no navigation, no page config). Leave that mode and rerun through app.py.
    streamlit.testing's AppTest restores the legacy mode before every run and always runs the
    page directly; its tests set FEATVIZ_APPTEST=1 so the page simply runs.
    """
    ran, _FRAME.ran = getattr(_FRAME, "ran", False), False
    if not ran and os.environ.get("FEATVIZ_APPTEST") != "1":
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
        st.rerun()


@st.cache_resource
def manager() -> JobManager:
    """One per server process: every session shares its runs and jobs."""
    return JobManager()


@st.cache_resource(max_entries=32, show_spinner=False)
def _animation_for(key: str, _run: Run) -> go.Figure:
    """Built once per run key (the run itself is not hashed)."""
    from featviz import figures

    return figures.animation_figure(_run)


MAX_SHOWN_POINTS = 40_000  # neuron positions over all frames of one animation (~3 MB of figure)


def shown(run: Run) -> Run:
    """The run as animated: large runs keep fewer frames so the page stays light."""
    return run.thinned(MAX_SHOWN_POINTS)


def animation_figure(run: Run) -> go.Figure:
    return _animation_for(run.config.key(), shown(run))


def md(text: str) -> str:
    """Text shown as Markdown literally: w*_i must not open italics, user text must not make links."""
    for ch in "*[]<>$":
        text = text.replace(ch, "\\" + ch)
    return text


# ---- URL <-> config ---------------------------------------------------------------------


def query_mapping(prefix: str = "") -> dict[str, str]:
    """The current query string as str -> str (the last value of a repeated key)."""
    out = {}
    for key in st.query_params:
        if key.startswith(prefix):
            values = st.query_params.get_all(key)
            out[key[len(prefix) :]] = values[-1] if values else ""
    return out


def link_for(mapping: Mapping[str, str]) -> str:
    """A link to the current page with these parameters."""
    base = (st.context.url or "http://localhost:8501/").split("?")[0]
    return base + "?" + urlencode(mapping)


def set_query(mapping: Mapping[str, str]) -> None:
    """Write the mapping to the URL, only when it changed (each write is a history entry)."""
    if query_mapping() != dict(mapping):
        st.query_params.from_dict(dict(mapping))


def config_from_url(state_key: str = "cfg") -> tuple[Config, list[str]]:
    """The page's config: from the link on first load, carried in the session afterwards.

    Query params are cleared when a user changes page; the session's config then
    restores them, so a link copied from any page reproduces what it shows.
    """
    url = query_mapping()
    known = {k: v for k, v in url.items() if k in PARAMS}
    seen = st.session_state.get(state_key + "_url")
    if known and known != seen:
        cfg, messages = parse_lenient(url)
        st.session_state[state_key] = cfg
        st.session_state[state_key + "_url"] = cfg.to_mapping()
        # The messages stay on show (reruns, training) as long as this link's config is.
        st.session_state[state_key + "_msgs"] = (cfg, messages)
        load_widgets(cfg)
        return cfg, messages
    cfg = st.session_state.get(state_key) or Config()
    if state_key not in st.session_state:
        st.session_state[state_key] = cfg
        load_widgets(cfg)
    linked, messages = st.session_state.get(state_key + "_msgs", (None, []))
    return cfg, (messages if linked == cfg else [])


def remember(cfg: Config, state_key: str = "cfg") -> None:
    st.session_state[state_key] = cfg
    st.session_state[state_key + "_url"] = cfg.to_mapping()
    set_query(cfg.to_mapping())


# ---- widgets ----------------------------------------------------------------------------


def _wkey(name: str, prefix: str = "w_") -> str:
    return f"{prefix}{name}"


def load_widgets(cfg: Config, prefix: str = "w_") -> None:
    """Put cfg's values into the widgets' session state."""
    for name in PARAMS:
        st.session_state.pop(_wkey(name, prefix), None)
    _fill_widgets(cfg, prefix)


def _fill_widgets(cfg: Config, prefix: str) -> None:
    """Widgets without a state get cfg's value."""
    mapping = cfg.to_mapping()
    for name, p in PARAMS.items():
        st.session_state.setdefault(_wkey(name, prefix), mapping[name] if p.kind == "floats" else getattr(cfg, name))


def _on_k_change(prefix: str) -> None:
    """Resize a* and the planar angles to k, keeping the values already typed."""
    k = st.session_state[_wkey("k", prefix)]
    for name, default in (("a_star", default_a_star(k)), ("angles", default_angles(k))):
        key = _wkey(name, prefix)
        parts = [t for t in str(st.session_state.get(key, "")).split(",") if t.strip()]
        if len(parts) != k:
            st.session_state[key] = ",".join(parts[:k] + [f"{x:g}" for x in default[len(parts) : k]])


def widget_values(prefix: str = "w_") -> dict:
    return {name: st.session_state.get(_wkey(name, prefix)) for name in PARAMS}


def config_widgets(container, cfg: Config, prefix: str = "w_", names=None, *, grouped: bool = True) -> None:
    """Config parameters as widgets (all, or `names`), grouped, with their ranges in the help text.

    Streamlit forgets a widget's state when a run ends without drawing it (another page, a run
    cut short while several users train); such a widget is put back at cfg's value, never at
    its minimum.
    """
    _fill_widgets(cfg, prefix)
    values = widget_values(prefix)
    shown = list(PARAMS) if names is None else [n for n in PARAMS if n in names]
    for group, title in GROUPS.items():
        in_group = [n for n in shown if PARAMS[n].group == group]
        if grouped and in_group:
            container.markdown(f"**{title}**")
        for name in in_group:
            p = PARAMS[name]
            if names is None and name in SHOWN_IF and not SHOWN_IF[name](values):
                continue
            key, label = _wkey(name, prefix), LABELS[name]
            help_text = f"{p.help}  \nAllowed: {p.allowed}."
            if p.kind == "choice":
                container.selectbox(label, p.choices, key=key, help=help_text)
            elif p.kind == "floats":
                container.text_input(label, key=key, help=help_text)
            elif p.kind == "int":
                container.number_input(
                    label,
                    min_value=int(p.lo),
                    max_value=int(p.hi),
                    step=1,
                    key=key,
                    help=help_text,
                    on_change=_on_k_change if name == "k" else None,
                    args=(prefix,) if name == "k" else None,
                )
            else:
                container.number_input(
                    label,
                    min_value=float(p.lo),
                    max_value=float(p.hi),
                    step=FLOAT_STEPS.get(name, 0.1),
                    format="%g",
                    key=key,
                    help=help_text,
                )


def config_from_widgets(fallback: Config, prefix: str = "w_", names=None) -> tuple[Config | None, str]:
    """(config, '') from the widgets (all, or only `names` over `fallback`), or (None, message)."""
    values = widget_values(prefix)
    mapping = fallback.to_mapping()
    for name in PARAMS if names is None else names:
        v = values[name]
        if v is not None:
            mapping[name] = v if isinstance(v, str) else encode_value(v)
    try:
        return Config.from_mapping(mapping), ""
    except ConfigError as e:
        return None, f"Parameter `{e.param}` must be {e.allowed}" + (
            f" (got {e.value!r})." if e.value is not None else "."
        )


# ---- training with progress -------------------------------------------------------------


CANCELLED_NOTE = "Training was cancelled. Press **Train** to start it again."


CHART_CONFIG = {"displaylogo": False}
# Set once a session's page has had a chart: its browser has loaded plotly.js. Before that, a run
# still training shows the preview so the browser loads plotly.js while the server trains.
CHARTED = "charted"


def obtain_run(cfg: Config, *, area, label: str = "run", wait_first: float = 1.0, figure_slot=None) -> Run | None:
    """The run for cfg: cached, or trained in the background while `area` shows a progress bar
    and a Cancel button. None when the run is refused, failed or was cancelled (said in `area`).

    figure_slot (an st.empty where the page will draw the run's animation): while a run trains
    that takes about a second or more, or is the session's first chart, the slot shows the
    animation's empty panels (figures.preview_figure): the page keeps its layout, and the
    browser loads and sets up plotly.js (a 4.7 MB script) while the server trains.
    """
    try:
        check_budget(cfg)
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
    if figure_slot is not None and (likely_slow(cfg) or not st.session_state.get(CHARTED)) and mgr.cached(cfg) is None:
        # Drawn before the job starts: its first step, importing torch, holds the interpreter.
        from featviz import figures

        figure_slot.plotly_chart(figures.preview_figure(cfg), theme=None, config=CHART_CONFIG)
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
        return job.run
    if figure_slot is not None:
        figure_slot.empty()
    if job.state == FAILED:
        area.error(f"Training failed: {job.error}")
    else:
        st.session_state[ck] = cfg.key()
        area.info(CANCELLED_NOTE)
    return None


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
