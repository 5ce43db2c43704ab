"""featviz.export: GIF and MP4 files of a small run decode with the right frames, size and timing."""

import re
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from featviz import cli
from featviz.config import Config
from featviz.engine import train
from featviz.export import CAPTION_PT, ExportError, FrameRenderer, check_fps, export, parse_size
from featviz.figures import TEACHER_COLORS

SIZE = (640, 360)


@pytest.fixture(scope="module")
def run():
    return train(Config().replace(d=4, k=2, m=8, epochs=3, steps=100, frames=7))


def _rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])


def _has_color(pixels: np.ndarray, hex_color: str, *, tol: int = 6, min_count: int = 30) -> bool:
    close = np.abs(pixels[..., :3].astype(int) - _rgb(hex_color)).max(-1) <= tol
    return int(close.sum()) >= min_count


def test_gif_frames_size_timing_and_colours(run, tmp_path):
    path = tmp_path / "run.gif"
    export(run, path, fmt="gif", size=SIZE, fps=5)
    with Image.open(path) as im:
        assert im.size == SIZE
        assert im.n_frames == run.n_frames
        assert im.info["duration"] == 200
        im.seek(run.n_frames - 1)
        last = np.asarray(im.convert("RGB"))
    for t in range(run.config.k):  # teacher lines and aligned neurons in the teacher's colour
        assert _has_color(last, TEACHER_COLORS[t])


def test_gif_background_is_pure_white(run, tmp_path):
    path = tmp_path / "run.gif"
    export(run, path, fmt="gif", size=SIZE, fps=5)
    with Image.open(path) as im:
        for i in (0, run.n_frames - 1):
            im.seek(i)
            rgb = np.asarray(im.convert("RGB"))
            for y, x in ((1, 1), (SIZE[1] - 2, SIZE[0] - 2), (1, SIZE[0] // 2)):  # corners and top edge
                assert tuple(rgb[y, x]) == (255, 255, 255)


def test_mp4_frames_size_and_fps(run, tmp_path):
    path = tmp_path / "run.mp4"
    export(run, path, fmt="mp4", size=SIZE, fps=12)
    # Decoded by the same ffmpeg (imageio_ffmpeg.read_frames leaves a pipe open on exit).
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    cmd = [ffmpeg, "-v", "info", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    proc = subprocess.run(cmd, capture_output=True, timeout=60, check=True)
    assert re.search(rf"\b{SIZE[0]}x{SIZE[1]}\b.* 12 fps", proc.stderr.decode())
    frames = np.frombuffer(proc.stdout, np.uint8).reshape(-1, SIZE[1], SIZE[0], 3)
    assert len(frames) == run.n_frames
    n, secs = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert n == run.n_frames and secs == pytest.approx(run.n_frames / 12, abs=0.1)
    for t in range(run.config.k):  # lossy video: a looser colour match
        assert _has_color(frames[-1], TEACHER_COLORS[t], tol=24)


def test_3d_view_turns_and_caption_is_large(tmp_path):
    run3 = train(Config().replace(d=5, k=3, m=6, epochs=1, steps=30, frames=4))
    r = FrameRenderer(run3, (1280, 720))
    first, last = np.asarray(r.frame(0)), np.asarray(r.frame(3))
    assert first.shape == (720, 1280, 3)
    # The camera turns: the neuron view differs between frames even where neurons barely move.
    assert np.abs(first[:, :600].astype(int) - last[:, :600]).sum() > 0
    assert CAPTION_PT * r.dpi / 72 >= 20  # caption text at least 20 px tall at 1280x720
    for t in range(3):
        assert _has_color(last, TEACHER_COLORS[t])


def test_sizes_and_fps_are_checked():
    assert parse_size("1920x1080") == (1920, 1080)
    assert parse_size(" 1280 X 720 ") == (1280, 720)
    for bad in ("1280", "0x0", "99999x720", "1281x720", "axb"):
        with pytest.raises(ExportError, match="width") as e:
            parse_size(bad)
        assert e.value.option == "size"
    assert check_fps(30) == 30
    for bad in (0, 61, 2.5, True, "10"):
        with pytest.raises(ExportError, match=r"an integer in \[1, 60\]"):
            check_fps(bad)


@pytest.mark.parametrize(
    ("argv", "flag", "range_text"),
    [
        (["--size", "10x10"], "--size", "[320, 3840]"),
        (["--size", "big"], "--size", "[320, 3840]"),
        (["--fps", "0"], "--fps", "[1, 60]"),
        (["--fps", "ten"], "--fps", "[1, 60]"),
        (["--d", "500"], "--d", "[2, 200]"),
    ],
)
def test_cli_errors_name_the_flag(argv, flag, range_text, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["export", "--format", "gif", "--out", str(tmp_path / "x.gif"), *argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}" in err and range_text in err
    assert not (tmp_path / "x.gif").exists()


def test_cli_exports_a_saved_run(run, tmp_path, capsys):
    saved = tmp_path / "run.npz"
    saved.write_bytes(run.to_npz_bytes())
    out = tmp_path / "run.gif"
    assert cli.main(["export", "--format", "gif", "--out", str(out), "--run", str(saved), "--size", "640x360"]) == 0
    with Image.open(out) as im:
        assert (im.size, im.n_frames) == (SIZE, run.n_frames)
    saved.write_bytes(b"not a zip")
    with pytest.raises(SystemExit) as e:
        cli.main(["export", "--format", "gif", "--out", str(out), "--run", str(saved)])
    assert e.value.code == 2 and "argument --run: Not a run file" in capsys.readouterr().err
