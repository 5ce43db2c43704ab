"""The one validated run configuration, shared by the URL, the CLI and saved runs.

Every parameter is declared once in ``PARAMS`` (name, kind, default, allowed range, help).
``Config`` is frozen and validates itself; it round-trips exactly through a flat
``str -> str`` mapping (``to_mapping`` / ``from_mapping``). ``parse_lenient`` is the
forgiving reader for untrusted input (links): it never raises, it falls back to defaults
and returns one message per rejected parameter.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

ENGINE_VERSION = "2"


class ConfigError(ValueError):
    """An invalid parameter; ``param`` names it, ``allowed`` describes the allowed range."""

    def __init__(self, param: str, allowed: str, value: object = None):
        self.param = param
        self.allowed = allowed
        self.value = value
        got = "" if value is None else f" (got {value!r})"
        super().__init__(f"{param}: must be {allowed}{got}")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "int", "float", "choice", "floats"
    group: str  # "teacher", "student", "training"
    help: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    log: bool = False  # a log-scale widget suits it

    @property
    def allowed(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "floats":
            return f"comma-separated numbers in [{_fmt(self.lo)}, {_fmt(self.hi)}], one per teacher"
        kind = "an integer" if self.kind == "int" else "a number"
        return f"{kind} in [{_fmt(self.lo)}, {_fmt(self.hi)}]"


def _fmt(x: float | None) -> str:
    if x is None:
        return "?"
    if float(x).is_integer() and abs(x) < 1e15:  # exact, e.g. the largest seed
        return str(int(x))
    return f"{x:g}"


MAX_K = 8
MAX_M = 1000

PARAMS: dict[str, Param] = {
    p.name: p
    for p in [
        Param("d", "int", "teacher", "Input dimension; x ~ N(0, I_d).", 2, 200),
        Param("k", "int", "teacher", "Number of teacher neurons (ground-truth directions).", 1, MAX_K),
        Param(
            "teachers",
            "choice",
            "teacher",
            "How the unit teacher directions w*_i are chosen: orthonormal; random with a "
            "minimum angle `sep` between teacher lines; planar at `angles` in one 2-D plane.",
            choices=("orthonormal", "random", "planar"),
        ),
        Param("sep", "float", "teacher", "random teachers: minimum angle between teacher lines, in degrees.", 0, 90),
        Param(
            "angles",
            "floats",
            "teacher",
            "planar teachers: the angle of each teacher direction in its plane, in degrees.",
            -360,
            360,
        ),
        Param(
            "a_star", "floats", "teacher", "Teacher output weights a*_i (signs may differ; |a*_i| >= 0.05).", -10, 10
        ),
        Param("m", "int", "student", "Student width (number of hidden neurons); even for algo=paper.", 1, MAX_M),
        Param("init", "float", "student", "Initial norm of each w_j and of each |a_j|.", 1e-4, 10, log=True),
        Param(
            "symmetric",
            "choice",
            "student",
            "Symmetric init: neurons in pairs (a, w), (-a, w), so the student starts at f = 0 "
            "(needs an even m; always on for algo=paper).",
            choices=("no", "yes"),
        ),
        Param("lam", "float", "training", "Weight decay lambda on a and W (alpha, beta are not penalised).", 0, 10),
        Param("lam_decay", "float", "training", "Factor applied to lambda after each epoch.", 0.01, 1),
        Param("epochs", "int", "training", "Number of epochs (lambda is constant within one).", 1, 100),
        Param("steps", "int", "training", "Gradient steps per epoch.", 1, 100_000),
        Param("lr", "float", "training", "Learning rate of gradient descent.", 1e-5, 100, log=True),
        Param(
            "algo",
            "choice",
            "training",
            "gd: plain gradient descent from a small random init; paper: the three stages "
            "(one large step, ridge fit of a, then gradient descent).",
            choices=("gd", "paper"),
        ),
        Param(
            "eta1",
            "float",
            "training",
            "algo=paper: stage-1 step size in units of 1/init (the step is eta1/init, with "
            "weight decay 1/step so that W <- -step * grad_W L).",
            0.01,
            1000,
            log=True,
        ),
        Param(
            "data",
            "choice",
            "training",
            "population: the exact expected loss (closed form); samples: the empirical loss on n points.",
            choices=("population", "samples"),
        ),
        Param("n", "int", "training", "data=samples: number of training points.", 10, 100_000),
        Param("seed", "int", "training", "Random seed for teachers, init and samples.", 0, 2**31 - 1),
        Param(
            "frames",
            "int",
            "training",
            "Snapshots kept on a log-spaced step grid (first and last always; with algo=paper also the "
            "two stage steps, so at least 4).",
            2,
            400,
        ),
    ]
}

MIN_ABS_A_STAR = 0.05
MIN_LINE_SEP_DEG = 1.0  # planar teacher lines closer than this are degenerate


def default_a_star(k: int) -> tuple[float, ...]:
    """Alternating signs 1, -1, 1, ... so both signs are on show."""
    return tuple(1.0 if i % 2 == 0 else -1.0 for i in range(k))


def default_angles(k: int) -> tuple[float, ...]:
    """k lines spread evenly over the half circle (lines repeat every 180 degrees)."""
    return tuple(round(180.0 * i / k, 6) for i in range(k))


@dataclass(frozen=True)
class Config:
    d: int = 10
    k: int = 3
    teachers: str = "orthonormal"
    sep: float = 30.0
    angles: tuple[float, ...] = (0.0, 60.0, 120.0)
    a_star: tuple[float, ...] = (1.0, -1.0, 1.0)
    m: int = 30
    init: float = 0.1
    symmetric: str = "no"
    lam: float = 0.05
    lam_decay: float = 0.5
    epochs: int = 8
    steps: int = 500
    lr: float = 0.2
    algo: str = "gd"
    eta1: float = 3.0
    data: str = "population"
    n: int = 1000
    seed: int = 0
    frames: int = 60

    def __post_init__(self) -> None:
        for p in PARAMS.values():
            object.__setattr__(self, p.name, _check(p, getattr(self, p.name)))
        if self.k > self.d:
            raise ConfigError("k", f"an integer in [1, d] = [1, {self.d}] (at most d teachers)", self.k)
        if len(self.a_star) != self.k:
            raise ConfigError(
                "a_star", f"{self.k} comma-separated numbers (one per teacher, k = {self.k})", _join(self.a_star)
            )
        if any(abs(a) < MIN_ABS_A_STAR for a in self.a_star):
            raise ConfigError("a_star", f"numbers with {MIN_ABS_A_STAR} <= |a*_i| <= 10", _join(self.a_star))
        if len(self.angles) != self.k:
            raise ConfigError(
                "angles",
                f"{self.k} comma-separated angles in degrees (one per teacher, k = {self.k})",
                _join(self.angles),
            )
        if self.teachers == "planar" and self.k > 1:
            _check_planar(self.angles)
        if self.teachers == "random" and self.k > 1 and self.sep > max_random_sep(self.d, self.k):
            raise ConfigError(
                "sep",
                f"a number in [0, {max_random_sep(self.d, self.k):g}] for k = {self.k} random lines in d = {self.d}",
                self.sep,
            )
        if (self.algo == "paper" or self.symmetric == "yes") and self.m % 2:
            raise ConfigError("m", "an even integer when algo=paper or symmetric=yes (neurons come in pairs)", self.m)

    # ---- flat string mapping (URL, CLI, saved runs) ----
    def to_mapping(self) -> dict[str, str]:
        return {name: encode_value(getattr(self, name)) for name in PARAMS}

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str]) -> Config:
        """Strict: every key must be a known parameter and every value valid."""
        unknown = sorted(set(mapping) - set(PARAMS))
        if unknown:
            raise ConfigError(unknown[0], "a known parameter: " + ", ".join(PARAMS))
        values = {name: parse_value(PARAMS[name], text) for name, text in mapping.items()}
        return cls(**_fill_lists(values))

    def replace(self, **changes) -> Config:
        values = dataclasses.asdict(self) | changes
        if "k" in changes:  # list parameters follow a changed k unless given too
            for name in ("a_star", "angles"):
                if name not in changes:
                    values.pop(name)
        return Config(**_fill_lists(values))

    def canonical(self) -> Config:
        """The same run with parameters that do not affect it reset to their defaults."""
        changes = {}
        base = Config()
        if self.teachers != "random":
            changes["sep"] = base.sep
        if self.teachers != "planar":
            changes["angles"] = default_angles(self.k)
        if self.data != "samples":
            changes["n"] = base.n
        if self.algo != "paper":
            changes["eta1"] = base.eta1
        else:
            changes["symmetric"] = "yes"
        if self.lam == 0:  # lam * lam_decay**epoch is 0 whatever the decay
            changes["lam_decay"] = base.lam_decay
        return dataclasses.replace(self, **changes)

    def key(self) -> str:
        """Hash of the canonical config and the engine version: cache file names."""
        text = json.dumps(self.canonical().to_mapping(), sort_keys=True) + "|engine=" + ENGINE_VERSION
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def to_json(self) -> str:
        return json.dumps(self.to_mapping(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Config:
        return cls.from_mapping(json.loads(text))

    @property
    def total_steps(self) -> int:
        """Gradient descent steps: epochs x steps."""
        return self.epochs * self.steps

    @property
    def stage_steps(self) -> int:
        """Steps recorded before gradient descent: the paper algorithm's stages 1 and 2."""
        return 2 if self.algo == "paper" else 0


