"""Numbers and words shared by the figures: display-safe arrays, steps on a log axis, frame captions."""

from __future__ import annotations

import numpy as np

from featviz.metrics import FINITE_CAP, finite, frame_summary, headline

MASS_FLOOR = 1e-6  # masses below this are drawn at it, so log axes can show dead neurons
DISPLAY_CAP = FINITE_CAP  # anything larger is drawn at the cap (a diverged run's mse can be huge)
_finite = finite  # NaN -> 0, huge values drawn at the cap

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _f32(x) -> np.ndarray:
    """float32 halves the (base64) payload; plots need no more than 7 digits."""
    return _finite(x, lo=-3e38, hi=3e38).astype(np.float32)


def _step_x(step) -> np.ndarray:
    """Snapshots are log-spaced: plot step + 1 on a log axis, tick-labelled with the step."""
    return np.asarray(step, dtype=float) + 1.0


def _sub(i: int) -> str:
    return str(i).translate(_SUB)


def _teacher_name(i: int, a_star: float, *, out_of_view: bool = False) -> str:
    """Teacher i's key entry; out_of_view: its line is perpendicular to the neuron view."""
    return f"±w*{_sub(i + 1)} (a*={a_star:+.3g})" + (" (⊥ to view)" if out_of_view else "")


def _teacher_total_name(total: float) -> str:
    """The key entry of the line at sum_i |a*_i|."""
    return f"Σ|a*ᵢ| = {total:.3g}"


def _frame_label(run, i: int) -> str:
    return f"step {int(run.step[i]):,} · {run.stage_name(i)} · λ={float(run.lam[i]):.3g}"


def _frame_text(run, i: int) -> str:
    """Two lines: where the frame is in training, then what it shows."""
    summary = frame_summary(run, i)
    return f"frame {i + 1}/{run.n_frames} · {_frame_label(run, i)}<br>{summary}"


def _config_text(c) -> str:
    extra = f" at {', '.join(f'{a:g}°' for a in c.angles)}" if c.teachers == "planar" and c.k > 1 else ""
    return f"d={c.d}, k={c.k} {c.teachers}{extra}, m={c.m}, {c.algo}, λ={c.lam:g}, init={c.init:g}"


def _config_title(c) -> str:
    return f"Student neurons and teacher lines: {_config_text(c)}"


def _result_title(run) -> str:
    """The title of a run's figure: what its last frame shows."""
    return headline(run, run.n_frames - 1)


def _epoch_of(run, i: int) -> int:
    """1-based epoch of the gradient step that snapshot i follows (0 before the first step)."""
    gd_step = int(run.step[i]) - run.config.stage_steps
    return 0 if gd_step <= 0 else (gd_step - 1) // run.config.steps + 1


def _slider_marks(run) -> list[tuple[int, str, bool]]:
    """The frames the slider labels: each stage's first frame (must) and each epoch's first (may)."""
    marks = []
    for i in range(run.n_frames):
        if i == 0 or run.stage[i] != run.stage[i - 1]:
            name = run.stage_name(i)
            if name != "gd":  # plain gradient descent is one stage: its epochs say enough
                marks.append((i, name, True))
                continue
        e = _epoch_of(run, i)
        if i > 0 and e >= 2 and e != _epoch_of(run, i - 1):
            marks.append((i, f"epoch {e}", False))
    return marks
