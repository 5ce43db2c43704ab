"""The neuron view's geometry: neurons and teachers projected on the teacher span, sizes and colours.

numpy only: the plotly figures (``featviz.figures._neurons``) and the exported animation
(``featviz.export``) draw the same picture from these functions.
"""

from __future__ import annotations

import numpy as np

from featviz.metrics import ALIGNED, DEAD

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def project(basis: np.ndarray, w: np.ndarray, orth: np.ndarray) -> np.ndarray:
    """(...,d) -> (...,n) coordinates of the neuron view, n = 2 or 3; basis (r,d) spans the teachers.

    r = 1: (coordinate along w*₁, orth), orth being the norm off the teacher span; r = 2: the
    plane; r ≥ 3: the first three coordinates.
    """
    p = w @ basis.T
    r = basis.shape[0]
    if r == 1:
        return np.stack([p[..., 0], orth], -1)
    return p[..., :3] if r >= 3 else p


def teacher_directions(teacher_w: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """(k,n) unit directions of the teachers in the view's coordinates; 0 for one out of view."""
    tp = teacher_w @ basis.T  # (k,r)
    tp = np.concatenate([tp, np.zeros_like(tp[:, :1])], -1) if basis.shape[0] == 1 else tp[:, :3]
    norms = np.linalg.norm(tp, axis=-1, keepdims=True)
    return np.where(norms > 1e-9, tp / np.where(norms > 1e-9, norms, 1.0), 0.0)


def extent(coords: np.ndarray) -> float:
    """Half-width of fixed axes that hold every point, with a margin."""
    ext = float(np.abs(coords).max()) if coords.size else 0.0
    return max(ext, 1e-6) * 1.12


def mass_ref(mass: np.ndarray) -> float:
    """The mass drawn at the largest marker size."""
    # A high percentile, not the max: one runaway neuron should not shrink all the others.
    return max(float(np.percentile(mass, 99.5)), 1e-12) if mass.size else 1.0


def marker_sizes(mass: np.ndarray, ref: float, *, small: float, big: float) -> np.ndarray:
    """Area proportional to mass, capped at the reference; never below `small` pixels."""
    return small + (big - small) * np.sqrt(np.clip(mass / ref, 0.0, 1.0))


def color_index(fate: np.ndarray, nearest: np.ndarray, k: int) -> np.ndarray:
    """Colour of each neuron as an index: 0..k-1 aligned to teacher t, k undecided, k+1 dead."""
    index = np.where(fate == ALIGNED, nearest, k)
    return np.where(fate == DEAD, k + 1, index)


def view_title(r: int) -> str:
    """What the neuron view shows, for a teacher span of dimension r."""
    if r == 1:
        return "neurons: along w*₁ vs norm off the teacher line"
    if r <= 3:
        return f"neurons projected on the {r}-D teacher span"
    return f"neurons: first 3 of {r} teacher-span coordinates"


def axis_titles(r: int, n: int) -> tuple[str, ...]:
    """The view's axis titles: n coordinates of a teacher span of dimension r."""
    if r == 1:
        return ("coordinate along w*₁", "|w⊥| (norm off the line)")
    return tuple(f"u{str(i + 1).translate(_SUB)}" for i in range(n))
