"""Markdown escaping: text shown literally, whatever its characters."""

from __future__ import annotations


def md(text: str) -> str:
    """Text shown as Markdown literally: w*_i must not open italics, user text must not make links."""
    for ch in "*[]<>$":
        text = text.replace(ch, "\\" + ch)
    return text
