"""Compare: two configs that differ in chosen parameters, side by side under one frame slider."""

import streamlit as st

from featviz import ui
from featviz.config import PARAMS
from featviz.figures import compare_figure, compare_labels
from featviz.metrics import headline, how_to_read_markdown
from featviz.page_links import differing, pair_from_link, pair_link

ui.page_frame()

st.title("Compare")
st.sidebar.caption(  # in the sidebar: the figure's Play stays on the first screen
    "Two runs that share everything but the parameters you choose, on one frame slider with the same axes. "
    "Default: no regularization (A) against weight decay (B), same seed and init. The link holds both."
)

url_now = ui.query_mapping()
# A new link (or the first visit) sets the pair; otherwise the session's pair is kept and put back in the URL.
if (url_now and url_now != st.session_state.get("cmp_url")) or "cmp_a" not in st.session_state:
    cfg_a, cfg_b, messages = pair_from_link(url_now)
    st.session_state["cmp_a"], st.session_state["cmp_b"] = cfg_a, cfg_b
    ui.load_widgets(cfg_a, prefix="ca_")
    ui.load_widgets(cfg_b, prefix="cb_")
    st.session_state["cmp_diff"] = list(differing(cfg_a, cfg_b))
    st.session_state["cmp_msgs"] = ((cfg_a, cfg_b), messages)
message_box = st.container()  # the link's messages, while its pair is shown

side = st.sidebar
train = side.button("Train both", type="primary", key="cmp_train", width="stretch")
edited_box = side.empty()
side.multiselect(
    "Parameters that differ in B",
    [n for n in PARAMS if n not in ("frames",)],
    key="cmp_diff",
    format_func=lambda n: PARAMS[n].label,
)
diff_names = st.session_state["cmp_diff"]
if diff_names:
    side.markdown("**B differs in**")
    ui.config_widgets(side, st.session_state["cmp_b"], prefix="cb_", names=diff_names, grouped=False)
side.markdown("---")
side.markdown("**A (and everything B shares)**")
ui.config_widgets(side, st.session_state["cmp_a"], prefix="ca_")

cfg_a, cfg_b = st.session_state["cmp_a"], st.session_state["cmp_b"]
if train:
    ui.train_clicked("cmp_a")
    ui.train_clicked("cmp_b")
    kept = "the last valid pair is still shown"
    new_a, err_a = ui.config_from_widgets(cfg_a, prefix="ca_", outcome=kept)
    new_b, err_b = (None, "") if new_a is None else ui.config_from_widgets(new_a, "cb_", diff_names, outcome=kept)
    if err_a or err_b:
        st.error("A: " + err_a if err_a else "B: " + err_b)
    else:
        cfg_a, cfg_b = new_a, new_b
        st.session_state["cmp_a"], st.session_state["cmp_b"] = cfg_a, cfg_b
linked_pair, messages = st.session_state.get("cmp_msgs", (None, []))
for msg in messages if linked_pair == (cfg_a, cfg_b) else []:
    message_box.warning(ui.md(msg))
mapping = pair_link(cfg_a, cfg_b)
st.session_state["cmp_url"] = mapping
ui.set_query(mapping)

pending_a, _ = ui.config_from_widgets(cfg_a, prefix="ca_")
pending_b = None if pending_a is None else ui.config_from_widgets(pending_a, "cb_", diff_names)[0]
if (pending_a, pending_b) != (cfg_a, cfg_b):
    edited_box.info("Settings changed: press **Train both** to run them.")

label_a, label_b = compare_labels(cfg_a, cfg_b)

col_a, col_b = st.columns(2)
view = ui.AnimationView("compare_animation")


def comparison(run_a, run_b):
    return compare_figure(run_a, run_b, labels=(label_a, label_b), width_hint=ui.chart_width())


# Both train at once; while they do, the chart shows both runs so far on its one slider.
run_a, run_b = ui.obtain_pair(
    (cfg_a, cfg_b),
    areas=(col_a.container(), col_b.container()),
    labels=("cmp_a", "cmp_b"),
    figure_slot=view,
    live_figure=comparison,
)
if run_a is None or run_b is None:
    st.stop()
for col, run, label in ((col_a, run_a, label_a), (col_b, run_b, label_b)):
    col.markdown(f"**{ui.md(label)}** — {headline(run, run.n_frames - 1)}")
    if run.status != "ok":
        col.error(ui.md(run.message))

view.show(comparison(run_a, run_b))
with st.expander("How to read this", icon=":material/help:"):
    st.markdown(how_to_read_markdown())
st.markdown("**Copy link** to this comparison:")
ui.copy_link(ui.link_for(mapping))
