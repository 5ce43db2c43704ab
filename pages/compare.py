"""Compare: two configs that differ in chosen parameters, side by side under one frame slider."""

import streamlit as st

from featviz import ui
from featviz.config import PARAMS, Config, parse_lenient
from featviz.figures import compare_figure
from featviz.metrics import frame_summary

ui.page_frame()

B_PREFIX = "b."  # B's parameters in the link: b.lam=0.1 (only those that differ from A)
DEFAULT_A = Config(m=40, init=1.0, lam=0.0, epochs=8, steps=500, lr=0.05)
DEFAULT_B_DIFF = {"lam": "0.1"}

st.title("Compare")
st.caption(
    "Two runs that share everything but the parameters you choose, on one frame slider with the same axes. "
    "Default: no regularization (A) against weight decay (B), same seed and init. The link holds both."
)


def _from_url() -> tuple[Config, dict[str, str], list[str]]:
    url = ui.query_mapping()
    a_part = {k: v for k, v in url.items() if k in PARAMS}
    b_part = {k[len(B_PREFIX) :]: v for k, v in url.items() if k.startswith(B_PREFIX) and k[len(B_PREFIX) :] in PARAMS}
    if not a_part and not b_part:
        return DEFAULT_A, dict(DEFAULT_B_DIFF), []
    cfg_a, messages = parse_lenient(a_part)
    cfg_b, b_messages = parse_lenient(cfg_a.to_mapping() | b_part)
    messages += [f"B: {m}" for m in b_messages]
    diff = {k: v for k, v in cfg_b.to_mapping().items() if v != cfg_a.to_mapping()[k]}
    return cfg_a, diff, messages


def _link_mapping(cfg_a: Config, cfg_b: Config) -> dict[str, str]:
    a, b = cfg_a.to_mapping(), cfg_b.to_mapping()
    return a | {B_PREFIX + k: v for k, v in b.items() if v != a[k]}


url_now = ui.query_mapping()
# A new link (or the first visit) sets the pair; otherwise the session's pair is kept and put back in the URL.
if (url_now and url_now != st.session_state.get("cmp_url")) or "cmp_a" not in st.session_state:
    cfg_a, diff, messages = _from_url()
    cfg_b = Config.from_mapping(cfg_a.to_mapping() | diff)
    st.session_state["cmp_a"], st.session_state["cmp_b"] = cfg_a, cfg_b
    ui.load_widgets(cfg_a, prefix="ca_")
    ui.load_widgets(cfg_b, prefix="cb_")
    st.session_state["cmp_diff"] = list(diff)
    st.session_state["cmp_msgs"] = ((cfg_a, cfg_b), messages)
message_box = st.container()  # the link's messages, while its pair is shown

side = st.sidebar
train = side.button("Train both", type="primary", key="cmp_train", width="stretch")
side.multiselect(
    "Parameters that differ in B",
    [n for n in PARAMS if n not in ("frames",)],
    key="cmp_diff",
    format_func=lambda n: ui.LABELS[n],
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
    new_a, err_a = ui.config_from_widgets(cfg_a, prefix="ca_")
    new_b, err_b = (None, "") if new_a is None else ui.config_from_widgets(new_a, prefix="cb_", names=diff_names)
    if err_a or err_b:
        st.error(("A: " + err_a if err_a else "B: " + err_b) + " The last valid pair is still shown.")
    else:
        cfg_a, cfg_b = new_a, new_b
        st.session_state["cmp_a"], st.session_state["cmp_b"] = cfg_a, cfg_b
linked_pair, messages = st.session_state.get("cmp_msgs", (None, []))
for msg in messages if linked_pair == (cfg_a, cfg_b) else []:
    message_box.warning(ui.md(msg))
mapping = _link_mapping(cfg_a, cfg_b)
st.session_state["cmp_url"] = mapping
ui.set_query(mapping)

changed = {k: (cfg_a.to_mapping()[k], v) for k, v in cfg_b.to_mapping().items() if v != cfg_a.to_mapping()[k]}
label_a = "A: " + (", ".join(f"{k}={a}" for k, (a, _) in changed.items()) or "same as B")
label_b = "B: " + (", ".join(f"{k}={b}" for k, (_, b) in changed.items()) or "same as A")

col_a, col_b = st.columns(2)
ui.prefetch(cfg_b)  # both train at once
run_a = ui.obtain_run(cfg_a, area=col_a.container(), label="cmp_a")
run_b = ui.obtain_run(cfg_b, area=col_b.container(), label="cmp_b")
if run_a is None or run_b is None:
    st.stop()
for col, run, label in ((col_a, run_a, label_a), (col_b, run_b, label_b)):
    col.markdown(f"**{ui.md(label)}** — last frame: {frame_summary(run, run.n_frames - 1)}")
    if run.status != "ok":
        col.error(run.message)

st.plotly_chart(
    compare_figure(run_a, run_b, labels=(label_a, label_b)),
    theme=None,
    key="compare_fig",
    config=ui.CHART_CONFIG,
)
st.markdown("**Copy link** to this comparison:")
st.code(ui.link_for(mapping), language=None, wrap_lines=True)
