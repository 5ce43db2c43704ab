"""Sweep: one or two parameters varied over a grid of runs, each cell summarised by its outcomes."""

import streamlit as st

from featviz import ui
from featviz.figures import OUTCOME_LABELS, SweepMap, sweep_figure
from featviz.ui import sweep as sw

ui.page_frame()

st.title("Sweep")
st.caption(
    "Where does each regime begin? Vary one or two parameters of a configuration over a grid of runs and "
    "colour each cell by an outcome. Cells train together, are cached like single runs, and open in the "
    "Playground when clicked. The link holds the whole sweep."
)

spec, messages = sw.spec_for_page(ui.query_mapping())
message_box = st.container()

side = st.sidebar
side.selectbox(
    "Preset",
    list(sw.PRESETS),
    index=None,
    key="sweep_preset",
    placeholder="a regime of the paper…",
    format_func=lambda slug: sw.PRESETS[slug].title,
    on_change=sw.on_preset,
)
run = side.button("Run sweep", type="primary", key="sweep_run", width="stretch")
side.text_input("Vary", key="sweep_x_text", help=sw.AXIS_HELP)
side.text_input("and (optional, for a heatmap)", key="sweep_y_text", help=sw.AXIS_HELP)
side.selectbox("Colour by", sw.COLORS, key="sweep_color", format_func=OUTCOME_LABELS.get)
with side.expander("Base configuration (from the Playground)"):
    ui.config_widgets(st, spec.base, prefix=sw.W_PREFIX)

spec, error = sw.spec_after_widgets(spec, run)
if error:
    st.error(error)
elif sw.edited(spec):
    side.info("Settings changed: press **Run sweep** to run them.")
for msg in messages if spec == st.session_state.get("sweep_linked") else []:
    message_box.warning(ui.md(msg))
ui.set_query(spec.link())
st.session_state["sweep_url"] = spec.link()

preset = sw.preset_of(spec)
if preset is not None:
    st.subheader(sw.PRESETS[preset].title)
    st.markdown(sw.PRESETS[preset].explanation)

grid, problem = sw.make_grid(spec)
if grid is None:
    st.error(problem)
    st.stop()
status = st.container()
result = sw.obtain_sweep(grid, area=status)
if result is None:
    st.stop()

sm = SweepMap.from_rows(result.rows, [a.name for a in grid.axes], [a.values for a in grid.axes])
sw.remember_labels(grid)
cells = grid.cells()
opened = st.session_state.pop("sweep_open", None)
if opened is not None:  # a click on a cell, or a cell chosen below
    st.switch_page("pages/playground.py", query_params=cells[opened].to_mapping())
st.caption(
    f"{len(result.rows)} cells: {result.cached} from the cache, {result.trained} trained, in {result.seconds:.1f} s."
)
st.plotly_chart(
    sweep_figure(sm, spec.color),
    theme=None,
    key="sweep_fig",
    on_select=sw.on_chart_select,
    selection_mode="points",
    config=ui.CHART_CONFIG,
)
st.selectbox(
    "Open a cell in the Playground",
    range(len(cells)),
    index=None,
    key="sweep_cell",
    placeholder="choose a cell…",
    format_func=lambda i: sw.cell_label(grid, i, result.rows[i], spec.color),
    on_change=sw.on_cell_choice,
)
with st.expander("Every cell's Playground link"):
    st.markdown(
        "\n".join(
            f"- [{ui.md(sw.cell_label(grid, i, row, spec.color))}]({sw.playground_link(cells[i])})"
            for i, row in enumerate(result.rows)
        )
    )
st.markdown("**Copy link** · reproduces this sweep (cached cells return at once):")
ui.copy_link(ui.link_for(spec.link()))
