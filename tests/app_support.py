"""Helpers shared by the AppTest tests."""

import json

from streamlit.testing.v1 import AppTest


def animations(at: AppTest) -> dict[str, dict]:
    """The figure each animation chart shows, by chart key: the last one its elements carry
    (the chart element itself, then the figures pushed to it in the same run)."""
    out = {}
    for e in at.get("bidi_component"):
        if e.proto.component_name.startswith("featviz.animation_chart"):
            payload = json.loads(e.proto.bytes)
            out[payload["opts"]["key"]] = payload["figure"]
    return out
