"""The one validated run configuration, shared by the URL, the CLI and saved runs.

Every parameter is declared once in ``featviz.params.PARAMS`` (re-exported here): kind,
default, range, help, widget label and step, and the rule for when it matters; the canonical
form (cache keys) derives from it. ``Config`` is frozen and validates itself; it round-trips
exactly through a flat ``str -> str`` mapping (``to_mapping`` / ``from_mapping``). ``parse_lenient`` is the
forgiving reader for untrusted input (links): it never raises, it falls back to defaults and
returns one message per rejected value (``rejected`` words them, for every caller).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from featviz.params import (  # noqa: F401 - re-exported: the config's vocabulary
    GROUPS,
    MAX_K,
    MAX_M,
    MIN_ABS_A_STAR,
    MIN_LINE_SEP_DEG,
    PARAMS,
    ConfigError,
    Param,
    default_a_star,
    default_angles,
    reason,
    rejected,
)

ENGINE_VERSION = "3"


# The parameters that Config's rules across parameters read (__post_init__): a link whose values
# conflict leaves out some of these, never others (at most 2**9 combinations to try).
RULE_PARAMS = ("d", "k", "teachers", "sep", "angles", "a_star", "m", "symmetric", "algo")


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
        if self.teachers == "orthonormal" and self.k > self.d:  # random and planar lines fit any d >= 2
            raise ConfigError(
                "k", f"an integer in [1, d] = [1, {self.d}] for orthonormal teachers (at most d of them)", self.k
            )
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
        """The same run with the parameters that do not affect it (Param.when) reset."""
        unused = {p.name: p.unused_value(self.k) for p in PARAMS.values() if not p.matters(self)}
        return dataclasses.replace(self, **unused)

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
    """Give the per-teacher lists (a_star, angles) defaults that fit k when they are not given."""
    k = values.get("k", Config.k)
    for p in PARAMS.values():
        if p.per_teacher and p.name not in values and isinstance(k, int):
            values[p.name] = p.per_teacher(k)
    return values


def parse_lenient(mapping: Mapping[str, object]) -> tuple[Config, list[str]]:
    """Read untrusted parameters (a link): always a valid Config plus messages, never raises.

    Unknown keys are ignored silently. A repeated key (a list value) uses its last value.
    An invalid value is replaced by its default with a message naming the parameter and its
    allowed range. Values that are valid one by one but conflict (k = 4 orthonormal teachers in
    d = 2) cost the fewest of them: the first that, left out, makes the rest consistent, with
    one message naming the conflict; every other value of the link is kept.
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
            messages.append(rejected(e))
        except Exception:  # noqa: BLE001 - an untrusted value must never escape as a traceback
            messages.append(rejected(ConfigError(name, p.allowed, repr(raw)[:60])))
    try:
        return Config(**_fill_lists(dict(values))), messages
    except ConfigError as e:
        conflict = e
    # The parameter the rule names first, then the others, later parameters before earlier ones.
    order = [n for n in values if n == conflict.param]
    order += [n for n in reversed(values) if n != conflict.param and n in RULE_PARAMS]
    for size in range(1, len(order) + 1):
        for left_out in itertools.combinations(order, size):
            try:
                cfg = Config(**_fill_lists({n: v for n, v in values.items() if n not in left_out}))
            except ConfigError:
                continue
            return cfg, messages + [_conflict_message(conflict, name, values[name]) for name in left_out]
    return Config(), messages  # not reached: the defaults of RULE_PARAMS fit together and with anything


def _conflict_message(conflict: ConfigError, name: str, value: object) -> str:
    if name == conflict.param:
        return rejected(conflict)
    why = ConfigError(name, f"consistent with the link's other values ({conflict})", encode_value(value))
    return rejected(why)
