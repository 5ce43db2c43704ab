"""An animation chart that stays mounted: new figures update it in place (Plotly.react), not rebuild it.

``st.plotly_chart`` gives a changed figure a new identity, so the browser throws the chart away
and builds a new one (3-D scene included). ``animation_chart`` is an ``st.components.v2``
element whose identity is its ``key`` alone: on a rerun with new data Streamlit calls the
element's JavaScript again with the same DOM node, which keeps its Plotly chart and calls
``Plotly.react`` with the new figure and its frames.

    chart = animation_chart(fig, key="animation")           # once per script run and key
    chart.update(partial_fig, live=True)                     # same run: pushed in place

- ``live=True`` shows the figure's last frame (the latest snapshot) and keeps zoom and camera.
- A click on a neuron (teacher-span or angle-vs-mass view) draws its path over all frames,
  with its fate, mass and angle in the hover text; a click on empty plot area clears it. This
  is drawn in the browser from the frames; ``on_neuron`` also reports it to Python.
- ``trails=True`` adds fading tails (the last few frames of every neuron) to the frames.

plotly.js comes from the app's own server, once per page: Streamlit's static file serving
(``server.enableStaticServing = true`` in .streamlit/config.toml) serves ``<app root>/static/``,
and the bundle in ``vendor/`` is copied there at first use (``static/featviz/``, not committed).
It is plotly.js PLOTLY_JS_VERSION (the version the plotly Python package writes figures for)
with only the traces these charts draw: scatter, bar, scatter3d; 1.8 MB against the full
bundle's 4.8 MB, which a new tab took three times as long to compile. devtools/plotly_bundle/
rebuilds it. No request leaves the app's server.

``static_chart`` draws a figure without frames with the same plotly.js: on a page with the
animation, st.plotly_chart would load Streamlit's own plotly.js bundle as well.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

_HERE = Path(__file__).resolve().parent
PLOTLY_JS_VERSION = "4.1.1"  # of vendor/plotly-featviz.min.js (devtools/plotly_bundle/build.sh)
PLOTLY_JS_BUNDLE = _HERE / "vendor" / "plotly-featviz.min.js"
BUNDLE_TRACES = ("scatter", "bar", "scatter3d")  # the trace types in it (devtools/plotly_bundle/index-featviz.js)


def _module(*names: str) -> str:
    """One ES module: these files of this folder, joined in order."""
    return "\n".join((_HERE / name).read_text(encoding="utf-8") for name in names)


# One ES module in four files, joined in this order: helpers, the presentation view's layout, the
# width report, then the Chart class and the module's default export.
JS_PARTS = ("base.js", "present.js", "width.js", "chart.js")
_JS = _module(*JS_PARTS)
_FEED_JS = _module("feed.js")
# A figure without frames, on the same plotly.js (base.js loads it once per page).
_STATIC_JS = _module("base.js", "static.js")
STATIC_SUBDIR = "featviz"  # under the app's static/ folder
TRAIL_FRAMES = 6  # frames in a trail
# The neuron traces a click can pick, by trace name (animation_figure's names).
PATH_TRACES = ("student neurons", "angle vs mass")
CHART_CONFIG = {"displaylogo": False, "responsive": True}
PRESENT_FONT_PX = 24  # smallest text of the presentation view (readable from the back of a room)
# The width the browser gives the chart, as it last reported it (session state): the pages build
# their figures for it. The chart reports it once, and again when it changes by more than
# WIDTH_STEP_PX (chart.js); a figure built for a width that close keeps its layout.
WIDTH_STATE = "featviz_chart_width"
WIDTH_RANGE = (480, 4000)  # px: a reported width outside is clamped (a hidden tab reports 0)
# The last width this browser reported, kept by the chart in a cookie (width.js): a new tab builds
# its first figure for it, before the chart has reported anything.
WIDTH_COOKIE = "featviz_chart_width"

# isolate_styles=False: plotly.js puts its styles (hover labels, modebar) in document.head,
# which a shadow root would not see.
_chart = st.components.v2.component("featviz.animation_chart", js=_JS, isolate_styles=False)
_feed = st.components.v2.component("featviz.animation_chart_feed", js=_FEED_JS, isolate_styles=False)
_static = st.components.v2.component("featviz.static_chart", js=_STATIC_JS, isolate_styles=False)


def plotly_js_file(app_root: Path) -> Path:
    """The plotly.js bundle under app_root/static/, copied there from vendor/ if missing."""
    src = PLOTLY_JS_BUNDLE
    dest = app_root / "static" / STATIC_SUBDIR / f"plotly-featviz-{PLOTLY_JS_VERSION}.min.js"
    if not dest.exists() or dest.stat().st_size != src.stat().st_size:
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Copy then rename: a concurrent request never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".tmp")
        os.close(fd)
        try:
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return dest


def _plotly_js_url() -> str:
    """URL path of plotly.js on the app's server (placed there on first call)."""
    from streamlit import config
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    if not config.get_option("server.enableStaticServing"):
        raise RuntimeError(
            "animation_chart needs server.enableStaticServing = true (.streamlit/config.toml): "
            "it serves plotly.js from the app's own static/ folder"
        )
    ctx = get_script_run_ctx()
    root = Path(ctx.main_script_path).resolve().parent if ctx else Path.cwd()
    dest = plotly_js_file(root)
    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    prefix = f"/{base}" if base else ""
    return f"{prefix}/app/static/{STATIC_SUBDIR}/{dest.name}"


