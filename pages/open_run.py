"""Open a run: upload a .npz saved by the app or the CLI and see it with every view."""

import streamlit as st

from featviz import ui
from featviz.metrics import frame_summary
from featviz.upload import UploadError, max_upload_bytes

ui.page_frame()

st.title("Open a run")
st.caption(
    f"Upload a run (.npz, at most {max_upload_bytes() / 2**20:g} MB) saved by the app's **Download run** button or by "
    "`python -m featviz train --out`. The file is checked, never executed: numbers only, no pickled objects."
)

uploaded = st.file_uploader("Run file (.npz)", type=["npz"], key="open_file")
if uploaded is None:
    st.stop()
try:
    run, run_id = ui.uploaded_run(uploaded.getvalue())
except UploadError as e:
    st.error(ui.md(f"**{uploaded.name[:80]}** cannot be opened. {e}"), icon=":material/error:")
    st.stop()

if run.status != "ok":
    st.warning(ui.md(run.message))
st.markdown(
    f"**Result (last frame):** {frame_summary(run, run.n_frames - 1)} · {run.n_frames} frames up to step "
    f"{int(run.step[-1]):,}"
)
fig = ui.animation_figure(run, key=run_id)
st.plotly_chart(fig, theme=None, key="open_animation", config=ui.CHART_CONFIG)
link = ui.run_link(run)
st.page_link("pages/playground.py", label="Train it again in the Playground", icon=":material/tune:", query_params=link)
ui.run_downloads(run, fig, key="open", run_id=run_id)
