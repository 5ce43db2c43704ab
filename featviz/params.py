"""Each run parameter declared once: kind, range, default, help, widget label and step, and when it matters.

Everything else reads these declarations: ``Config`` (validation, the canonical form of cache
keys), the widgets, the links and the CLI help. ``rejected`` is the one wording of a rejected
value, for pages, links and the CLI.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ConfigError(ValueError):
    """An invalid parameter; ``param`` names it, ``allowed`` describes the allowed range."""

    def __init__(self, param: str, allowed: str, value: object = None):
        self.param = param
        self.allowed = allowed
        self.value = value
        got = "" if value is None else f" (got {value!r})"
        super().__init__(f"{param}: must be {allowed}{got}")


def reason(e: ConfigError) -> str:
    """Why a value was rejected, e.g. "'500' is not valid: must be an integer in [2, 200]"."""
    shown = "" if e.value is None else f"{str(e.value)[:60]!r} is not valid: "
    return f"{shown}must be {e.allowed}"


def rejected(e: ConfigError, outcome: str = "using the default instead") -> str:
    """The one wording of a rejected value for pages and links: what, why, and what happens now."""
    return f"Parameter `{e.param}`: {reason(e)}; {outcome}."


@dataclass(frozen=True)
class Param:
    """One run parameter: everything the config, the widgets, the links and the CLI know of it."""

    name: str
    kind: str  # "int", "float", "choice", "floats"
    group: str  # "teacher", "student", "training"
    default: Any  # for the per-teacher lists: the value for the default k
    label: str  # the widget's label
    help: str  # one sentence: the meaning and the constraint
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    log: bool = False  # a log-scale widget suits it
    step: float | None = None  # the widget's +/- step (numbers)
    # When the parameter affects the run (None: always), read from anything with the config's
    # attributes (a Config, or the widgets' current values). Where it does not, the run is the
    # one with `implied` (default: the default): canonical() writes that, widgets hide it.
    when: Callable[[Any], bool] | None = None
    implied: Any = None
    per_teacher: Callable[[int], tuple[float, ...]] | None = None  # the default for k teachers
    # How a per-teacher list follows a changed k (None: keep the typed values, extend with the default).
    resize: Callable[[tuple[float, ...], int], tuple[float, ...]] | None = None

    @property
    def allowed(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "floats":
            return f"comma-separated numbers in [{_fmt(self.lo)}, {_fmt(self.hi)}], one per teacher"
        kind = "an integer" if self.kind == "int" else "a number"
        return f"{kind} in [{_fmt(self.lo)}, {_fmt(self.hi)}]"

    def matters(self, c) -> bool:
        """Whether this parameter affects the run of c (a Config or the widgets' values)."""
        return self.when is None or bool(self.when(c))

    def default_for(self, k: int):
        """The default value for a config with k teachers."""
        return self.per_teacher(k) if self.per_teacher else self.default

    def follow_k(self, values: tuple[float, ...], k: int) -> tuple[float, ...]:
        """A per-teacher list after k changed: the typed values first, then new ones for the new teachers."""
        if self.resize is not None:
            return self.resize(tuple(values), k)
        return tuple(values[:k]) + self.per_teacher(k)[len(values) : k]

    def unused_value(self, k: int):
        """The value a config holds for this parameter where it does not matter."""
        return self.default_for(k) if self.implied is None else self.implied


def _fmt(x: float | None) -> str:
    if x is None:
        return "?"
    if float(x).is_integer() and abs(x) < 1e15:  # exact, e.g. the largest seed
        return str(int(x))
    return f"{x:g}"


def default_a_star(k: int) -> tuple[float, ...]:
    """Alternating signs 1, -1, 1, ... so both signs are on show."""
    return tuple(1.0 if i % 2 == 0 else -1.0 for i in range(k))


def default_angles(k: int) -> tuple[float, ...]:
    """k lines spread evenly over the half circle (lines repeat every 180 degrees)."""
    return tuple(round(180.0 * i / k, 6) for i in range(k))


NEW_LINE_SEP_DEG = 15.0  # a line added when k grows keeps at least this far from every other


def spread_angles(angles: tuple[float, ...], k: int) -> tuple[float, ...]:
    """Planar angles after k changed: evenly spaced stays evenly spaced, typed lines are kept.

    The evenly spaced default for the old k becomes the one for the new k. Otherwise the first k
    typed angles are kept, and each new line goes in the middle of the largest gap between lines
    (modulo 180); when that gap leaves less than NEW_LINE_SEP_DEG on either side, the typed lines
    leave no room and the evenly spaced default for k is used.
    """
    n = len(angles)
    if n == 0 or all(abs(a - b) < 1e-6 for a, b in zip(angles, default_angles(n), strict=True)):
        return default_angles(k)
    out = list(angles[:k])
    while len(out) < k:
        lines = sorted(a % 180.0 for a in out)
        gaps = [(b - a, a) for a, b in itertools.pairwise(lines)] + [(lines[0] + 180.0 - lines[-1], lines[-1])]
        width, start = max(gaps)
        if width / 2 < NEW_LINE_SEP_DEG:
            return default_angles(k)
        out.append(round((start + width / 2) % 180.0, 6))
    return tuple(out)


MAX_K = 8
MAX_M = 1000
DEFAULT_K = 3

# The table of parameters, one entry each: name, kind, group, default, widget label, then the range
# and what only some have, and on the next lines the help sentence. Kept as a table, not one
# argument a line, so that each parameter reads at a glance.
# fmt: off
PARAMS: dict[str, Param] = {p.name: p for p in [
    Param("d", "int", "teacher", 10, "d · input dimension", lo=2, hi=200,
          help="Input dimension; x ~ N(0, I_d)."),
    Param("k", "int", "teacher", DEFAULT_K, "k · teacher neurons", lo=1, hi=MAX_K,
          help="Number of teacher neurons (ground-truth directions); orthonormal teachers need k <= d."),
    Param("teachers", "choice", "teacher", "orthonormal", "teachers · directions",
          choices=("orthonormal", "random", "planar"),
          help="How the unit teacher directions w*_i are chosen: orthonormal (k <= d); random with a "
          "minimum angle `sep` between teacher lines; planar at `angles` in one 2-D plane."),
    Param("sep", "float", "teacher", 30.0, "sep · min angle (°)", lo=0, hi=90, step=5.0,
          when=lambda c: c.teachers == "random",
          help="random teachers: minimum angle between teacher lines, in degrees."),
    Param("angles", "floats", "teacher", default_angles(DEFAULT_K), "angles (°)", lo=-360, hi=360,
          when=lambda c: c.teachers == "planar", per_teacher=default_angles, resize=spread_angles,
          help="planar teachers: the angle of each teacher direction in its plane, in degrees."),
    Param("a_star", "floats", "teacher", default_a_star(DEFAULT_K), "a* · teacher output weights", lo=-10, hi=10,
          per_teacher=default_a_star,
          help="Teacher output weights a*_i (signs may differ; |a*_i| >= 0.05)."),
    Param("m", "int", "student", 30, "m · student width", lo=1, hi=MAX_M,
          help="Student width (number of hidden neurons); even for algo=paper."),
    Param("init", "float", "student", 0.1, "init · initial norm", lo=1e-4, hi=10, log=True, step=0.01,
          help="Initial norm of each w_j and of each |a_j|."),
    Param("symmetric", "choice", "student", "no", "symmetric init (f = 0 at start)", choices=("no", "yes"),
          when=lambda c: c.algo != "paper",
          implied="yes",  # the paper algorithm always starts symmetric
          help="Symmetric init: neurons in pairs (a, w), (-a, w), so the student starts at f = 0 "
          "(needs an even m; always on for algo=paper)."),
    Param("lam", "float", "training", 0.05, "λ · weight decay", lo=0, hi=10, step=0.001,
          help="Weight decay lambda on a and W (alpha, beta are not penalised)."),
    Param("lam_decay", "float", "training", 0.5, "λ decay per epoch", lo=0.01, hi=1, step=0.05,
          when=lambda c: c.lam != 0,  # lam * lam_decay**epoch is 0 whatever the decay
          help="Factor applied to lambda after each epoch."),
    Param("epochs", "int", "training", 8, "epochs", lo=1, hi=100,
          help="Number of epochs (lambda is constant within one)."),
    Param("steps", "int", "training", 500, "steps per epoch", lo=1, hi=100_000,
          help="Gradient steps per epoch."),
    Param("lr", "float", "training", 0.2, "lr · learning rate", lo=1e-5, hi=100, log=True, step=0.01,
          help="Learning rate of gradient descent."),
    Param("algo", "choice", "training", "gd", "algorithm", choices=("gd", "paper"),
          help="gd: plain gradient descent from a small random init; paper: the three stages "
          "(one large step, ridge fit of a, then gradient descent)."),
    Param("eta1", "float", "training", 3.0, "eta1 · stage-1 step × init", lo=0.01, hi=1000, log=True, step=0.5,
          when=lambda c: c.algo == "paper",
          help="algo=paper: stage-1 step size in units of 1/init (the step is eta1/init, with "
          "weight decay 1/step so that W <- -step * grad_W L)."),
    Param("data", "choice", "training", "population", "data", choices=("population", "samples"),
          help="population: the exact expected loss (closed form); samples: the empirical loss on n points."),
    Param("n", "int", "training", 1000, "n · training points", lo=10, hi=100_000,
          when=lambda c: c.data == "samples",
          help="data=samples: number of training points."),
    Param("seed", "int", "training", 0, "seed", lo=0, hi=2**31 - 1,
          help="Random seed for teachers, init and samples."),
    Param("frames", "int", "training", 60, "frames kept", lo=2, hi=400,
          help="Snapshots kept on a log-spaced step grid (first and last always; with algo=paper also the "
          "two stage steps, so at least 4)."),
]}
# fmt: on
GROUPS = {"teacher": "Teacher", "student": "Student", "training": "Training"}

MIN_ABS_A_STAR = 0.05
MIN_LINE_SEP_DEG = 1.0  # planar teacher lines closer than this are degenerate