def _plotly_js_version() -> str:
    """The version of the plotly.js bundle the app serves (the chart checks it once loaded)."""
    return PLOTLY_JS_VERSION


_JSON_CACHE: OrderedDict[int, tuple[Any, str]] = OrderedDict()  # id(figure) -> (figure, its JSON)
_JSON_CACHE_SIZE = 8


def _figure_json(figure: Any) -> str:
    """A figure as plotly JSON text (numpy arrays as base64 typed arrays, which plotly.js reads).

    The text of the last few Figure objects is kept (the object is held, so its id stays its
    own): a cached figure shown again costs no serialisation (0.4-0.8 s for 60 frames). A
    figure must not be changed after it was shown.
    """
    if isinstance(figure, str):
        return figure
    if hasattr(figure, "to_json"):
        hit = _JSON_CACHE.get(id(figure))
        if hit is not None and hit[0] is figure:
            _JSON_CACHE.move_to_end(id(figure))
            return hit[1]
        text = figure.to_json()
        _JSON_CACHE[id(figure)] = (figure, text)
        while len(_JSON_CACHE) > _JSON_CACHE_SIZE:
            _JSON_CACHE.popitem(last=False)
        return text
    if isinstance(figure, Mapping):
        import plotly.io as pio

        return pio.to_json(dict(figure), validate=False)
    raise TypeError(f"animation_chart takes a plotly Figure, a figure dict or its JSON, not {type(figure).__name__}")


def _payload(figure: Any, opts: dict) -> bytes:
    # Bytes, not a dict: the figure's JSON goes through unparsed and unescaped.
    return ('{"opts":' + json.dumps(opts) + ',"figure":' + _figure_json(figure) + "}").encode()


def _store_width(key: str) -> None:
    """on_width_change: keep the chart's reported width for the next figure."""
    state = st.session_state.get(key) or {}
    width = state.get("width") if hasattr(state, "get") else None
    if isinstance(width, int | float) and width > 0:
        st.session_state[WIDTH_STATE] = int(min(max(width, WIDTH_RANGE[0]), WIDTH_RANGE[1]))


def chart_width(default: int) -> int:
    """The width in px the browser gives the charts of this session.

    The width the chart reported in this session; before that, the last one this browser
    reported (its cookie), if it is a whole number of px in WIDTH_RANGE; else `default`.
    """
    if WIDTH_STATE in st.session_state:
        return int(st.session_state[WIDTH_STATE])
    return cookie_width(_cookies().get(WIDTH_COOKIE)) or int(default)


def _cookies() -> Mapping[str, str]:
    try:
        return st.context.cookies
    except Exception:  # no browser session (a bare script run)
        return {}


def cookie_width(text: str | None) -> int | None:
    """The width a cookie holds, or None if it holds no whole number of px within WIDTH_RANGE."""
    # ASCII digits only: str.isdigit also takes "²", which int() refuses.
    if not text or not (text.isascii() and text.isdigit()) or len(text) > 5:
        return None
    width = int(text)
    return width if WIDTH_RANGE[0] <= width <= WIDTH_RANGE[1] else None


