"""The floor for bench/bench_app.py: a minimal Streamlit page showing the same animation with st.plotly_chart.

    streamlit run bench/floor_app.py      # ?m=30 (the default config) or ?m=20, a radio switches

Both runs and figures are cached in the server (st.cache_resource), so a switch costs what
Streamlit and plotly.js cost to show a changed figure, and nothing else.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from featviz import figures
from featviz.config import Config
from featviz.engine import train

CONFIGS = {"30": Config(), "20": Config(m=20)}


@st.cache_resource
def figure_of(m: str):
    return figures.animation_figure(train(CONFIGS[m]))


st.set_page_config(page_title="floor", layout="wide")
st.session_state.setdefault("m", st.query_params.get("m", "30"))
m = st.radio("m", list(CONFIGS), key="m", horizontal=True)
st.markdown(f"**Result (last frame):** m={m}")
st.plotly_chart(figure_of(m), theme=None, key=f"floor_{m}", config={"displaylogo": False})
