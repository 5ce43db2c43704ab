"""The compute-budget policy: how much work a run is, which runs a server refuses, which are slow.

Work is counted as m·(m+k)·d per gradient step (n replaces m when larger, for data=samples),
times the number of steps: the cost of the exact step's (m, m+k) kernel. The caps are read
from FEATVIZ_MAX_WORK and FEATVIZ_MAX_SNAPSHOT_FLOATS; the thresholds below are measured on
a 2-core machine.
"""

from __future__ import annotations

import sys

from featviz.config import Config
from featviz.engine import needs_torch
from featviz.settings import env_number

DEFAULT_MAX_WORK = 2e10  # about m·(m+k)·d·total_steps; ~ a minute on 2 cores
DEFAULT_MAX_SNAPSHOT_FLOATS = 2e7  # frames·m·d, i.e. 160 MB of float64
# Runs below this work (the default run is 4e7, about 0.3 s) never queue behind long ones:
# a classroom's quick runs stay quick while two big runs train.
QUICK_WORK = 3e8
# A run this heavy takes about a second or more.
SLOW_WORK = 1.5e8


class BudgetError(ValueError):
    """A valid config whose run is too large for this server.

    Its text is shown as Markdown (st.error): products are written with '·', never a bare '*'.
    """


def work_of(cfg: Config) -> float:
    per_step = cfg.m * (cfg.m + cfg.k) * cfg.d
    if cfg.data == "samples":
        per_step = max(per_step, cfg.n * (cfg.m + cfg.k) * cfg.d)
    return float(per_step) * cfg.total_steps


def budget_limits() -> tuple[float, float]:
    """(max work, max snapshot floats), overridable by FEATVIZ_MAX_WORK / FEATVIZ_MAX_SNAPSHOT_FLOATS."""
    return (
        env_number("FEATVIZ_MAX_WORK", DEFAULT_MAX_WORK),
        env_number("FEATVIZ_MAX_SNAPSHOT_FLOATS", DEFAULT_MAX_SNAPSHOT_FLOATS),
    )


def check_budget(cfg: Config) -> None:
    """Raise BudgetError, saying what to reduce, when cfg is over either cap."""
    max_work, max_floats = budget_limits()
    work = work_of(cfg)
    if work > max_work:
        raise BudgetError(
            f"This run is too large for this server: m·(m+k)·d·epochs·steps = {work:.3g} "
            f"exceeds the cap {max_work:.3g}. Reduce steps, epochs, m or d"
            + (" (or n)" if cfg.data == "samples" else "")
            + "."
        )
    floats = cfg.frames * cfg.m * cfg.d
    if floats > max_floats:
        raise BudgetError(
            f"Snapshots would hold frames·m·d = {floats:.3g} numbers, over the cap "
            f"{max_floats:.3g}. Reduce frames, m or d."
        )


def likely_slow(cfg: Config) -> bool:
    """True when training cfg will take about a second or more: a heavy run, or the process's
    first run that needs torch (importing it takes about 2 s; small population runs do not)."""
    return work_of(cfg) >= SLOW_WORK or (needs_torch(cfg) and "torch" not in sys.modules)
