"""The frame around every page (page config, navigation) and the one work-around for direct links."""

from __future__ import annotations

import os
import threading

import streamlit as st

_FRAME = threading.local()
PAGES = (
    ("pages/playground.py", "Playground", ":material/tune:"),
    ("pages/lessons.py", "Lessons", ":material/school:"),
    ("pages/theory.py", "Theory", ":material/function:"),
    ("pages/compare.py", "Compare", ":material/compare:"),
    ("pages/sweep.py", "Sweep", ":material/grid_on:"),
    ("pages/open_run.py", "Open a run", ":material/upload_file:"),
)


# Streamlit leaves 6rem above a page's title; 3rem clears its header, and the 48 px gained keep
# the animation's Play and key on the first screen.
_TOP_CSS = "<style>[data-testid='stMainBlockContainer'] { padding-top: 3rem; }</style>"


def frame():
    """The frame around every page: page config and navigation. Returns the page to run."""
    _FRAME.ran = True
    st.set_page_config(page_title="featviz · how gradient descent learns features", page_icon="🧭", layout="wide")
    st.html(_TOP_CSS)
    pages = [st.Page(path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in enumerate(PAGES)]
    return st.navigation(pages)


def page_frame() -> None:
    """Make sure a page runs inside the frame.

    With a pages/ folder next to app.py, Streamlit starts in its legacy multipage mode until
    st.navigation runs once, and in that mode a link straight to a page runs the page without
    app.py (no navigation, no page config). Leave that mode and rerun through app.py.
    Streamlit 1.67 has no setting for this (client.showSidebarNavigation only hides the legacy
    sidebar); tests/test_app.py fails if a Streamlit upgrade changes the behaviour worked around.
    streamlit.testing's AppTest restores the legacy mode before every run and always runs the
    page directly; its tests set FEATVIZ_APPTEST=1 so the page simply runs.
    """
    ran, _FRAME.ran = getattr(_FRAME, "ran", False), False
    if not ran and os.environ.get("FEATVIZ_APPTEST") != "1":
        leave_legacy_multipage_mode()
        st.rerun()


def leave_legacy_multipage_mode() -> None:
    """From now on this server runs app.py (and its st.navigation) for every page."""
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
