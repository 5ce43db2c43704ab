"""Cells that share array shapes train together, stepped by the compiled kernel of featviz.kernel.

``train_batch(configs)`` trains many gd / population cells of one shape in one process: the
same teachers, init, λ schedule, snapshot grid, divergence checks and recorder as
``engine.train``, and the same step (``featviz.kernel``): small cells take their steps in one
compiled loop over cells (in parallel on ``threads`` threads), large ones step one by one with
the kernel's blas variant. Each cell's Run equals ``engine.train(cfg)`` bit for bit
(``tests/test_batch.py``), alone, in any batch and on any number of threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numba
import numpy as np

from featviz import engine, kernel, state
from featviz.config import Config
from featviz.run import STAGE_GD, STAGE_INIT, Run


def eligible(cfg: Config) -> bool:
    """Cells train_batch can train: plain gradient descent on the exact population loss."""
    return cfg.algo == "gd" and cfg.data == "population"


def batch_key(cfg: Config) -> tuple:
    """Cells with the same key share array shapes and a snapshot grid: one batch."""
    return (cfg.d, cfg.m, cfg.k, cfg.total_steps, cfg.frames)


# ---- many small cells in one compiled loop ----------------------------------------------------


@numba.njit(**kernel.JIT_OPTIONS)
def _cell_steps(U, c, m, beta, alpha, lr, lams):
    """len(lams) inline steps of one cell."""
    P, d = U.shape
    norms = np.empty(P)
    unit = np.empty((P, d))
    cn = np.empty(P)
    T1 = np.empty((m, d))
    coef = np.empty(m)
    T2 = np.empty(m)
    for s in range(lams.shape[0]):
        alpha = kernel.step_inline(U, c, m, beta, alpha, lr, lams[s], norms, unit, cn, T1, coef, T2)
    return alpha


@numba.njit(parallel=True, **kernel.JIT_OPTIONS)
def _batch_steps_parallel(U, c, m, beta, alpha, lr, lams, active):
    """Every active cell b takes lams.shape[1] inline steps: U (B,P,d), c (B,P), beta (B,d),
    alpha (B,) updated in place, lr (B,), lams (B,n)."""
    for b in numba.prange(U.shape[0]):
        if active[b]:
            alpha[b] = _cell_steps(U[b], c[b], m, beta[b], alpha[b], lr[b], lams[b])


@numba.njit(**kernel.JIT_OPTIONS)
def _batch_steps_serial(U, c, m, beta, alpha, lr, lams, active):
    for b in range(U.shape[0]):
        if active[b]:
            alpha[b] = _cell_steps(U[b], c[b], m, beta[b], alpha[b], lr[b], lams[b])


# ---- batched training --------------------------------------------------------------------


class _CellState(state.State):
    """One cell of a batch seen as an engine state, so engine's recorder records it unchanged."""

    def __init__(self, batch: _Batch, b: int, teacher_w, teacher_a):
        self._batch, self._b, self.m = batch, b, batch.m
        self.teacher_w, self.teacher_a = teacher_w, teacher_a

    def params(self):
        bt, b, m = self._batch, self._b, self.m
        return bt.U[b, :m].copy(), bt.c[b, :m].copy(), float(bt.alpha[b]), bt.beta[b].copy()

    def sizes(self) -> tuple[float, ...]:
        W, a, alpha, beta = self.params()
        return float(np.abs(W).max()), float(np.abs(a).max()), abs(alpha), float(np.abs(beta).max())


class _Batch:
    def __init__(self, configs: Sequence[Config]):
        cfg0 = configs[0]
        self.m, self.k, self.d = cfg0.m, cfg0.k, cfg0.d
        B, P = len(configs), cfg0.m + cfg0.k
        self.U = np.empty((B, P, self.d))
        self.c = np.empty((B, P))
        self.beta = np.zeros((B, self.d))
        self.alpha = np.zeros(B)
        self.lr = np.array([cfg.lr for cfg in configs], dtype=float)
        self.states: list[_CellState] = []
        self.basis: list[np.ndarray] = []
        for b, cfg in enumerate(configs):
            # Exactly engine.train's draws: teachers, then the student, from one generator.
            rng = np.random.default_rng(cfg.seed)
            tw, ta, basis = engine.make_teachers(cfg, rng)
            w0, a0 = engine.init_student(cfg, rng)
            self.U[b] = np.concatenate([w0, tw])
            self.c[b] = np.concatenate([a0, -ta])
            self.states.append(_CellState(self, b, tw, ta))
            self.basis.append(basis)