def max_random_sep(d: int, k: int) -> float:
    """Largest sep (degrees) that rejection sampling of k random lines in R^d reaches reliably.

    k <= d lines can always be made orthogonal, but random draws rarely are; this bound keeps
    the sampler fast (see teachers.random_teachers) and is documented in the error message.
    """
    if k <= 1:
        return 90.0
    # Random unit vectors in R^d have |cos| ~ 1/sqrt(d): in high d, lines this far apart are
    # common. In low d, k lines fit at 180/k degrees in a plane; half of that is reached by
    # restarted rejection sampling for every k <= MAX_K (checked in the tests).
    high_d = math.degrees(math.acos(min(1.0, 2.2 / math.sqrt(d))))
    return float(min(80.0, max(high_d, 90.0 / k)))


def _check(p: Param, value):
    if p.kind == "choice":
        if value not in p.choices:
            raise ConfigError(p.name, p.allowed, value)
        return value
    if p.kind == "floats":
        try:
            vals = tuple(float(v) for v in value)
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(p.name, p.allowed, value) from None
        if not vals or any(not math.isfinite(v) or v < p.lo or v > p.hi for v in vals):
            raise ConfigError(p.name, p.allowed, _join(vals))
        return vals
    if p.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(p.name, p.allowed, value)
        if isinstance(value, float) and not value.is_integer():  # also nan and inf, which int() raises on
            raise ConfigError(p.name, p.allowed, value)
        value = int(value)
    else:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(p.name, p.allowed, value)
        try:
            value = float(value)
        except OverflowError:  # an int too large for a float
            raise ConfigError(p.name, p.allowed, value) from None
        if not math.isfinite(value):
            raise ConfigError(p.name, p.allowed, value)
    if value < p.lo or value > p.hi:
        raise ConfigError(p.name, p.allowed, value)
    return value


