"""featviz: the frame around every page (navigation, page config)."""

import streamlit as st

st.set_page_config(page_title="featviz · how gradient descent learns features", page_icon="🧭", layout="wide")

pages = [
    st.Page("pages/playground.py", title="Playground", icon=":material/tune:", default=True),
    st.Page("pages/lessons.py", title="Lessons", icon=":material/school:"),
    st.Page("pages/theory.py", title="Theory", icon=":material/function:"),
]
st.navigation(pages).run()
