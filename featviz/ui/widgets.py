"""Config widgets, one per parameter, built from its declaration (featviz.params) by kind."""

from __future__ import annotations

from types import SimpleNamespace

import streamlit as st

from featviz.config import GROUPS, PARAMS, Config, ConfigError, Param, encode_value, rejected
from featviz.ui.text import md


def _wkey(name: str, prefix: str = "w_") -> str:
    return f"{prefix}{name}"


def load_widgets(cfg: Config, prefix: str = "w_") -> None:
    """Put cfg's values into the widgets' session state."""
    for name in PARAMS:
        st.session_state.pop(_wkey(name, prefix), None)
    _fill_widgets(cfg, prefix)


def _fill_widgets(cfg: Config, prefix: str) -> None:
    """Widgets without a state get cfg's value; the others keep theirs, set again so that the
    browser is sent it. (Under load the browser dropped the state of widgets a cut-short run had
    not drawn while the server kept it: the sidebar then showed every number at its minimum and
    a* empty, beside the right figure, and Train would have trained that.)"""
    mapping = cfg.to_mapping()
    for name, p in PARAMS.items():
        key = _wkey(name, prefix)
        value = st.session_state.get(key)
        if value is None:
            value = mapping[name] if p.kind == "floats" else getattr(cfg, name)
        st.session_state[key] = value


def _on_k_change(prefix: str) -> None:
    """Resize the per-teacher lists (a*, the planar angles) to k (Param.follow_k): typed values kept."""
    k = st.session_state[_wkey("k", prefix)]
    for p in PARAMS.values():
        if p.per_teacher is None:
            continue
        key = _wkey(p.name, prefix)
        parts = [t for t in str(st.session_state.get(key, "")).split(",") if t.strip()]
        if len(parts) == k:
            continue
        try:
            values = tuple(float(t) for t in parts)
        except ValueError:  # text that is no list of numbers: left for validation to name, resized as text
            st.session_state[key] = ",".join(parts[:k] + [f"{x:g}" for x in p.per_teacher(k)[len(parts) : k]])
            continue
        st.session_state[key] = encode_value(p.follow_k(values, k))


def widget_values(prefix: str = "w_") -> dict:
    return {name: st.session_state.get(_wkey(name, prefix)) for name in PARAMS}


def _choice(container, p: Param, key: str, help_text: str, prefix: str) -> None:
    container.selectbox(p.label, p.choices, key=key, help=help_text)


def _numbers(container, p: Param, key: str, help_text: str, prefix: str) -> None:
    container.text_input(p.label, key=key, help=help_text)


def _int(container, p: Param, key: str, help_text: str, prefix: str) -> None:
    resizes = p.name == "k"  # the per-teacher lists follow k
    container.number_input(
        p.label,
        min_value=int(p.lo),
        max_value=int(p.hi),
        step=1,
        key=key,
        help=help_text,
        on_change=_on_k_change if resizes else None,
        args=(prefix,) if resizes else None,
    )


def _float(container, p: Param, key: str, help_text: str, prefix: str) -> None:
    container.number_input(
        p.label,
        min_value=float(p.lo),
        max_value=float(p.hi),
        step=p.step if p.step is not None else 0.1,
        format="%g",
        key=key,
        help=help_text,
    )


WIDGETS = {"choice": _choice, "floats": _numbers, "int": _int, "float": _float}  # kind -> widget


def config_widgets(container, cfg: Config, prefix: str = "w_", names=None, *, grouped: bool = True) -> None:
    """Config parameters as widgets (all, or `names`), grouped, with their ranges in the help text.

    With all parameters, a parameter is drawn only where it matters for the values now in the
    widgets (Param.when). Streamlit forgets a widget's state when a run ends without drawing it
    (another page, a run cut short while several users train); such a widget is put back at
    cfg's value, never at its minimum.
    """
    _fill_widgets(cfg, prefix)
    current = SimpleNamespace(**widget_values(prefix))
    drawn = list(PARAMS) if names is None else [n for n in PARAMS if n in names]
    for group, title in GROUPS.items():
        in_group = [PARAMS[n] for n in drawn if PARAMS[n].group == group]
        if grouped and in_group:
            container.markdown(f"**{title}**")
        for p in in_group:
            if names is None and not p.matters(current):
                continue
            WIDGETS[p.kind](container, p, _wkey(p.name, prefix), f"{p.help}  \nAllowed: {p.allowed}.", prefix)


def config_from_widgets(
    fallback: Config, prefix: str = "w_", names=None, *, outcome: str = "the last valid configuration is still shown"
) -> tuple[Config | None, str]:
    """(config, '') from the widgets (all, or only `names` over `fallback`), or (None, message).

    The message is Markdown-safe (st.error renders Markdown): a typed '2*3' or the allowed range's
    '|a*_i|' shows literally.
    """
    values = widget_values(prefix)
    mapping = fallback.to_mapping()
    for name in PARAMS if names is None else names:
        v = values[name]
        if v is not None:
            mapping[name] = v if isinstance(v, str) else encode_value(v)
    try:
        return Config.from_mapping(mapping), ""
    except ConfigError as e:
        return None, md(rejected(e, outcome))
