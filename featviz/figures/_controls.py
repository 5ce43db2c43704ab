"""The one Play/Pause and slider builder shared by every animated figure."""

from __future__ import annotations

from featviz.figures._style import FONT_SIZE, GUIDE, HIDDEN_SIZE, INVISIBLE, SUBTITLE_SIZE, TEXT

FRAME_MS = 120  # Play: time per frame

# The slider's current-value line describes the frame shown. A frame's layout (a title) is not
# redrawn while a 2-D animation plays, so the per-frame text lives in the slider labels instead.
PLAY_HINT = "▶ Play, or drag the slider: the line above the slider describes the frame shown"


def _controls(labels: list[str], *, redraw: bool, y: float) -> tuple[list, list]:
    """Play/Pause buttons and one slider over frames named '0', '1', ..."""
    frame_args = dict(mode="immediate", frame=dict(duration=0, redraw=redraw), transition=dict(duration=0))
    steps = [dict(method="animate", label=lab, args=[[str(i)], frame_args]) for i, lab in enumerate(labels)]
    play = dict(
        label="▶ Play",
        method="animate",
        args=[
            None,
            dict(
                frame=dict(duration=FRAME_MS, redraw=redraw),
                fromcurrent=True,
                transition=dict(duration=0),
                mode="immediate",
            ),
        ],
    )
    pause = dict(
        label="❚❚ Pause",
        method="animate",
        args=[[None], dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0), mode="immediate")],
    )
    menus = [
        dict(
            type="buttons",
            direction="left",
            buttons=[play, pause],
            showactive=False,
            x=0.0,
            xanchor="left",
            y=y,
            yanchor="top",
            pad=dict(t=0, r=8),
            font=dict(size=FONT_SIZE),
        )
    ]
    sliders = [
        dict(
            active=0,
            steps=steps,
            x=0.16,
            len=0.84,
            xanchor="left",
            y=y + 0.012,
            yanchor="top",
            pad=dict(t=30, b=0),
            # Step labels would overlap; the current value above the slider names the frame.
            font=dict(color=INVISIBLE, size=HIDDEN_SIZE),
            ticklen=4,
            minorticklen=0,
            tickcolor=GUIDE,
            currentvalue=dict(
                visible=True, prefix="showing: ", xanchor="left", font=dict(size=SUBTITLE_SIZE, color=TEXT)
            ),
            transition=dict(duration=0),
        )
    ]
    return menus, sliders


def _nearest_frame(s: int, n_slider: int, n_frames: int) -> int:
    """Slider position s of n_slider -> nearest frame of a run with n_frames snapshots."""
    if n_slider <= 1 or n_frames <= 1:
        return 0
    return round(s / (n_slider - 1) * (n_frames - 1))
