"""Fork a run at a frame: continue gradient descent from a recorded snapshot with new settings.

A ``Fork`` names its parent (a ``Config`` or another ``Fork``), the global step of the parent's
frame it branches at, and the settings it changes (λ, λ decay, lr, epochs, steps). Its run
(``train_fork``) holds the parent's frames up to and including the branch, then the fork's,
the steps continuing from the branch step. After the branch, training is exactly what the
changed config would do from that state: λ follows the changed schedule λ·decay^epoch with
epochs counted from the run's start, so a fork that changes nothing continues as its parent.

A fork is a link: the parent's config, then ``fork.step`` and ``fork.<name>`` per change
(``fork2.*`` for a fork of that fork, and so on), and its ``key()`` names it in the caches.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from featviz.config import ENGINE_VERSION, PARAMS, Config, ConfigError, encode_value, parse_value
from featviz.engine import Start, train
from featviz.run import PER_FRAME, Run

FORK_PARAMS = ("lam", "lam_decay", "lr", "epochs", "steps")  # what a fork may change
_LEVEL = re.compile(r"fork(\d*)\.(\w+)")


def _prefix(level: int) -> str:
    """Link prefix of the level-th fork in a chain (1-based): fork., fork2., fork3., ..."""
    return "fork." if level == 1 else f"fork{level}."


@dataclass(frozen=True)
class Fork:
    """A run continued from its parent's frame at global step `step`, with `changes`."""

    parent: Config | Fork
    step: int
    changes: tuple[tuple[str, object], ...] = ()  # (name, value), sorted by name

    def __post_init__(self) -> None:
        level = self.depth
        names = [name for name, _ in self.changes]
        for name in names:
            if name not in FORK_PARAMS:
                raise ConfigError(f"{_prefix(level)}{name}", "a setting a fork can change: " + ", ".join(FORK_PARAMS))
        if len(set(names)) != len(names):
            raise ConfigError(f"{_prefix(level)}{names[0]}", "given once")
        if isinstance(self.step, bool) or not isinstance(self.step, int | np.integer) or self.step < 0:
            raise ConfigError(f"{_prefix(level)}step", "a non-negative integer: the step of a frame", self.step)
        object.__setattr__(self, "step", int(self.step))
        object.__setattr__(self, "changes", tuple(sorted(self.changes)))
        try:
            cfg = self.base.replace(**dict(self.changes))
        except ConfigError as e:
            raise ConfigError(f"{_prefix(level)}{e.param}", e.allowed, e.value) from None
        # The changed values as the config holds them (e.g. ints for epochs), so equal forks are equal.
        object.__setattr__(self, "changes", tuple((n, getattr(cfg, n)) for n, _ in self.changes))
        end = cfg.stage_steps + cfg.total_steps
        if self.step >= end and not {"epochs", "steps"} & set(names):
            raise ConfigError(f"{_prefix(level)}step", f"a step before the end of the run ({end})", self.step)
        if self.step >= end:
            raise ConfigError(
                f"{_prefix(level)}epochs",
                f"enough epochs*steps to go past the branch step {self.step} (the fork ends at step {end})",
                cfg.epochs,
            )

    @classmethod
    def of(cls, parent: Config | Fork, step: int, **changes) -> Fork:
        return cls(parent, step, tuple(changes.items()))

    @property
    def depth(self) -> int:
        """1 for a fork of a plain run, 2 for a fork of a fork, ..."""
        return 1 + (self.parent.depth if isinstance(self.parent, Fork) else 0)

    @property
    def root(self) -> Config:
        return self.parent.root if isinstance(self.parent, Fork) else self.parent

    @property
    def base(self) -> Config:
        """The config in force before the branch: the parent's."""
        return config_of(self.parent)

    @property
    def config(self) -> Config:
        """The config in force after the branch: the parent's with the changes."""
        return self.base.replace(**dict(self.changes))

    def chain(self) -> list[Fork]:
        """The forks from the root's first one to this one."""
        return (self.parent.chain() if isinstance(self.parent, Fork) else []) + [self]

    def to_mapping(self) -> dict[str, str]:
        """The link: the root config's parameters, then fork.step and fork.<name> per level."""
        out = self.root.to_mapping()
        for level, f in enumerate(self.chain(), 1):
            out[f"{_prefix(level)}step"] = str(f.step)
            out |= {f"{_prefix(level)}{n}": encode_value(v) for n, v in f.changes}
        return out

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str]) -> Config | Fork:
        """Strict reader of a link (every value valid): a Config when it has no fork.* keys."""
        levels: dict[int, dict[str, str]] = {}
        plain = {}
        for key, text in mapping.items():
            m = _LEVEL.fullmatch(key)
            if m is None:
                plain[key] = text
            else:
                levels.setdefault(int(m.group(1) or 1), {})[m.group(2)] = text
        spec: Config | Fork = Config.from_mapping(plain)
        for level in range(1, len(levels) + 1):
            given = levels.get(level)
            if given is None or "step" not in given:
                raise ConfigError(f"{_prefix(level)}step", "given for every fork level, from fork.step on")
            step_text = given.pop("step")
            try:
                step = int(step_text)
            except ValueError:
                raise ConfigError(f"{_prefix(level)}step", "an integer: the step of a frame", step_text) from None
            changes = []
            for name, text in given.items():
                if name not in FORK_PARAMS:
                    raise ConfigError(
                        f"{_prefix(level)}{name}", "a setting a fork can change: " + ", ".join(FORK_PARAMS)
                    )
                try:
                    changes.append((name, parse_value(PARAMS[name], text)))
                except ConfigError as e:
                    raise ConfigError(f"{_prefix(level)}{name}", e.allowed, e.value) from None
            spec = cls(spec, step, tuple(changes))
        if len(levels) and max(levels) != len(levels):
            raise ConfigError(
                f"{_prefix(max(levels))}step",
                f"preceded by every fork level (fork.step ... {_prefix(len(levels) + 1)}step)",
            )
        return spec

    def key(self) -> str:
        """Hash of the parent's key, the branch step and the changes: cache file names."""
        text = json.dumps(
            {"parent": self.parent.key(), "step": self.step, "changes": [(n, encode_value(v)) for n, v in self.changes]}
        )
        return hashlib.sha256((text + "|fork|engine=" + ENGINE_VERSION).encode()).hexdigest()[:32]


