"""What an export may ask for: the formats, sizes and frame rates, checked with one error type."""

from __future__ import annotations

import re

FORMATS = ("gif", "mp4")
SIZES = ((1280, 720), (1920, 1080))  # the sizes offered; any W x H in SIZE_RANGE is accepted
SIZE_RANGE = ((320, 3840), (180, 2160))  # (min, max) width, (min, max) height in pixels
FPS_RANGE = (1, 60)
DEFAULT_SIZE = (1280, 720)
DEFAULT_FPS = 10


class ExportError(ValueError):
    """An export option out of range; ``option`` names it (``size``, ``fps``, ``format``)."""

    def __init__(self, option: str, message: str):
        self.option = option
        super().__init__(message)


def parse_size(text: str) -> tuple[int, int]:
    """'1280x720' -> (1280, 720); raises ExportError naming the allowed range."""
    (wlo, whi), (hlo, hi) = SIZE_RANGE
    allowed = f"WIDTHxHEIGHT with width in [{wlo}, {whi}] and height in [{hlo}, {hi}], e.g. 1280x720 or 1920x1080"
    m = re.fullmatch(r"\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*", str(text))
    if not m:
        raise ExportError("size", f"must be {allowed} (got {text!r})")
    return check_size((int(m.group(1)), int(m.group(2))))


def check_size(size: tuple[int, int]) -> tuple[int, int]:
    (wlo, whi), (hlo, hi) = SIZE_RANGE
    w, h = size
    if not (wlo <= w <= whi and hlo <= h <= hi):
        raise ExportError("size", f"must have width in [{wlo}, {whi}] and height in [{hlo}, {hi}] pixels (got {w}x{h})")
    if w % 2 or h % 2:  # H.264 with 4:2:0 chroma needs even sides
        raise ExportError("size", f"must have an even width and height (got {w}x{h})")
    return int(w), int(h)


def check_fps(fps) -> int:
    lo, hi = FPS_RANGE
    if isinstance(fps, bool) or not isinstance(fps, int | float) or fps != int(fps) or not lo <= fps <= hi:
        raise ExportError("fps", f"must be an integer in [{lo}, {hi}] frames per second (got {fps!r})")
    return int(fps)


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ExportError("format", f"must be one of {', '.join(FORMATS)} (got {fmt!r})")
    return fmt
