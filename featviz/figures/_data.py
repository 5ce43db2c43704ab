"""Numbers and words shared by the figures: display-safe arrays, steps on a log axis, frame captions."""

from __future__ import annotations

import numpy as np

from featviz.metrics import FINITE_CAP, finite, frame_summary

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


def _teacher_name(i: int, a_star: float) -> str:
    return f"±w*{_sub(i + 1)} (a*={a_star:+.3g})"


def _frame_label(run, i: int) -> str:
    return f"step {int(run.step[i]):,} · {run.stage_name(i)} · λ={float(run.lam[i]):.3g}"


def _frame_text(run, i: int) -> str:
    return f"frame {i + 1}/{run.n_frames} · {_frame_label(run, i)} — {frame_summary(run, i)}"


def _config_title(c) -> str:
    extra = f" at {', '.join(f'{a:g}°' for a in c.angles)}" if c.teachers == "planar" and c.k > 1 else ""
    return (
        f"Student neurons and teacher lines: d={c.d}, k={c.k} {c.teachers}{extra}, m={c.m}, "
        f"{c.algo}, λ={c.lam:g}, init={c.init:g}"
    )