def train_batch(
    configs: Sequence[Config],
    *,
    threads: int = 1,
    should_stop: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Run]:
    """Train cells of one batch_key (gd, population) together; returns their Runs in order.

    threads > 1 runs cells in parallel on numba threads. Raises engine.Cancelled when
    should_stop() turns True (checked between blocks of steps)."""
    if not configs:
        return []
    keys = {batch_key(cfg) for cfg in configs}
    if len(keys) != 1 or not all(eligible(cfg) for cfg in configs):
        raise ValueError("train_batch needs gd / population cells of one shape (batch_key)")
    t0 = time.perf_counter()
    cfg0 = configs[0]
    B, total = len(configs), cfg0.total_steps
    bt = _Batch(configs)
    recs = [engine._Recorder(st, cfg, basis) for st, cfg, basis in zip(bt.states, configs, bt.basis, strict=True)]
    runs: list[Run | None] = [None] * B
    active = np.ones(B, dtype=np.bool_)
    grid = engine.snapshot_steps(0, total, cfg0.frames)
    grid_set = set(grid.tolist())
    # Step numbers where engine.train looks at the state: divergence checks, snapshots, the end.
    events = sorted({s for s in range(engine.CHECK_EVERY, total + 1, engine.CHECK_EVERY)} | grid_set - {0} | {total})
    lam_table = np.array([[engine.lam_at(cfg, s) for s in range(1, total + 1)] for cfg in configs])
    use_blas = kernel.uses_blas(bt.m, bt.k, bt.d)
    bufs = kernel.StepBuffers(bt.m, bt.m + bt.k, bt.d) if use_blas else None
    with np.errstate(all="ignore"), kernel.one_blas_thread():
        for b, rec in enumerate(recs):
            rec.snap(0, STAGE_INIT, configs[b].lam)
        done = 0
        for g in events:
            lams = lam_table[:, done:g]
            if use_blas:
                for b in np.flatnonzero(active):
                    U, c, beta = bt.U[b], bt.c[b], bt.beta[b]
                    alpha = bt.alpha[b]
                    for s in range(lams.shape[1]):
                        alpha = kernel.fused_step(U, c, bt.m, beta, alpha, bt.lr[b], lams[b, s], bufs)
                    bt.alpha[b] = alpha
            elif threads > 1:
                with kernel.parallel_lock:
                    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
                    _batch_steps_parallel(bt.U, bt.c, bt.m, bt.beta, bt.alpha, bt.lr, lams, active)
            else:
                _batch_steps_serial(bt.U, bt.c, bt.m, bt.beta, bt.alpha, bt.lr, lams, active)
            done = g
            for b in np.flatnonzero(active):
                problem = recs[b].problem()
                if problem:
                    runs[b] = recs[b].finish(t0, g, problem, diverged=True)
                    active[b] = False
                elif g in grid_set:
                    recs[b].snap(g, STAGE_GD, lam_table[b, g - 1])
            if should_stop is not None and should_stop():
                raise engine.Cancelled(f"cancelled at step {g}")
            if progress is not None:
                progress(g, total)
            if not active.any():
                break
    seconds = (time.perf_counter() - t0) / B
    for b in range(B):
        if runs[b] is None:
            runs[b] = recs[b].finish(t0, total, "", diverged=False)
        runs[b].train_seconds = seconds  # the batch's time, shared out
    return runs  # type: ignore[return-value]


def train_one(cfg: Config) -> Run:
    """One cell alone through the batch kernel (bit-identical to its run in any batch)."""
    return train_batch([cfg])[0]