def config_of(spec: Config | Fork) -> Config:
    """The config a run of spec trains with (after the last branch, for a fork)."""
    return spec.config if isinstance(spec, Fork) else spec


def branch_steps(parent_run: Run) -> list[int]:
    """The parent's frame steps a fork can branch at: gradient-descent frames before the end."""
    cfg = parent_run.config
    end = cfg.stage_steps + cfg.total_steps
    return [int(s) for s in parent_run.step if cfg.stage_steps <= s < end]


def _steps_text(steps: list[int]) -> str:
    if len(steps) <= 12:
        return ", ".join(map(str, steps))
    return ", ".join(map(str, steps[:6])) + ", …, " + ", ".join(map(str, steps[-4:])) + f" ({len(steps)} steps)"


def train_spec(spec: Config | Fork, **kw) -> Run:
    """The run of a config or a fork, trained from scratch (the parents of a fork included)."""
    return train_fork(spec, **kw) if isinstance(spec, Fork) else train(spec, **kw)


def train_fork(
    fork: Fork,
    *,
    parent_run: Run | None = None,
    load: Callable[[Config | Fork], Run] | None = None,
    progress=None,
    should_stop=None,
    progress_every: float = 0.2,
    watch=None,
) -> Run:
    """The fork's run: the parent's frames up to the branch, then the fork's.

    parent_run: the parent's run if at hand (a saved file); else load(parent), by default
    training it. Raises ConfigError naming fork.step, with the valid steps, when the parent
    has no frame at the branch step (or one that cannot be continued).
    """
    if parent_run is None:
        parent_run = (load or train_spec)(fork.parent)
    valid = branch_steps(parent_run)
    if fork.step not in valid:
        near = sorted(sorted(valid, key=lambda s: abs(s - fork.step))[:2])
        raise ConfigError(
            f"{_prefix(fork.depth)}step",
            f"the step of one of the parent's frames (nearest: {', '.join(map(str, near))}): " + _steps_text(valid),
            fork.step,
        )
    i = int(np.flatnonzero(parent_run.step == fork.step)[0])
    start = Start(
        step=fork.step,
        w=parent_run.w[i],
        a=parent_run.a[i],
        alpha=float(parent_run.alpha[i]),
        beta=parent_run.beta[i],
        stage=int(parent_run.stage[i]),
        lam=float(parent_run.lam[i]),
    )
    hooks = dict(progress=progress, should_stop=should_stop, progress_every=progress_every, watch=watch)
    tail = train(fork.config, start=start, **hooks)  # watch sees the branch's own frames
    head = parent_run.frames_subset(range(i))  # the branch frame itself comes (recomputed) with the tail
    frames = {f.name: np.concatenate([getattr(head, f.name), getattr(tail, f.name)]) for f in PER_FRAME}
    return tail.with_frames(frames, config=fork.config, fork=fork.to_mapping())
