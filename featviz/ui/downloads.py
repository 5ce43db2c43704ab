"""Downloads of a run: the .npz and the interactive .html, and the animation as GIF or MP4 for slides.

A GIF or an MP4 takes seconds to render, so it is made on demand: "Make GIF" renders it (once
per run, format, size and fps, kept by st.cache_data for every session), then a download
button hands out the bytes.
"""

from __future__ import annotations

import streamlit as st

from featviz.export import DEFAULT_FPS, FPS_RANGE, SIZES, export_bytes
from featviz.run import Run
from featviz.ui.runs import run_key

SIZE_LABELS = {f"{w}×{h}": (w, h) for w, h in SIZES}
MIME = {"gif": "image/gif", "mp4": "video/mp4"}


@st.cache_data(max_entries=8, show_spinner=False)
def _video(key: str, fmt: str, size: tuple[int, int], fps: int, _run: Run) -> bytes:
    """The exported file, made once per (run key, format, size, fps); the run itself is not hashed."""
    return export_bytes(_run, fmt=fmt, size=size, fps=fps)


def video_downloads(run: Run, *, key: str, run_id: str | None = None) -> None:
    """Size and fps choosers, "Make GIF"/"Make MP4", then the download buttons of what was made.

    key: the prefix of the widgets' keys (one per page); run_id: what the run is, for the
    cache (default run_key(run); an uploaded file passes the hash of its bytes).
    """
    run_id = run_id or run_key(run)
    st.markdown("**Animation for slides** · GIF or MP4, rendered on the server in a few seconds:")
    c_size, c_fps, c_gif, c_mp4 = st.columns([1, 1, 1, 1], vertical_alignment="bottom")
    label = c_size.selectbox("Size", list(SIZE_LABELS), key=f"{key}_video_size")
    fps = c_fps.number_input(
        "Frames per second",
        min_value=FPS_RANGE[0],
        max_value=FPS_RANGE[1],
        value=DEFAULT_FPS,
        step=1,
        key=f"{key}_video_fps",
    )
    for fmt, col in (("gif", c_gif), ("mp4", c_mp4)):
        wanted = (run_id, fmt, SIZE_LABELS[label], int(fps))
        made_key = f"{key}_{fmt}_made"
        with col:
            if st.session_state.get(made_key) != wanted and st.button(f"Make {fmt.upper()}", key=f"{key}_make_{fmt}"):
                with st.spinner(f"Rendering the {fmt.upper()}…"):
                    _video(*wanted, run)
                st.session_state[made_key] = wanted
            if st.session_state.get(made_key) == wanted:
                w, h = wanted[2]
                st.download_button(
                    f"Download {fmt.upper()}",
                    data=_video(*wanted, run),
                    file_name=f"featviz-{run_id[:10]}-{w}x{h}-{wanted[3]}fps.{fmt}",
                    mime=MIME[fmt],
                    key=f"{key}_dl_{fmt}",
                    on_click="ignore",
                    icon=":material/download:",
                )


def run_downloads(run: Run, fig, *, key: str, run_id: str | None = None) -> None:
    """The .npz and .html downloads of a run and its animation figure, then video_downloads."""
    from featviz.figures import figure_html

    run_id = run_id or run_key(run)
    c_npz, c_html, _ = st.columns([1, 1, 2])
    c_npz.download_button(
        "Download run (.npz)",
        data=run.to_npz_bytes,
        file_name=f"featviz-{run_id[:10]}.npz",
        mime="application/octet-stream",
        key=f"{key}_dl_npz",
        on_click="ignore",
    )
    c_html.download_button(
        "Download animation (.html)",
        data=lambda: figure_html(fig),
        file_name=f"featviz-{run_id[:10]}.html",
        mime="text/html",
        key=f"{key}_dl_html",
        on_click="ignore",
    )
    video_downloads(run, key=key, run_id=run_id)
