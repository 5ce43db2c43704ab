"""The neuron animation as a GIF or an MP4 for slides, drawn on the server with matplotlib (no browser).

One matplotlib figure (Agg) is built per export and its artists are updated frame by frame;
each frame is read back as RGB pixels. GIF frames share one adaptive palette (Pillow); MP4
frames are piped raw to the ffmpeg binary that the ``imageio-ffmpeg`` wheel carries, so
nothing is downloaded at run time. ``options``: what may be asked for and its checks;
``render``: the picture of a frame; ``writers``: the files.
"""

from featviz.export.options import (
    DEFAULT_FPS,
    DEFAULT_SIZE,
    FORMATS,
    FPS_RANGE,
    SIZE_RANGE,
    SIZES,
    ExportError,
    check_format,
    check_fps,
    check_size,
    parse_size,
)
from featviz.export.render import CAPTION_PT, ExportView, FrameRenderer, frame_caption
from featviz.export.writers import export, export_bytes, write_gif, write_mp4

__all__ = [
    "CAPTION_PT",
    "DEFAULT_FPS",
    "DEFAULT_SIZE",
    "FORMATS",
    "FPS_RANGE",
    "SIZES",
    "SIZE_RANGE",
    "ExportError",
    "ExportView",
    "FrameRenderer",
    "check_format",
    "check_fps",
    "check_size",
    "export",
    "export_bytes",
    "frame_caption",
    "parse_size",
    "write_gif",
    "write_mp4",
]
