"""Sweeps: a grid over one or two config parameters, its cells trained (batched, cached) and
each cell summarised by the outcomes that show the paper's regimes.

A grid axis is written ``name=values`` with values either a list ``0,0.003,0.01`` or a range
``lin:START:STOP:COUNT`` / ``log:START:STOP:COUNT`` (both ends included). Any numeric config
parameter can vary (the int and float ones of ``featviz.config.PARAMS``). A grid is checked
before anything trains; every problem is a ``ConfigError`` naming the parameter and what is
allowed. Cells are stored in the same disk cache as single runs (``featviz.cache``), so cached
cells are skipped and a sweep warms the Playground.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from featviz import batch, cache, engine
from featviz.budget import BudgetError, budget_limits, check_budget, work_of
from featviz.config import PARAMS, Config, ConfigError
from featviz.metrics import ALIGNED_DEG, DEAD
from featviz.run import Run
from featviz.settings import env_number

MAX_AXES = 2
# At most this many cells in one sweep: a 20 × 20 map. Beyond it a page of results stops being
# readable and the disk cache (500 MB by default) starts evicting the sweep's own cells.
MAX_CELLS = 400
# The sum of a sweep's cells' work (config.work_of) is capped at this multiple of the single-run
# cap (FEATVIZ_MAX_WORK): batched cells train about 4× faster, so a full sweep costs about
# what the largest single runs cost. FEATVIZ_MAX_SWEEP_WORK overrides the product.
SWEEP_WORK_FACTOR = 5.0
DEFAULT_CHUNK = 64  # cells per batch (and per Ray task)

NUMERIC_PARAMS = tuple(name for name, p in PARAMS.items() if p.kind in ("int", "float"))

# Outcomes per cell, in table order, with what each means (also the CLI's --help).
OUTCOMES: dict[str, str] = {
    "aligned_mass": f"fraction of the student's mass |a_j||w_j| within {ALIGNED_DEG:g}° of a teacher line",
    "mse": "final exact population mse",
    "mse_per_lam2": "final mse / λ², λ in force at the end (NaN when λ = 0)",
    "max_live_angle_deg": "largest angle (degrees) between a live (not dead) neuron and its teacher line",
    "dead": f"neurons with mass below {DEAD:g}",
    "captured_error": "worst |captured signed mass − a*_i| over the teachers",
    "far_mass": "Σ_j mass_j δ_j² (δ in radians): mass far from every teacher line",
    "diverged": "true when training diverged",
    "diverged_step": "the step where it did (−1 if not)",
}


def max_sweep_work() -> float:
    return env_number("FEATVIZ_MAX_SWEEP_WORK", SWEEP_WORK_FACTOR * budget_limits()[0])


# ---- grid spec ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    name: str
    values: tuple[float, ...]
    text: str = ""  # as written (for links and messages)


def _allowed_axis() -> str:
    return "NAME=V1,V2,... or NAME=lin:START:STOP:COUNT or NAME=log:START:STOP:COUNT, NAME one of " + ", ".join(
        NUMERIC_PARAMS
    )


def parse_axis(text: str) -> Axis:
    """One axis from `name=values`; raises ConfigError naming the problem."""
    name, sep, spec = text.partition("=")
    name, spec = name.strip(), spec.strip()
    if not sep or not name or not spec:
        raise ConfigError("grid", _allowed_axis(), text)
    if name not in PARAMS:
        raise ConfigError("grid", "a known parameter: " + ", ".join(NUMERIC_PARAMS), name)
    p = PARAMS[name]
    if p.kind not in ("int", "float"):
        raise ConfigError(name, "a numeric parameter to vary in a grid (" + ", ".join(NUMERIC_PARAMS) + ")", text)
    head = spec.split(":", 1)[0].strip().lower()
    if head in ("lin", "log"):
        values = _range(name, head, spec)
    else:
        try:
            values = [float(v) for v in spec.split(",")]
        except ValueError:
            raise ConfigError(name, "comma-separated numbers in a grid, or " + _allowed_axis(), spec) from None
    if p.kind == "int":
        if head in ("lin", "log"):
            values = [float(round(v)) for v in values]  # a range of integers: rounded
        elif any(not math.isfinite(v) or v != int(v) for v in values):
            raise ConfigError(name, p.allowed, spec)
    if len(values) > MAX_CELLS:
        raise ConfigError(name, f"at most {MAX_CELLS} values (the cap on cells per sweep)", len(values))
    for v in values:  # each value alone (combinations are checked per cell)
        if not math.isfinite(v) or not (p.lo <= v <= p.hi):
            raise ConfigError(name, p.allowed + " in a grid", _num(v))
    seen: set[float] = set()
    for v in values:
        if v in seen:
            raise ConfigError(name, "distinct values in a grid (one is repeated" + _int_note(p, head) + ")", _num(v))
        seen.add(v)
    return Axis(name, tuple(int(v) if p.kind == "int" else float(v) for v in values), text)


def _int_note(p, head: str) -> str:
    return "; an integer range is rounded, so use fewer points" if p.kind == "int" and head in ("lin", "log") else ""


def _range(name: str, head: str, spec: str) -> list[float]:
    parts = spec.split(":")
    allowed = f"{head}:START:STOP:COUNT with numbers START, STOP and an integer COUNT >= 2"
    if len(parts) != 4:
        raise ConfigError(name, allowed, spec)
    try:
        start, stop = float(parts[1]), float(parts[2])
        count = int(parts[3])
    except ValueError:
        raise ConfigError(name, allowed, spec) from None
    if count < 2 or not math.isfinite(start) or not math.isfinite(stop):
        raise ConfigError(name, allowed, spec)
    if count > MAX_CELLS:
        raise ConfigError(name, f"at most {MAX_CELLS} values (the cap on cells per sweep)", count)
    if head == "log":
        if start <= 0 or stop <= 0:
            raise ConfigError(name, "positive START and STOP on a log range (use lin: or a list to include 0)", spec)
        vals = np.geomspace(start, stop, count)
    else:
        vals = np.linspace(start, stop, count)
    vals[0], vals[-1] = start, stop  # the ends exactly as written
    return [float(_round_sig(v)) for v in vals]


def _round_sig(x: float, digits: int = 12) -> float:
    """Range points rounded to 12 significant digits, so a link's value reads as written."""
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


