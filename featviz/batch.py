"""Cells that share array shapes train together: a fused gradient step compiled with numba.

The exact population step (``featviz.exact``, the same formula as ``state._numpy_step``) is a
dozen elementwise passes over the (m, m+k) matrices of cosines and angles; in NumPy or torch
each pass reads and writes memory and costs a dispatch. ``fused_step`` makes one pass instead:
for each pair of rows it takes the cosine, the angle, and adds that pair's share to every
gradient at once. Two variants, chosen by size:

  inline  everything in one compiled loop (small problems, where BLAS calls cost more than
          they save); the student-student block is symmetric, so each pair is visited once
  blas    the two matrix products (cosines, and the angle-weighted sum of rows) stay on BLAS,
          the compiled pass does the elementwise part in between (large problems)

``train_batch(configs)`` trains many gd / population cells of one shape in one process: the
same teachers, init, λ schedule, snapshot grid, divergence checks and recorder as
``engine.train``, with every cell's steps in the compiled loop (cells in parallel on
``threads`` threads). Each cell's Run equals ``engine.train(cfg)`` to about 1e-12 (the sums
are taken in another order; ``tests/test_batch.py``) and equals ``train_one(cfg)``, which uses
the same kernel alone, bit for bit.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence

import numba
import numpy as np

from featviz import engine, state
from featviz.config import Config
from featviz.run import STAGE_GD, STAGE_INIT, Run

INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
INV_PI = 1.0 / math.pi
NORM_FLOOR = 1e-150  # as engine._numpy_step: zero rows keep direction ~0 without being inflated

# Above this m*(m+k)*d the cosines and the row sums go to BLAS (bench/bench_sweep.py: the
# inline loop wins below it, BLAS above).
BLAS_ABOVE = 400_000


def eligible(cfg: Config) -> bool:
    """Cells train_batch can train: plain gradient descent on the exact population loss."""
    return cfg.algo == "gd" and cfg.data == "population"


def batch_key(cfg: Config) -> tuple:
    """Cells with the same key share array shapes and a snapshot grid: one batch."""
    return (cfg.d, cfg.m, cfg.k, cfg.total_steps, cfg.frames)


def uses_blas(m: int, k: int, d: int) -> bool:
    return m * (m + k) * d > BLAS_ABOVE


# ---- the compiled kernels ----------------------------------------------------------------


# arccos as a rational approximation (fdlibm's asin/acos coefficients, error about 1e-16): libm's
# acos is a function call with branches, which LLVM cannot vectorise; this is straight-line
# arithmetic. tests/test_batch.py checks it against math.acos on [-1, 1].
_P = (
    1.66666666666666657415e-01,
    -3.25565818622400915405e-01,
    2.01212532134862925881e-01,
    -4.00555345006794114027e-02,
    7.91534994289814532176e-04,
    3.47933107596021167570e-05,
)
_Q = (-2.40339491173441421878e00, 2.02094576023350569471e00, -6.88283971605453293030e-01, 7.70381505559019352791e-02)


@numba.njit(cache=True, nogil=True, inline="always")
def acos(x):
    """arccos(x) for x in [-1, 1], without branches."""
    ax = abs(x)
    small = ax < 0.5
    z = x * x if small else (1.0 - ax) * 0.5
    r = z * (_P[0] + z * (_P[1] + z * (_P[2] + z * (_P[3] + z * (_P[4] + z * _P[5])))))
    r /= 1.0 + z * (_Q[0] + z * (_Q[1] + z * (_Q[2] + z * _Q[3])))
    sq = math.sqrt(z)
    s = x if small else sq
    t = s + s * r  # arcsin(s)
    if small:
        return 0.5 * math.pi - t
    return 2.0 * t if x > 0 else math.pi - 2.0 * t


@numba.njit(cache=True, nogil=True)
def acos_array(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out.flat[i] = acos(x.flat[i])
    return out


@numba.njit(cache=True, nogil=True)
def _geometry(U, c, norms, unit, cn):
    """norms (P,), unit rows (P,d), cn = c |u| / pi (P,); returns csum = sum c|u| / sqrt(2 pi)."""
    P, d = U.shape
    csum = 0.0
    for p in range(P):
        s = 0.0
        for i in range(d):
            s += U[p, i] * U[p, i]
        n = math.sqrt(s)
        norms[p] = n
        inv = 1.0 / max(n, NORM_FLOOR)
        for i in range(d):
            unit[p, i] = U[p, i] * inv
        csum += c[p] * n
        cn[p] = c[p] * n * INV_PI
    return csum * INV_SQRT_2PI


@numba.njit(cache=True, nogil=True)
def _pairs_inline(U, c, m, unit, cn, T1, coef, T2):
    """For student rows j: T1_j = sum_q (pi - t_jq) c_q u_q, coef_j = sum_q sin t_jq cn_q,
    T2_j = sum_q cos t_jq (pi - t_jq) cn_q. Student pairs are symmetric: each is visited once."""
    P, d = U.shape
    T1[:] = 0.0
    coef[:] = 0.0
    T2[:] = 0.0
    for j in range(m):
        for q in range(j, P):
            s = 0.0
            for i in range(d):
                s += unit[j, i] * unit[q, i]
            s = min(max(s, -1.0), 1.0)
            A = acos(-s)  # pi - t
            S = math.sqrt(1.0 - s * s)  # sin t
            sA = s * A
            coef[j] += S * cn[q]
            T2[j] += sA * cn[q]
            w = A * c[q]
            for i in range(d):
                T1[j, i] += w * U[q, i]
            if q < m and q != j:
                coef[q] += S * cn[j]
                T2[q] += sA * cn[j]
                w = A * c[j]
                for i in range(d):
                    T1[q, i] += w * U[j, i]


@numba.njit(cache=True, nogil=True)
def _pairs_elementwise(C, c, m, cn, Ac, coef, T2):
    """The blas variant's middle pass: from the cosines C (m,P) (student block symmetric up to
    rounding; its upper triangle is used), Ac = (pi - t) c_q, coef and T2 as in _pairs_inline."""
    P = C.shape[1]
    coef[:] = 0.0
    T2[:] = 0.0
    for j in range(m):
        for q in range(j, P):
            s = min(max(C[j, q], -1.0), 1.0)
            A = acos(-s)
            S = math.sqrt(1.0 - s * s)
            sA = s * A
            coef[j] += S * cn[q]
            T2[j] += sA * cn[q]
            Ac[j, q] = A * c[q]
            if q < m and q != j:
                coef[q] += S * cn[j]
                T2[q] += sA * cn[j]
                Ac[q, j] = A * c[j]


@numba.njit(cache=True, nogil=True)
def _update(U, c, m, beta, alpha, lr, lam, csum, norms, unit, T1, coef, T2):
    """Assemble the gradients from the pair sums and take the step in place; returns the new alpha."""
    P, d = U.shape
    k1 = 2.0 * alpha * INV_SQRT_2PI
    # cU = sum_p c_p u_p, from the parameters before the step.
    cU = np.zeros(d)
    for p in range(P):
        for i in range(d):
            cU[i] += c[p] * U[p, i]
    shrink = 1.0 - lr * lam
    for j in range(m):
        cf = coef[j] * 1.0 + k1
        wb = 0.0
        for i in range(d):
            wb += U[j, i] * beta[i]
        ga = (T2[j] + cf) * norms[j] + wb
        aj = c[j]
        for i in range(d):
            g = aj * (T1[j, i] * INV_PI + beta[i] + unit[j, i] * cf)
            U[j, i] = U[j, i] * shrink - lr * g
        c[j] = aj * shrink - lr * ga
    for i in range(d):
        beta[i] = beta[i] * (1.0 - 2.0 * lr) - lr * cU[i]
    return alpha - lr * (2.0 * alpha + 2.0 * csum)


@numba.njit(cache=True, nogil=True)
def _step_inline(U, c, m, beta, alpha, lr, lam, norms, unit, cn, T1, coef, T2):
    csum = _geometry(U, c, norms, unit, cn)
    _pairs_inline(U, c, m, unit, cn, T1, coef, T2)
    return _update(U, c, m, beta, alpha, lr, lam, csum, norms, unit, T1, coef, T2)


@numba.njit(cache=True, nogil=True)
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
        alpha = _step_inline(U, c, m, beta, alpha, lr, lams[s], norms, unit, cn, T1, coef, T2)
    return alpha


@numba.njit(cache=True, nogil=True, parallel=True)
def _batch_steps_parallel(U, c, m, beta, alpha, lr, lams, active):
    """Every active cell b takes lams.shape[1] inline steps: U (B,P,d), c (B,P), beta (B,d),
    alpha (B,) updated in place, lr (B,), lams (B,n)."""
    for b in numba.prange(U.shape[0]):
        if active[b]:
            alpha[b] = _cell_steps(U[b], c[b], m, beta[b], alpha[b], lr[b], lams[b])


@numba.njit(cache=True, nogil=True)
def _batch_steps_serial(U, c, m, beta, alpha, lr, lams, active):
    for b in range(U.shape[0]):
        if active[b]:
            alpha[b] = _cell_steps(U[b], c[b], m, beta[b], alpha[b], lr[b], lams[b])


# ---- one step, either variant --------------------------------------------------------------


class StepBuffers:
    """Scratch arrays of one problem size, reused from step to step."""

    def __init__(self, m: int, P: int, d: int):
        self.m = m
        self.norms, self.unit, self.cn = np.empty(P), np.empty((P, d)), np.empty(P)
        self.T1, self.coef, self.T2 = np.empty((m, d)), np.empty(m), np.empty(m)
        self.blas = uses_blas(m, P - m, d)
        if self.blas:
            self.Ac = np.empty((m, P))


def fused_step(U, c, m: int, beta, alpha: float, lr: float, lam: float, buf: StepBuffers | None = None) -> float:
    """One in-place gradient step on state.NumpyState's arrays (U (P,d) = [W; W*], c (P,) =
    [a; -a*], beta (d,)); returns the new alpha. The same step as state._numpy_step."""
    P, d = U.shape
    buf = buf or StepBuffers(m, P, d)
    if not buf.blas:
        return float(_step_inline(U, c, m, beta, alpha, lr, lam, buf.norms, buf.unit, buf.cn, buf.T1, buf.coef, buf.T2))
    csum = _geometry(U, c, buf.norms, buf.unit, buf.cn)
    um = buf.unit[:m]
    C = um @ buf.unit.T  # (m,P) on BLAS
    _pairs_elementwise(C, c, m, buf.cn, buf.Ac, buf.coef, buf.T2)
    np.matmul(buf.Ac, U, out=buf.T1)
    return float(_update(U, c, m, beta, alpha, lr, lam, csum, buf.norms, buf.unit, buf.T1, buf.coef, buf.T2))


# ---- batched training --------------------------------------------------------------------

_parallel_lock = threading.Lock()  # numba's default threading layer runs one parallel region at a time


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
    use_blas = uses_blas(bt.m, bt.k, bt.d)
    bufs = StepBuffers(bt.m, bt.m + bt.k, bt.d) if use_blas else None
    with np.errstate(all="ignore"):
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
                        alpha = fused_step(U, c, bt.m, beta, alpha, bt.lr[b], lams[b, s], bufs)
                    bt.alpha[b] = alpha
            elif threads > 1:
                with _parallel_lock:
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