def _check_planar(angles) -> None:
    lines = sorted(a % 180.0 for a in angles)
    gaps = [b - a for a, b in itertools.pairwise(lines)] + [lines[0] + 180.0 - lines[-1]]
    if min(gaps) < MIN_LINE_SEP_DEG:
        raise ConfigError(
            "angles",
            f"angles whose teacher lines differ by at least {MIN_LINE_SEP_DEG:g} degree (modulo 180)",
            _join(angles),
        )


def encode_value(value) -> str:
    """A parameter value as the text of the flat mapping (exact for floats)."""
    if isinstance(value, tuple):
        return _join(value)
    if isinstance(value, float):
        return _num(value)
    return str(value)


def _num(x: float) -> str:
    """Shortest exact text for a float: 0.1 -> '0.1', 2.0 -> '2'."""
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _join(values) -> str:
    try:
        return ",".join(_num(float(v)) for v in values)
    except (TypeError, ValueError):
        return str(values)


def parse_value(p: Param, text) -> object:
    """Parse one parameter from text; raise ConfigError naming it on any problem."""
    if not isinstance(text, str):
        raise ConfigError(p.name, p.allowed, text)
    s = text.strip()
    if p.kind == "choice":
        if s not in p.choices:
            raise ConfigError(p.name, p.allowed, text)
        return s
    if p.kind == "floats":
        parts = [t.strip() for t in s.split(",")]
        try:
            vals = tuple(float(t) for t in parts)
        except ValueError:
            raise ConfigError(p.name, p.allowed, text) from None
        return _check(p, vals)
    try:
        x = float(s)
    except ValueError:
        raise ConfigError(p.name, p.allowed, text) from None
    if p.kind == "int":
        if not math.isfinite(x) or x != int(x):
            raise ConfigError(p.name, p.allowed, text)
        return _check(p, int(x))
    return _check(p, x)


