"""Links: the page's query parameters <-> its config, carried in the session between pages."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

from featviz.config import PARAMS, Config, parse_lenient
from featviz.ui.widgets import load_widgets


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


_COPY_LINK_HTML = (
    '<div class="featviz-link"><span class="featviz-link-text"></span><button type="button"></button></div>'
)
_COPY_LINK_CSS = """
.featviz-link { display: flex; align-items: flex-start; gap: 0.75rem; padding: 0.75rem 1rem;
  border-radius: 0.5rem; background: var(--st-secondary-background-color);
  font-family: var(--st-code-font, "Source Code Pro", monospace); font-size: 0.875rem; line-height: 1.5; }
.featviz-link-text { flex: 1; overflow-wrap: anywhere; color: var(--st-text-color); user-select: all; }
.featviz-link button { flex: none; font: inherit; cursor: pointer; padding: 0.1rem 0.6rem;
  border: 1px solid var(--st-border-color); border-radius: 0.4rem; background: var(--st-background-color);
  color: var(--st-text-color); }
"""
_copy_link = st.components.v2.component(
    "featviz.copy_link",
    html=_COPY_LINK_HTML,
    css=_COPY_LINK_CSS,
    js=(Path(__file__).resolve().parent / "copy_link.js").read_text(encoding="utf-8"),
)


def copy_link(link: str, *, key: str = "copy_link") -> None:
    """The page's link in a box with a Copy button."""
    _copy_link(key=key, data={"link": link}, height="content")


def set_query(mapping: Mapping[str, str]) -> None:
    """Write the mapping to the URL, only when it changed (each write is a history entry).

    The view parameter (?view=present) is left as it is: ui.presentation_switch owns it.
    """
    from featviz.ui.view import VIEW_KEY

    mapping, current = dict(mapping), query_mapping()
    if VIEW_KEY in current:
        mapping[VIEW_KEY] = current[VIEW_KEY]
    if current != mapping:
        st.query_params.from_dict(mapping)


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


def remember(cfg: Config, state_key: str = "cfg", *, link: Mapping[str, str] | None = None) -> None:
    """Keep cfg in the session and write its link (or `link`, e.g. a fork's) to the URL."""
    st.session_state[state_key] = cfg
    st.session_state[state_key + "_url"] = cfg.to_mapping()
    set_query(cfg.to_mapping() if link is None else link)
