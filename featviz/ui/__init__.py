"""The Streamlit layer: the only package (with the pages) that imports streamlit.

Pages import this package and use the names below; each module does one job:
``frame`` (navigation and the multipage work-around), ``runs`` (the shared job manager and the
run figure cache), ``links`` (query parameters <-> config), ``widgets`` (config widgets),
``progress`` (training with a progress bar: ``obtain_run``; ``obtain_pair`` for two runs at
once), ``view`` (the page's animation chart, live while training, and the presentation view),
``text`` (Markdown escaping), ``theorem`` (the section "The theorem, measured" under a run: ``theorem_panels``),
``downloads`` (.npz, .html, GIF and MP4 downloads), ``forking`` (forks of a run at a frame).
"""

from featviz.ui.downloads import run_downloads, video_downloads
from featviz.ui.forking import fork_banner, fork_expander, fork_from_url
from featviz.ui.frame import PAGES, frame, page_frame
from featviz.ui.links import config_from_url, copy_link, link_for, query_mapping, remember, set_query
from featviz.ui.progress import (
    CANCELLED_NOTE,
    LOADING_NOTE,
    TRAINING_NOTE,
    obtain_pair,
    obtain_run,
    prefetch,
    train_clicked,
)
from featviz.ui.runs import (
    CHART_CONFIG,
    MAX_SHOWN_POINTS,
    WIDTH_HINT,
    animation_figure,
    chart_width,
    manager,
    run_key,
    run_link,
    shown,
    uploaded_run,
)
from featviz.ui.text import md
from featviz.ui.theorem import teachers_certificate, theorem_panels
from featviz.ui.view import AnimationView, presentation_switch
from featviz.ui.widgets import config_from_widgets, config_widgets, load_widgets, widget_values

__all__ = [
    "CANCELLED_NOTE",
    "CHART_CONFIG",
    "LOADING_NOTE",
    "MAX_SHOWN_POINTS",
    "PAGES",
    "TRAINING_NOTE",
    "WIDTH_HINT",
    "AnimationView",
    "animation_figure",
    "chart_width",
    "config_from_url",
    "config_from_widgets",
    "config_widgets",
    "copy_link",
    "fork_banner",
    "fork_expander",
    "fork_from_url",
    "frame",
    "link_for",
    "load_widgets",
    "manager",
    "md",
    "obtain_pair",
    "obtain_run",
    "page_frame",
    "prefetch",
    "presentation_switch",
    "query_mapping",
    "remember",
    "run_downloads",
    "run_key",
    "run_link",
    "set_query",
    "shown",
    "teachers_certificate",
    "theorem_panels",
    "train_clicked",
    "uploaded_run",
    "video_downloads",
    "widget_values",
]
