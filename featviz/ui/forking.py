"""Forks on the Playground: the fork a link asks for, and the "Fork from this frame" expander."""

from __future__ import annotations

import streamlit as st

from featviz.config import Config, ConfigError, encode_value, rejected
from featviz.fork import FORK_PARAMS, Fork, branch_steps, config_of
from featviz.params import PARAMS
from featviz.run import Run
from featviz.ui.links import query_mapping
from featviz.ui.text import md
from featviz.ui.widgets import config_from_widgets, config_widgets, load_widgets

SPEC = "fork_spec"  # session key: the fork shown on top of the page's config, or absent
PREFIX = "fork_w_"  # widget keys of the fork's settings


def fork_from_url(cfg: Config, *, trained: bool = False) -> Config | Fork:
    """What the page shows: cfg, or the fork of cfg that the link or the expander asked for.

    The link's fork.* keys are read once (like config_from_url); a click on Train (trained)
    returns to the plain run of the new config.
    """
    url = {k: v for k, v in query_mapping().items() if k.startswith("fork")}
    if trained:
        st.session_state.pop(SPEC, None)
        st.session_state["fork_url"] = url
        return cfg
    if url and url != st.session_state.get("fork_url"):
        st.session_state["fork_url"] = url
        try:
            st.session_state[SPEC] = Fork.from_mapping(cfg.to_mapping() | url)
        except ConfigError as e:
            st.session_state.pop(SPEC, None)
            st.warning(md(rejected(e, "the run it forks is shown instead")))
    spec = st.session_state.get(SPEC)
    if spec is None or spec.root != cfg:
        st.session_state.pop(SPEC, None)
        return cfg
    return spec


def describe(fork: Fork) -> str:
    """'step 980: λ = 1, λ decay = 1' for each fork of the chain."""
    parts = []
    for f in fork.chain():
        changed = ", ".join(f"{PARAMS[n].label} = {encode_value(v)}" for n, v in f.changes) or "no change"
        parts.append(f"at step {f.step:,} ({changed})")
    return "Forked " + "; then ".join(parts)


def fork_banner(spec: Config | Fork) -> None:
    """For a fork: what it changes, and a button back to the run it forks."""
    if not isinstance(spec, Fork):
        return
    c1, c2 = st.columns([4, 1], vertical_alignment="center")
    c1.info(
        md(describe(spec)) + ". Frames before the branch are the parent's; the curves show the branch "
        "(dotted line) and the parent's own continuation (dashed, faint).",
        icon=":material/call_split:",
    )
    if c2.button("Back to the parent run", key="fork_back"):
        if isinstance(spec.parent, Fork):
            st.session_state[SPEC] = spec.parent
        else:
            st.session_state.pop(SPEC, None)
        st.rerun()


def fork_expander(run: Run, spec: Config | Fork) -> None:
    """Pick a frame of the shown run and continue it with new λ, λ decay, lr, epochs or steps."""
    steps = branch_steps(run)
    if not steps:
        return
    cfg = config_of(spec)
    if st.session_state.get("fork_loaded") != spec.key():  # the settings start from the run shown
        load_widgets(cfg, PREFIX)
        st.session_state["fork_loaded"] = spec.key()
        quarter = cfg.stage_steps + cfg.total_steps // 4
        st.session_state["fork_step"] = min(steps, key=lambda s: abs(s - quarter))
    if st.session_state.get("fork_step") not in steps:
        st.session_state["fork_step"] = steps[-1]
    with st.expander("Fork from this frame", icon=":material/call_split:"):
        st.caption(
            "Continue training from one frame's state (W, a, α, β) with the same teachers and new settings. "
            "After the branch, λ follows λ·decay^epoch with epochs counted from the start of the run, "
            "and training ends at step epochs × steps."
        )
        st.select_slider("Frame (its step)", options=steps, key="fork_step")
        box = st.container()
        config_widgets(box, cfg, PREFIX, names=FORK_PARAMS, grouped=False)
        if st.button("Fork", type="primary", key="fork_go", icon=":material/call_split:"):
            new, error = config_from_widgets(cfg, PREFIX, names=FORK_PARAMS, outcome="nothing was forked")
            if error:
                st.error(md(error))
                return
            changes = tuple((n, getattr(new, n)) for n in FORK_PARAMS if getattr(new, n) != getattr(cfg, n))
            try:
                fork = Fork(spec, int(st.session_state["fork_step"]), changes)
            except ConfigError as e:
                st.error(md(rejected(e, "nothing was forked")))
                return
            st.session_state[SPEC] = fork
            st.rerun()
