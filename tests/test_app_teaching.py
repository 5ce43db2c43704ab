"""The teaching kit in the app (streamlit.testing): GIF/MP4 downloads, forks on the Playground, the Open page."""

import io

import numpy as np
import pytest
from app_support import animations, copied_links, open_app, settle
from streamlit.testing.v1 import AppTest

from featviz import ui
from featviz.config import Config
from featviz.engine import train
from featviz.fork import Fork, branch_steps, train_fork
from featviz.metrics import headline

SMALL = Config(d=4, k=2, a_star=(1.0, -1.0), angles=(0.0, 60.0), m=8, epochs=2, steps=60, frames=10)


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FEATVIZ_APPTEST", "1")


@pytest.fixture
def made(monkeypatch):
    """The bytes every GIF/MP4 download was made from, by format."""
    out = {}
    real = ui.downloads.export_bytes

    def recording(run, *, fmt, size, fps):
        data = real(run, fmt=fmt, size=size, fps=fps)
        out[fmt] = (data, size, fps)
        return data

    monkeypatch.setattr(ui.downloads, "export_bytes", recording)
    ui.downloads._video.clear()
    return out


def open_page(name: str, params: dict | None = None) -> AppTest:
    return open_app(params, page=f"pages/{name}")


def downloads(at: AppTest) -> dict[str, str]:
    return {b.key: b.label for b in at.get("download_button")}


@pytest.mark.slow
def test_playground_makes_gif_and_mp4_downloads(made):
    at = open_page("playground.py", SMALL.to_mapping())
    assert "pg_dl_gif" not in downloads(at)
    at.selectbox(key="pg_video_size").set_value("1920×1080")
    at.number_input(key="pg_video_fps").set_value(4)
    at.button(key="pg_make_gif").click()
    settle(at)
    assert downloads(at).get("pg_dl_gif") == "Download GIF"
    data, size, fps = made["gif"]
    assert data[:6] == b"GIF89a" and size == (1920, 1080) and fps == 4
    at.button(key="pg_make_mp4").click()
    settle(at)
    assert downloads(at).get("pg_dl_mp4") == "Download MP4"
    data, _, _ = made["mp4"]
    assert data[4:8] == b"ftyp"
    assert {"dl_npz", "dl_html", "pg_dl_gif", "pg_dl_mp4"} <= set(downloads(at))


@pytest.mark.slow
def test_lessons_page_makes_a_gif(made):
    at = open_page("lessons.py")
    assert at.button(key="lesson_make_gif").label == "Make GIF"
    at.button(key="lesson_make_gif").click()
    settle(at)
    assert "lesson_dl_gif" in downloads(at)
    assert made["gif"][0][:6] == b"GIF89a"


def test_fork_from_the_expander_and_its_link():
    at = open_page("playground.py", SMALL.to_mapping())
    steps = at.select_slider(key="fork_step").options
    step = int(steps[len(steps) // 2])
    at.select_slider(key="fork_step").set_value(step)
    at.number_input(key="fork_w_lam").set_value(0.0)
    at.button(key="fork_go").click()
    settle(at)
    q = {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert q["fork.step"] == str(step) and q["fork.lam"] == "0"
    fork = Fork.from_mapping(q)
    assert fork == Fork.of(SMALL, step, lam=0.0)
    assert any(f"Forked at step {step:,}" in i.value for i in at.info)
    assert f"fork.step={step}" in copied_links(at)[0]
    # the animation shows the fork's frames: the parent's up to the branch, then its own
    expected = train_fork(fork)
    (figure,) = animations(at).values()  # the figure the page's animation chart shows
    assert len(figure["frames"]) == expected.n_frames > SMALL.frames
    names = {t.get("name") for t in figure["data"]}
    assert f"branch at step {step:,}" in names and "parent run" in names
    # the link alone reproduces it
    again = open_page("playground.py", q)
    assert any(f"Forked at step {step:,}" in i.value for i in again.info)
    text = "\n".join(m.value for m in again.markdown)
    assert headline(expected, expected.n_frames - 1) in text  # the result line: the fork's own run


def test_fork_link_at_a_missing_frame_says_which_steps_exist():
    parent = train(SMALL)
    valid = branch_steps(parent)
    missing = next(s for s in range(1, SMALL.total_steps) if s not in valid)
    at = open_page("playground.py", SMALL.to_mapping() | {"fork.step": str(missing), "fork.lam": "0.2"})
    errors = [e.value for e in at.error]
    assert len(errors) == 1
    assert "fork.step" in errors[0] and f"'{missing}'" in errors[0] and str(valid[-1]) in errors[0]


def _saved(run) -> bytes:
    buf = io.BytesIO()
    run.save_npz(buf)
    return buf.getvalue()


def test_open_page_shows_an_uploaded_run(made):
    run = train(SMALL)
    at = open_page("open_run.py")
    assert not at.error
    at.get("file_uploader")[0].set_value(("run.npz", _saved(run), "application/octet-stream"))
    settle(at)
    assert not at.error
    text = "\n".join(m.value for m in at.markdown)
    assert f"{run.n_frames} frames up to step {int(run.step[-1]):,}" in text
    assert "Result (last frame):" in text
    assert len(at.get("plotly_chart")) == 1
    assert {"open_dl_npz", "open_dl_html"} <= set(downloads(at))
    at.button(key="open_make_gif").click()
    settle(at)
    assert made["gif"][0][:6] == b"GIF89a"


@pytest.mark.parametrize(
    ("name", "data", "needle"),
    [
        ("empty.npz", b"", "empty"),
        ("noise.npz", np.random.default_rng(0).bytes(5000), "not"),
        ("truncated.npz", None, ""),
    ],
)
def test_open_page_with_a_hostile_file_shows_one_message(name, data, needle):
    if data is None:
        data = _saved(train(SMALL))[:-300]
    at = open_page("open_run.py")
    at.get("file_uploader")[0].set_value((name, data, "application/octet-stream"))
    settle(at)
    assert len(at.error) == 1
    assert name in at.error[0].value and needle in at.error[0].value.lower()
    assert not at.get("plotly_chart")
    # the app keeps working: a good file afterwards opens
    at.get("file_uploader")[0].set_value(("run.npz", _saved(train(SMALL)), "application/octet-stream"))
    settle(at)
    assert not at.error and len(at.get("plotly_chart")) == 1
