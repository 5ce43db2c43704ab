"""featviz: watch gradient descent learn features (Zhou & Ge, NeurIPS 2024).

A teacher two-layer ReLU network generates the target; a wider student is trained on it by
gradient descent with weight decay, and every snapshot is recorded. This module is the public
API for Python scripts and notebooks: the names in ``__all__``, each shown below or in its own
docstring with an example that runs as a test. Everything else, the submodules included, is
private and may change without notice.

Names are loaded on first use, so ``import featviz`` (or ``import featviz.config``) imports
neither plotly nor torch nor streamlit; torch is imported only by runs that need it (large
students, sampled data).

**Config** — one validated, frozen run configuration; ``Config()`` is the default run, and
``replace`` changes parameters by name. An invalid value raises **ConfigError** naming the
parameter and its allowed range::

    >>> import featviz
    >>> cfg = featviz.Config(epochs=2, steps=100, frames=8)
    >>> cfg.d, cfg.k, cfg.m, cfg.lam
    (10, 3, 30, 0.05)
    >>> cfg.replace(lam=0.0).lam
    0.0
    >>> try:
    ...     featviz.Config(m=0)
    ... except featviz.ConfigError as e:
    ...     print(e)
    m: must be an integer in [1, 1000] (got 0)
    >>> issubclass(featviz.ConfigError, ValueError)
    True

**Run** — a recorded run: the config, the teacher, and per snapshot the step, the losses
and the student's weights (plain numpy arrays; ``run.metrics`` holds the metrics)::

    >>> run = featviz.train(cfg)
    >>> isinstance(run, featviz.Run), run.status, run.n_frames, run.w.shape
    (True, 'ok', 8, (8, 30, 10))
    >>> bool(run.mse[-1] < run.mse[0])
    True

**run_metrics**, **frame_summary** — the metrics that make the theorem visible: each neuron's
mass |a_j||w_j|, its angle to the nearest teacher line, its fate (aligned, dead, undecided),
and the signed mass each teacher has captured::

    >>> met = featviz.run_metrics(run.w, run.a, run.teacher_w)  # what run.metrics holds
    >>> met.line_angle_deg.shape, int(met.counts[-1].sum())
    ((8, 30), 30)
    >>> featviz.frame_summary(run, 0)  # doctest: +ELLIPSIS
    '0 of 30 neurons within 5° of a teacher line, 0 dead, 30 undecided, mse ...'

**animation_figure**, **curves_figure**, **compare_figure**, **descent_figure** — plotly
figures of a run (a ``plotly.graph_objects.Figure``; in Jupyter the last expression of a cell
draws inline with plotly's standard renderer, no setup needed)::

    >>> fig = featviz.animation_figure(run)  # neurons, angle vs mass, curves; Play and a slider
    >>> len(fig.frames) == run.n_frames
    True
    >>> fig = featviz.curves_figure(run)  # static training curves
    >>> fig = featviz.descent_figure(run, run.n_frames - 1)  # where each neuron is heading
    >>> no_decay = featviz.train(cfg.replace(lam=0.0))
    >>> fig = featviz.compare_figure(no_decay, run, labels=("λ = 0", "λ = 0.05"))  # one slider for both
    >>> type(fig).__name__
    'Figure'

**LESSONS** — preset configurations that reproduce the paper's claims, each with an automatic
check (see ``lesson`` and ``check``)::

    >>> [lesson.slug for lesson in featviz.LESSONS]  # doctest: +NORMALIZE_WHITESPACE
    ['recovery', 'no-regularization', 'lazy', 'early-stage', 'three-stages',
     'too-much-regularization', 'sign-symmetry', 'surplus-dies']
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from featviz.config import Config
    from featviz.lessons import Check, Lesson
    from featviz.run import Run

__all__ = [
    "LESSONS",
    "Config",
    "ConfigError",
    "Run",
    "animation_figure",
    "check",
    "compare_figure",
    "curves_figure",
    "descent_figure",
    "frame_summary",
    "lesson",
    "load_run",
    "run_metrics",
    "save_run",
    "train",
]

# Public names defined in submodules, imported on first use (PEP 562).
_LAZY = {
    "Config": "featviz.config",
    "ConfigError": "featviz.config",
    "Run": "featviz.run",
    "run_metrics": "featviz.metrics",
    "frame_summary": "featviz.metrics",
    "animation_figure": "featviz.figures",
    "curves_figure": "featviz.figures",
    "compare_figure": "featviz.figures",
    "descent_figure": "featviz.figures",
    "LESSONS": "featviz.lessons",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'featviz' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)  # tab completion offers the public API only


def train(config: Config | None = None, *, progress: bool | Callable[[int, int, float], None] = False) -> Run:
    """Train the student of `config` (default ``Config()``) on its teacher and record the run.

    The run is a function of the config alone: the same config gives a bit-identical run. A run
    that diverges ends early with ``status == "diverged"`` and a ``message`` saying why; it does
    not raise. Unlike the app and the command line, no compute budget is enforced here.

    progress: ``False`` trains silently; ``True`` shows a progress bar (``tqdm.auto``: a widget
    in Jupyter, text on a terminal); a callable ``progress(step, total, mse)`` is called about
    every 0.2 s and once at the end, as the app's background jobs are.

    >>> import featviz
    >>> seen = []
    >>> run = featviz.train(featviz.Config(epochs=1, steps=50, frames=5), progress=lambda *p: seen.append(p[:2]))
    >>> seen[-1], run.n_frames
    ((50, 50), 5)
    """
    from featviz import engine
    from featviz.config import Config

    if config is None:
        config = Config()
    if not isinstance(config, Config):
        raise TypeError(f"config must be a featviz.Config, not {type(config).__name__}")
    if progress is True:
        from featviz.progress import ProgressBar

        with ProgressBar() as bar:
            return engine.train(config, progress=bar)
    if progress is False or progress is None:
        return engine.train(config)
    if not callable(progress):
        raise TypeError(f"progress must be True, False or a callable (step, total, mse), not {progress!r}")
    return engine.train(config, progress=progress)


def save_run(run: Run, path: str | os.PathLike) -> Path:
    """Write `run` to `path` as ``.npz`` (plain numpy arrays and JSON, no pickle); returns the path.

    The file is the one the command line's ``--out`` writes and the app downloads.

    >>> import featviz
    >>> run = featviz.train(featviz.Config(epochs=1, steps=50, frames=5))
    >>> path = featviz.save_run(run, "run.npz")
    >>> path.name, path.stat().st_size > 0
    ('run.npz', True)
    """
    path = Path(path)
    with open(path, "wb") as f:  # an open file: numpy would append ".npz" to a name without it
        run.save_npz(f)
    return path


def load_run(path: str | os.PathLike) -> Run:
    """Read a run written by ``save_run`` (or the command line's ``--out``); checks shapes and
    values, raises ``ValueError`` for a malformed file.

    >>> import featviz, numpy
    >>> run = featviz.train(featviz.Config(epochs=1, steps=50, frames=5))
    >>> again = featviz.load_run(featviz.save_run(run, "run.npz"))
    >>> again.config == run.config, numpy.array_equal(again.w, run.w), again.summary() == run.summary()
    (True, True, True)
    """
    from featviz.run import Run

    return Run.load_npz(path)


def lesson(slug: str) -> Lesson:
    """The lesson named `slug` (one of ``[lesson.slug for lesson in LESSONS]``).

    A lesson has a ``title``, an ``explanation``, what to ``expect``, its ``criterion`` in
    words, its ``config`` and its ``check(run)``.

    >>> import featviz
    >>> les = featviz.lesson("too-much-regularization")
    >>> les.config.lam, les.criterion  # doctest: +ELLIPSIS
    (2.0, 'All neurons dead, and the final mse within 5% of ...')
    """
    return _lesson_named(slug)


def _lesson_named(slug: str) -> Lesson:
    from featviz.lessons import LESSONS

    for les in LESSONS:
        if les.slug == slug:
            return les
    raise ValueError(f"no lesson {slug!r}; one of: " + ", ".join(les.slug for les in LESSONS))


def check(lesson: str | Lesson, run: Run | None = None, *, progress: bool | Callable = False) -> Check:
    """Run a lesson's automatic check on `run` (default: train the lesson's config first).

    `lesson` is a slug or a lesson of ``LESSONS``. The result has ``passed`` (bool) and
    ``measured`` (what was measured, with numbers). The criteria are made for the lessons'
    own configs; on another run they still measure, but passing is not promised.

    >>> import featviz
    >>> result = featviz.check("too-much-regularization")  # trains its config: about 0.3 s
    >>> result.passed
    True
    >>> result.measured  # doctest: +ELLIPSIS
    '30 of 30 neurons dead...'
    """
    les = _lesson_named(lesson) if isinstance(lesson, str) else lesson
    if run is None:
        run = train(les.config, progress=progress)
    return les.check(run)
