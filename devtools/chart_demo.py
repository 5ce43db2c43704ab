"""Throwaway page for featviz.chart: switch configs, stream a run live, trails, a click's path.

    streamlit run devtools/chart_demo.py            # the animation chart
    streamlit run devtools/chart_demo.py -- floor   # the floor: st.plotly_chart, same figures

Query parameters: ?cfg=a|b picks the config, ?live=1 streams config b's frames into the
chart as if it were training (one snapshot every `interval` s), ?trails=1.
"""

from __future__ import annotations

import sys
import time

import streamlit as st

from featviz import figures
from featviz.chart import animation_chart
from featviz.config import Config
from featviz.engine import train

CONFIGS = {
    "a": Config(d=10, k=3, m=30, epochs=3, steps=200),  # 3-D teacher span
    # 2-D view
    "b": Config(d=6, k=2, m=20, teachers="planar", angles=(0.0, 70.0), a_star=(1.0, 1.0), epochs=3, steps=200),
}


@st.cache_resource
def run_of(name: str):
    return train(CONFIGS[name])


@st.cache_resource
def figure_of(name: str):
    return figures.animation_figure(run_of(name))


def main() -> None:
    st.set_page_config(page_title="chart demo", layout="wide")
    qp = st.query_params
    floor = "floor" in sys.argv[1:]
    name = st.radio("config", list(CONFIGS), index=list(CONFIGS).index(qp.get("cfg", "a")), horizontal=True, key="cfg")
    trails = st.toggle("trails", value=qp.get("trails") == "1", key="trails")
    live = st.button("stream run b live", key="live") or qp.get("live") == "1"
    interval = float(qp.get("interval", "0.3"))
    if floor:
        st.plotly_chart(figure_of(name), theme=None, key=f"floor_{name}")
        return
    if not live:
        animation_chart(figure_of(name), key="animation", trails=trails, on_neuron=lambda: None)
        return
    # Live: the chart mounts with the first snapshot; each later snapshot is pushed in place.
    run = run_of("b")
    status = st.empty()
    chart = None
    for n in range(1, run.n_frames + 1):
        fig = figures.animation_figure(run.frames_subset(list(range(n))))
        if chart is None:
            chart = animation_chart(fig, key="animation", live=True, trails=trails)
        else:
            chart.update(fig)
        status.write(f"live: snapshot {n} of {run.n_frames}")
        time.sleep(interval)
    chart.update(figure_of("b"), live=False)
    status.write("live: done")


if __name__ == "__main__":  # streamlit runs the script as __main__; tests import CONFIGS
    main()