@dataclass(frozen=True)
class Grid:
    base: Config
    axes: tuple[Axis, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a.values) for a in self.axes)

    def cells(self) -> list[Config]:
        """Every cell's config, the first axis outermost; raises ConfigError naming a bad cell."""
        out = []
        for combo in np.ndindex(*self.shape):
            changes = {a.name: a.values[i] for a, i in zip(self.axes, combo, strict=True)}
            try:
                out.append(self.base.replace(**changes))
            except ConfigError as e:
                where = ", ".join(f"{n}={_num(v)}" for n, v in changes.items())
                raise ConfigError(e.param, f"{e.allowed} (in the cell {where})", e.value) from None
        return out


def make_grid(base: Config, axis_texts: Sequence[str]) -> Grid:
    """Parse and check a grid; raises ConfigError (bad axis or cell) or BudgetError (too big)."""
    if not axis_texts:
        raise ConfigError("grid", "one or two --grid axes, e.g. lam=0,0.01,0.03")
    if len(axis_texts) > MAX_AXES:
        raise ConfigError("grid", f"at most {MAX_AXES} axes", len(axis_texts))
    axes = tuple(parse_axis(t) for t in axis_texts)
    if len(axes) == 2 and axes[0].name == axes[1].name:
        raise ConfigError("grid", "two different parameters on the two axes", axes[0].name)
    grid = Grid(base, axes)
    n = math.prod(grid.shape)
    if n > MAX_CELLS:
        raise ConfigError(
            "grid", f"at most {MAX_CELLS} cells ({' × '.join(map(str, grid.shape))} = {n}); use fewer values", n
        )
    cells = grid.cells()
    for cfg in cells:
        check_budget(cfg)
    total, cap = sum(work_of(c) for c in cells), max_sweep_work()
    if total > cap:
        raise BudgetError(
            f"This sweep is too large for this server: its {n} cells add up to work {total:.3g} "
            f"(m*(m+k)*d*epochs*steps summed), over the cap {cap:.3g}. Use fewer values, or reduce "
            "steps, epochs, m or d."
        )
    return grid


# ---- outcomes ----------------------------------------------------------------------------


def outcomes(run: Run) -> dict[str, float | int | bool]:
    """The outcomes of one cell, at its last recorded snapshot."""
    met = run.metrics
    mass = met.mass[-1]
    angle = met.line_angle_deg[-1]
    live = met.fate[-1] != 1  # metrics.DEAD fate code
    total = float(mass.sum())
    lam_end = float(run.lam[-1])
    mse = float(run.mse[-1])
    return {
        "aligned_mass": float(mass[angle <= ALIGNED_DEG].sum() / total) if total > 0 else 0.0,
        "mse": mse,
        "mse_per_lam2": mse / lam_end**2 if lam_end > 0 else float("nan"),
        "max_live_angle_deg": float(angle[live].max()) if live.any() else float("nan"),
        "dead": int(met.counts[-1, 1]),
        "captured_error": float(np.abs(met.captured[-1] - run.teacher_a).max()),
        "far_mass": float(met.far_mass[-1]),
        "diverged": run.status == "diverged",
        "diverged_step": int(run.diverged_step),
    }