def _fill_lists(values: dict) -> dict:
    """Give a_star and angles defaults that fit k when they are not given."""
    k = values.get("k", Config.k)
    if "a_star" not in values and isinstance(k, int):
        values["a_star"] = default_a_star(k)
    if "angles" not in values and isinstance(k, int):
        values["angles"] = default_angles(k)
    return values


def parse_lenient(mapping: Mapping[str, object]) -> tuple[Config, list[str]]:
    """Read untrusted parameters (a link): always a valid Config plus messages, never raises.

    Unknown keys are ignored silently. A repeated key (a list value) uses its last value.
    An invalid value is replaced by its default with a message naming the parameter and
    its allowed range; a combination that does not fit (e.g. a_star of the wrong length)
    falls back parameter by parameter.
    """
    messages: list[str] = []
    values: dict[str, object] = {}
    for name, p in PARAMS.items():
        if name not in mapping:
            continue
        raw = mapping[name]
        if isinstance(raw, list | tuple):
            raw = raw[-1] if raw else ""
        try:
            values[name] = parse_value(p, raw)
        except ConfigError as e:
            messages.append(_message(e))
        except Exception:  # noqa: BLE001 - an untrusted value must never escape as a traceback
            messages.append(_message(ConfigError(name, p.allowed, repr(raw)[:60])))
    # Combination checks: drop the offending parameter and retry, a few rounds at most.
    for _ in range(len(PARAMS) + 1):
        try:
            return Config(**_fill_lists(dict(values))), messages
        except ConfigError as e:
            messages.append(_message(e))
            bad = e.param
            if bad == "k" and "k" not in values:
                bad = "d"
            if bad not in values:  # a derived list (defaults for k) did not fit: reset k
                bad = "k" if "k" in values else next(iter(values), None)
            if bad is None:
                break
            if bad != e.param:  # a value the link gave is dropped: say so too
                dropped = ConfigError(bad, f"consistent with {e.param}, {e.allowed}", encode_value(values[bad]))
                messages.append(_message(dropped))
            values.pop(bad)
    return Config(), messages


def _message(e: ConfigError) -> str:
    shown = "" if e.value is None else f" {str(e.value)[:60]!r} is not valid:"
    return f"Parameter `{e.param}`:{shown} must be {e.allowed}; using the default instead."
