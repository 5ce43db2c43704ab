"""Lessons: presets that reproduce the paper's claims, each checked automatically on its run."""

import streamlit as st

from featviz import ui
from featviz.config import ConfigError, rejected
from featviz.lessons import BY_SLUG, LESSONS
from featviz.metrics import SMALL_INIT_NOTE, headline, how_to_read_markdown

ui.page_frame()

# The lesson list and the page's blurb sit in the sidebar: the main column opens with the lesson's
# claim, its check and the figure, so Play is on the first screen.
st.sidebar.caption(
    "Each lesson is a preset configuration with what you should see and a check computed from the run. "
    "Every lesson has its own link; “Open in the Playground” lets you change it."
)

# The lesson's title, claim and check sit tighter than Streamlit's spacing: the page's header is
# taller than the Playground's, and the neuron view's key stays on the first screen at 1400x1000.
_COMPACT_CSS = """<style>
.st-key-lesson_head { gap: 0.25rem; }
.st-key-lesson_head h2 { padding-top: 0; }
.st-key-lesson_check [data-testid='stAlertContainer'] { padding: 0.375rem 1rem; }
</style>"""

slugs = [lesson.slug for lesson in LESSONS]
asked = ui.query_mapping().get("lesson")
if asked is not None and asked not in BY_SLUG:
    st.warning(ui.md(rejected(ConfigError("lesson", "one of " + ", ".join(slugs), asked[:40]), "showing the first")))
    asked = slugs[0]
if asked is not None and st.session_state.get("lesson_url") != asked:
    st.session_state["lesson_pick"] = asked
    st.session_state["lesson_url"] = asked
st.session_state.setdefault("lesson_pick", slugs[0])

slug = st.sidebar.radio(
    "Lesson",
    slugs,
    key="lesson_pick",
    format_func=lambda s: ui.md(BY_SLUG[s].title),
)
st.session_state["lesson_url"] = slug
ui.set_query({"lesson": slug})
lesson = BY_SLUG[slug]

st.html(_COMPACT_CSS)
with st.container(key="lesson_head"):
    st.header(ui.md(lesson.title), anchor=False)
    st.markdown(f"**What you should see.** {ui.md(lesson.expect)}")

status = st.container()
check_col, switch_col = st.columns([4, 1], vertical_alignment="center")
check_box = check_col.container(key="lesson_check").empty()
with switch_col:
    present = ui.presentation_switch()
figure_slot = ui.AnimationView("lesson_animation", present=present)
run = ui.obtain_run(lesson.config, area=status, label="lesson", figure_slot=figure_slot)
if run is None:
    st.stop()
result = lesson.check(run)
if result.passed:
    check_box.success(f"**Check passed:** {ui.md(result.measured)}", icon=":material/check_circle:")
else:
    check_box.error(f"**Check failed:** {ui.md(result.measured)}", icon=":material/cancel:")
if run.status != "ok":
    status.error(ui.md(run.message))

figure_slot.show(ui.animation_figure(run))
st.markdown(f"**Last frame:** {headline(run, run.n_frames - 1)}")
if slug == "no-regularization":
    st.info(ui.md(SMALL_INIT_NOTE), icon=":material/info:")
with st.expander("About this lesson", expanded=False, icon=":material/school:"):
    st.markdown(ui.md(lesson.explanation))
    st.markdown(f"**Check.** {ui.md(lesson.criterion)}")
with st.expander("How to read this", icon=":material/help:"):
    st.markdown(how_to_read_markdown())
ui.video_downloads(run, key="lesson")
ui.theorem_panels(run, key=slug)

c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
with c1:
    st.markdown("**Link to this lesson:**")
    ui.copy_link(ui.link_for({"lesson": slug}))
with c2:
    st.page_link(
        "pages/playground.py",
        label="Open in the Playground",
        icon=":material/tune:",
        query_params=lesson.config.to_mapping(),
    )