def config_row(cfg: Config) -> dict[str, object]:
    """Every parameter under its link name: numbers as numbers, lists as their link text."""
    row: dict[str, object] = {}
    for name, p in PARAMS.items():
        v = getattr(cfg, name)
        row[name] = ",".join(_num(x) for x in v) if p.kind == "floats" else v
    return row


# ---- running a sweep ---------------------------------------------------------------------


@dataclass
class SweepResult:
    grid: Grid
    rows: list[dict] = field(default_factory=list)  # one per cell, grid order: config, key, outcomes
    cached: int = 0
    trained: int = 0
    seconds: float = 0.0

    def table(self):
        """The rows as a pandas DataFrame (pandas is imported here only)."""
        import pandas as pd

        return pd.DataFrame(self.rows)

    def summary(self) -> dict:
        return {
            "cells": len(self.rows),
            "seconds": round(self.seconds, 3),
            "cached": self.cached,
            "trained": self.trained,
            "diverged": sum(bool(r["diverged"]) for r in self.rows),
            "shape": list(self.grid.shape),
        }


def chunks(cells: Sequence[Config], size: int = DEFAULT_CHUNK) -> list[list[Config]]:
    """Cells to train, as batches: one batch_key each, at most `size` cells; cells the batch
    kernel does not train (algo=paper, data=samples) come alone."""
    groups: dict[tuple, list[Config]] = {}
    singles: list[list[Config]] = []
    for cfg in cells:
        if batch.eligible(cfg):
            groups.setdefault(batch.batch_key(cfg), []).append(cfg)
        else:
            singles.append([cfg])
    out = [g[i : i + size] for g in groups.values() for i in range(0, len(g), size)]
    return out + singles


def train_chunk(cells: Sequence[Config], threads: int = 1) -> list[Run]:
    """One chunk of chunks(): batched when it can be, else engine.train."""
    if len(cells) == 1 and not batch.eligible(cells[0]):
        return [engine.train(cells[0])]
    return batch.train_batch(cells, threads=threads)


def run_sweep(
    grid: Grid,
    *,
    use_cache: bool = True,
    cache_root=None,
    chunk: int = DEFAULT_CHUNK,
    threads: int = 1,
    executor: Callable[[list[list[Config]]], object] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Train the grid's missing cells and summarise every cell.

    executor, when given, maps a list of chunks to an iterable of (chunk index, runs) in any
    order (ray_backend.executor sends them to a Ray cluster); by default chunks train here, one
    after another. Runs are stored in the disk cache here, by the caller's process."""
    t0 = time.perf_counter()
    cells = grid.cells()
    result = SweepResult(grid)
    by_key: dict[str, dict] = {}
    todo: list[Config] = []
    for cfg in cells:
        run = cache.load(cfg, cache_root) if use_cache else None
        if run is not None:
            by_key[cfg.key()] = outcomes(run)
            result.cached += 1
        elif cfg.key() not in {c.key() for c in todo}:
            todo.append(cfg)
    work = chunks(todo, chunk)
    done = result.cached
    if progress is not None:
        progress(done, len(cells))
    results = executor(work) if executor is not None else ((i, train_chunk(ch, threads)) for i, ch in enumerate(work))
    for i, runs in results:
        for cfg, run in zip(work[i], runs, strict=True):
            if use_cache:
                cache.store(run, cache_root)
            by_key[cfg.key()] = outcomes(run)
            result.trained += 1
            done += 1
        if progress is not None:
            progress(min(done, len(cells)), len(cells))
    for cfg in cells:
        result.rows.append(config_row(cfg) | {"key": cfg.key()} | by_key[cfg.key()])
    result.seconds = time.perf_counter() - t0
    return result


def write_table(result: SweepResult, path: str) -> None:
    """.parquet (pyarrow) or .csv, by the extension; raises ValueError for another one."""
    lower = path.lower()
    if lower.endswith(".parquet"):
        result.table().to_parquet(path, index=False)
    elif lower.endswith(".csv"):
        result.table().to_csv(path, index=False)
    else:
        raise ValueError(f"--out must end in .parquet or .csv (got {path!r})")
