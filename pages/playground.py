"""Playground: set a teacher and a student, train, and watch the neurons find the teacher lines."""

import streamlit as st

from featviz import ui
from featviz.metrics import SMALL_INIT_NOTE, headline, how_to_read_markdown

ui.page_frame()

st.title("Playground")
st.caption(
    ui.md(
        "A teacher network with a few directions w*ᵢ generates the target; a wider student is trained by "
        "gradient descent on a weight-decay regularised loss. Zhou & Ge (NeurIPS 2024): every student neuron "
        "ends on a teacher line ±w*ᵢ or at zero. The figure opens on the result; ▶ Play replays the training."
    )
)

cfg, messages = ui.config_from_url()
linked = cfg
message_box = st.container()  # filled below, once it is known whether Train replaced the config

side = st.sidebar
with side:
    train = st.button("Train", type="primary", key="train", width="stretch")
    edited_box = st.empty()
    trails = st.toggle("Trails", key="trails", help="Every neuron's last few frames as a fading tail.")
ui.config_widgets(side, cfg)

if train:
    ui.train_clicked()
    new_cfg, error = ui.config_from_widgets(cfg)
    if error:
        st.error(error)
    else:
        cfg = new_cfg
spec = ui.fork_from_url(cfg, trained=train)  # cfg, or a fork of its run at a frame
ui.remember(cfg, link=spec.to_mapping())
for msg in messages if cfg == linked else []:
    message_box.warning(ui.md(msg))

pending, _ = ui.config_from_widgets(cfg)
if pending is not None and pending != cfg:
    edited_box.info("Settings changed: press **Train** to run them.")

ui.fork_banner(spec)
status = st.container()
# One row above the figure (the result and the presentation switch) keeps Play on the first screen.
result_col, switch_col = st.columns([4, 1], vertical_alignment="center")
result_line = result_col.empty()
with switch_col:
    present = ui.presentation_switch()
figure_slot = ui.AnimationView("animation", trails=trails, present=present)
run = ui.obtain_run(spec, area=status, figure_slot=figure_slot)
if run is None:
    st.stop()

if run.status != "ok":
    status.error(ui.md(run.message))

fig = ui.animation_figure(run)
result_line.markdown(
    f"**Result (last frame):** {headline(run, run.n_frames - 1)} · trained in {run.train_seconds:.2f} s"
)
figure_slot.show(fig)
if run.config.lam == 0:
    st.info(ui.md(SMALL_INIT_NOTE), icon=":material/info:")
with st.expander("How to read this", icon=":material/help:"):
    st.markdown(how_to_read_markdown())
n_shown = ui.shown(run).n_frames
if n_shown < run.n_frames:
    st.caption(
        f"The animation shows {n_shown} of the run's {run.n_frames} frames (first and last included) to keep "
        "the page light; the download holds all of them."
    )

ui.fork_expander(run, spec)
link = ui.link_for(spec.to_mapping())
st.markdown("**Copy link** · reproduces exactly this configuration and run:")
ui.copy_link(link)
st.page_link("pages/sweep.py", label="Sweep this config", icon=":material/grid_on:", query_params=cfg.to_mapping())
c2, c3, _ = st.columns([1, 1, 2])
with c2:
    st.download_button(
        "Download run (.npz)",
        data=run.to_npz_bytes,
        file_name=f"featviz-{cfg.key()[:10]}.npz",
        mime="application/octet-stream",
        key="dl_npz",
        on_click="ignore",
    )
with c3:
    from featviz.figures import figure_html

    st.download_button(
        "Download animation (.html)",
        data=lambda: figure_html(fig),
        file_name=f"featviz-{cfg.key()[:10]}.html",
        mime="text/html",
        key="dl_html",
        on_click="ignore",
    )
ui.video_downloads(run, key="pg")

ui.theorem_panels(run)