def static_chart(figure: Any, *, key: str) -> None:
    """A plotly figure without frames, drawn with the app's own plotly.js (as the animation chart is).

    On a page with the animation chart, st.plotly_chart would load Streamlit's own plotly.js
    bundle as well (another 4.7 MB for the browser to compile while the animation loads).
    """
    opts = {"key": key, "plotly_url": _plotly_js_url(), "plotly_version": _plotly_js_version(), "config": CHART_CONFIG}
    text = figure.to_json()  # not through _figure_json's cache: these figures are new every run
    _static(key=key, data=_payload(text, opts), height="content")


def _pushed_key(key: str) -> str:
    return f"_featviz_chart_pushed_{key}"


@dataclass
class AnimationChart:
    """A mounted chart: ``update`` pushes another figure to it within the same script run."""

    key: str
    result: Any  # the component's result: .neuron is the last clicked neuron (with on_neuron)
    _opts: dict
    _slot: Any = None
    _seq: int = field(default=0)

    def update(
        self, figure: Any, *, live: bool | None = None, trails: bool | None = None, slot=None, patch: bool = False
    ) -> None:
        """Show `figure` in this chart now, without a rerun (for example a new snapshot while training).

        Streamlit allows one element per key and run, so the figure travels in a small keyless
        element (placed in `slot`, or in an st.empty made here at the first update) that hands it
        to the chart in the browser. patch=True: `figure` is {"traces": {name: data}, "label": text},
        the current state of a training run, put in place of the chart's last frame (a cheap live
        update between full figures).
        """
        if live is not None:
            self._opts["live"] = live
        if trails is not None:
            self._opts["trails"] = trails
        if slot is not None:
            self._slot = slot
        if self._slot is None:
            self._slot = st.empty()
        self._seq += 1
        opts = self._opts | {"seq": self._seq} | ({"patch": True} if patch else {})
        # The next run's animation_chart call must reach the browser even if its figure equals
        # the one this run mounted (the chart now shows a pushed one).
        st.session_state[_pushed_key(self.key)] = True
        with self._slot:
            _feed(data=_payload(figure, opts), height=0)


def animation_chart(
    figure: Any,
    *,
    key: str,
    live: bool = False,
    trails: bool = False,
    trail_frames: int = TRAIL_FRAMES,
    height: int | None = None,
    path_traces: tuple[str, ...] = PATH_TRACES,
    on_neuron: Callable[[], None] | None = None,
    present: bool = False,
    width: int | None = None,
) -> AnimationChart:
    """Mount (or update in place) the animation chart `key` showing `figure`.

    figure: a plotly Figure with frames (featviz.figures.animation_figure), a figure dict or
    its JSON. live: show the last frame, keep zoom and camera (a run still training).
    trails: draw every neuron's last `trail_frames` frames as fading tails. path_traces: names
    of the traces whose points a click follows over the frames. on_neuron: called on a click
    on a neuron; then ``result.neuron`` is {"neuron": index, "trace": name} (None on clear).
    width: the width in px the figure was built for; the browser reports the chart's own width
    (chart_width) when it differs by more than WIDTH_STEP_PX, which reruns the page.
    Call it once per key and script run; push further figures with the returned ``update``.
    """
    opts = dict(
        key=key,
        live=bool(live),
        trails=bool(trails),
        trail_frames=int(trail_frames),
        path_traces=list(path_traces),
        report_clicks=on_neuron is not None,
        plotly_url=_plotly_js_url(),
        plotly_version=_plotly_js_version(),
        config=CHART_CONFIG,
        present=bool(present),
        present_font=PRESENT_FONT_PX,
    )
    if height is not None:
        opts["height"] = int(height)
    if width is not None:
        opts["width"] = int(width)
    if st.session_state.pop(_pushed_key(key), False):
        opts["nonce"] = os.urandom(4).hex()
    callbacks = {"on_neuron_change": on_neuron} if on_neuron is not None else {}
    callbacks["on_width_change"] = lambda: _store_width(key)
    result = _chart(key=key, data=_payload(figure, opts), height="content", **callbacks)
    return AnimationChart(key=key, result=result, _opts=opts)
