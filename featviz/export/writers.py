"""The export's files: every frame rendered, then written as a GIF (Pillow) or an MP4 (ffmpeg)."""

from __future__ import annotations

import os
import tempfile

import numpy as np

from featviz.export.options import DEFAULT_FPS, DEFAULT_SIZE, check_format, check_fps, check_size
from featviz.export.render import FrameRenderer


def write_gif(run, path, *, size: tuple[int, int] = DEFAULT_SIZE, fps: int = DEFAULT_FPS) -> None:
    """An animated GIF that loops. GIF stores delays in 1/100 s, so the fps is rounded to that."""
    from PIL import Image

    fps = check_fps(fps)
    renderer = FrameRenderer(run, size)
    images = list(renderer.frames())
    # One adaptive palette for all frames (no flicker between frames), chosen from the first,
    # middle and last frames side by side; the frames are mapped to it without dithering
    # (flat colours: dithering would only add noise and bytes).
    picks = sorted({0, len(images) // 2, len(images) - 1})
    w, h = images[0].size
    strip = Image.new("RGB", (w * len(picks), h))
    for j, p in enumerate(picks):
        strip.paste(images[p], (j * w, 0))
    palette = strip.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    white = _pure_white(palette)
    frames = [_white_kept(im.quantize(palette=palette, dither=Image.Dither.NONE), im, white) for im in images]
    frames[0].save(
        path,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=round(1000 / fps),
        loop=0,
        optimize=False,
        disposal=1,
    )


def _pure_white(palette) -> int:
    """Make the palette entry nearest to white pure white and return its index (median cut
    can average the background with the light antialiased pixels around it)."""
    rgb = np.array(palette.getpalette()[: 3 * 256], dtype=np.int64).reshape(-1, 3)
    white = int(np.argmin(((255 - rgb) ** 2).sum(axis=1)))
    rgb[white] = 255
    palette.putpalette(rgb.astype(np.uint8).ravel().tolist())
    return white


def _white_kept(frame, rgb_image, white: int):
    """frame (mode P) with every pure white pixel of rgb_image on the palette's white entry:
    Pillow's palette lookup is approximate (a coarse colour cache) and maps white to a
    light grey neighbour otherwise."""
    from PIL import Image

    index = np.array(frame)
    index[(np.asarray(rgb_image) == 255).all(axis=2)] = white
    out = Image.fromarray(index)  # mode L; a palette makes it P
    out.putpalette(frame.getpalette())
    return out


def write_mp4(run, path, *, size: tuple[int, int] = DEFAULT_SIZE, fps: int = DEFAULT_FPS) -> None:
    """An H.264 MP4 (yuv420p, plays in browsers and slide software), frames piped raw to ffmpeg."""
    import imageio_ffmpeg

    fps = check_fps(fps)
    renderer = FrameRenderer(run, size)
    w, h = renderer.size
    writer = imageio_ffmpeg.write_frames(
        os.fspath(path),
        (w, h),
        fps=fps,
        codec="libx264",
        pix_fmt_in="rgb24",
        pix_fmt_out="yuv420p",
        quality=7,
        macro_block_size=2,
        ffmpeg_log_level="error",
        output_params=["-movflags", "+faststart", "-preset", "veryfast", "-tune", "animation"],
    )
    writer.send(None)  # start ffmpeg
    try:
        for image in renderer.frames():
            writer.send(image.tobytes())
    finally:
        writer.close()


def export(run, path, *, fmt: str, size: tuple[int, int] = DEFAULT_SIZE, fps: int = DEFAULT_FPS) -> None:
    """Write the animation of `run` to `path` as fmt ('gif' or 'mp4')."""
    writer = {"gif": write_gif, "mp4": write_mp4}[check_format(fmt)]
    writer(run, path, size=check_size(size), fps=check_fps(fps))


def export_bytes(run, *, fmt: str, size: tuple[int, int] = DEFAULT_SIZE, fps: int = DEFAULT_FPS) -> bytes:
    """The exported file as bytes (for a download button); ffmpeg needs a real file, so a temporary one."""
    with tempfile.TemporaryDirectory(prefix="featviz-export-") as tmp:
        path = os.path.join(tmp, f"run.{check_format(fmt)}")
        export(run, path, fmt=fmt, size=size, fps=fps)
        with open(path, "rb") as f:
            return f.read()
