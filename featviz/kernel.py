"""The exact population gradient step, compiled with numba: one kernel for single runs and sweeps.

``engine.train`` (through ``KernelState``) and ``featviz.batch`` (sweep cells) step with the
same compiled functions, so a sweep cell and the same config trained alone are the same run,
bit for bit. The step is the formula of ``featviz.exact`` (PAPER.md section 5) fused with the
update; in NumPy or torch it is a dozen elementwise passes over the (m, m+k) matrices of cosines
and angles, each reading and writing memory. Two variants, chosen by size only (``uses_blas``):

  inline  one compiled loop over the pairs of rows (small problems, where a BLAS call costs more
          than it saves): each pair takes its cosine and angle once and adds its share to every
          gradient; the student-student block is symmetric, so each pair is visited once
  blas    the cosines as one BLAS product of the unit rows with themselves (NumPy calls syrk
          for ``x @ x.T``, so the student block is exactly symmetric); the elementwise part
          (arccos, sqrt, products) row by row on numba threads, writing full coefficient
          matrices; then the gradient sums as BLAS products of those matrices (large problems).
          The pass covers every (i, j), not each unordered pair once: the cosines are exactly
          symmetric, so both give the same bits, and on this machine the pass is bound by
          writing the matrices, where mirroring the upper triangle into the lower cost more
          (1.06 ms against 0.69 ms at d=50, m=500 on one thread) than the arccos it saves

Neither variant sums across threads: every entry of a coefficient matrix is written by one
numba thread, and the BLAS products run on one OpenBLAS thread while a run steps
(``one_blas_thread``): OpenBLAS's threaded products on an AVX-512 machine gave other bits than
its single-threaded ones, and one BLAS thread beside the numba threads is also the faster step.
So a run is the same whatever the process's thread settings (``tests/test_kernel.py`` runs it
with 1 and 2 threads, numba and BLAS alike). Across machines the last bits can differ (NumPy's
and OpenBLAS's SIMD code is chosen by the CPU); ``tests/test_reference_runs.py`` bounds that.
"""

from __future__ import annotations

import contextlib
import math
import threading

import numba
import numpy as np

from featviz import exact
from featviz.settings import env_number
from featviz.state import State

INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
INV_PI = 1.0 / math.pi
NORM_FLOOR = 1e-150  # zero (or underflowed) rows keep direction ~0 without being inflated

# Above this m*(m+k)*d the blas variant steps. Measured on one thread: equal at 50,000 (d=50, m=30),
# the blas variant 2x faster at 190,000 (d=50, m=60); a sweep of small cells steps them in parallel.
BLAS_ABOVE = 100_000
# numba threads of the blas variant's elementwise pass (the bits do not depend on it): 2 unless
# FEATVIZ_PAIR_THREADS says otherwise. Measured at d=50, m=500 (bench/bench_step.py, 2 cores):
# with NumPy's BLAS on its default 2 threads, a second numba thread made a step 8.4 ms instead of
# 3.2 ms, as the two thread pools spun against each other between the calls; with OpenBLAS on one
# thread (as runs now step, one_blas_thread) and two numba threads a step takes 2.2 ms. From
# m*(m+k) = 40,000 (m = 200) on: below it waking a second thread costs more than the pass itself.
PAIR_THREADS = int(env_number("FEATVIZ_PAIR_THREADS", 2))
PARALLEL_FROM = 40_000

# Compiled with error_model="numpy": a float division by zero gives inf instead of raising, so
# the loops have no exception branch and LLVM vectorises them (5x for the arccos pass).
JIT_OPTIONS = {"cache": True, "nogil": True, "error_model": "numpy"}


def uses_blas(m: int, k: int, d: int) -> bool:
    return m * (m + k) * d > BLAS_ABOVE


# ---- arccos ------------------------------------------------------------------------------

# arccos as a rational approximation (fdlibm's asin/acos coefficients, error about 1e-16): libm's
# acos is a function call with branches, which LLVM cannot vectorise; this is straight-line
# arithmetic. tests/test_kernel.py checks it against math.acos on [-1, 1].
_P = (
    1.66666666666666657415e-01,
    -3.25565818622400915405e-01,
    2.01212532134862925881e-01,
    -4.00555345006794114027e-02,
    7.91534994289814532176e-04,
    3.47933107596021167570e-05,
)
_Q = (-2.40339491173441421878e00, 2.02094576023350569471e00, -6.88283971605453293030e-01, 7.70381505559019352791e-02)


@numba.njit(inline="always", **JIT_OPTIONS)
def acos(x):
    """arccos(x) for x in [-1, 1], without branches (selects only)."""
    ax = abs(x)
    small = ax < 0.5
    z = x * x if small else (1.0 - ax) * 0.5
    r = z * (_P[0] + z * (_P[1] + z * (_P[2] + z * (_P[3] + z * (_P[4] + z * _P[5])))))
    r /= 1.0 + z * (_Q[0] + z * (_Q[1] + z * (_Q[2] + z * _Q[3])))
    sq = math.sqrt(z)
    s = x if small else sq
    t = s + s * r  # arcsin(s)
    big = 2.0 * t if x > 0 else math.pi - 2.0 * t
    return 0.5 * math.pi - t if small else big


@numba.njit(**JIT_OPTIONS)
def acos_array(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out.flat[i] = acos(x.flat[i])
    return out


# ---- what both variants share --------------------------------------------------------------


@numba.njit(**JIT_OPTIONS)
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


@numba.njit(**JIT_OPTIONS)
def _update(U, c, m, beta, alpha, lr, lam, csum, norms, unit, T1, coef, T2):
    """Assemble the gradients from the pair sums and take the step in place; returns the new alpha.
    T1_j = sum_q (pi - t_jq) c_q u_q, coef_j = sum_q sin t_jq cn_q, T2_j = sum_q cos t_jq (pi - t_jq) cn_q."""
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


# ---- the inline variant --------------------------------------------------------------------


@numba.njit(**JIT_OPTIONS)
def _pairs_inline(U, c, m, unit, cn, T1, coef, T2):
    """T1, coef, T2 of _update for the student rows j. Student pairs are symmetric: each is visited once."""
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


@numba.njit(**JIT_OPTIONS)
def step_inline(U, c, m, beta, alpha, lr, lam, norms, unit, cn, T1, coef, T2):
    """One inline step in place on U (P,d) = [W; W*], c (P,) = [a; -a*], beta (d,); returns the new alpha."""
    csum = _geometry(U, c, norms, unit, cn)
    _pairs_inline(U, c, m, unit, cn, T1, coef, T2)
    return _update(U, c, m, beta, alpha, lr, lam, csum, norms, unit, T1, coef, T2)


# ---- the blas variant ----------------------------------------------------------------------


@numba.njit(parallel=True, **JIT_OPTIONS)
def _pairs_rows(G, m, A, SS):
    """From the cosines G (P,P), for every student row i and every column j: A = pi - t,
    S = sin t (SS[:m]) and cos t (pi - t) (SS[m:]). Rows in parallel; each entry is written by
    one thread, so the thread count cannot change a bit."""
    P = G.shape[1]
    for i in numba.prange(m):
        g, a_row, s_row, sa_row = G[i], A[i], SS[i], SS[m + i]  # row views: LLVM vectorises the loop
        for j in range(P):
            s = min(max(g[j], -1.0), 1.0)
            a = acos(-s)
            a_row[j] = a
            s_row[j] = math.sqrt(1.0 - s * s)
            sa_row[j] = s * a


@numba.njit(**JIT_OPTIONS)
def _scaled_rows(U, c, V):
    """V = c u, the rows the angle matrix sums."""
    P, d = U.shape
    for p in range(P):
        for i in range(d):
            V[p, i] = c[p] * U[p, i]


_blas_lock = threading.Lock()
_blas_users = 0
_blas_limits = None


@contextlib.contextmanager
def one_blas_thread():
    """OpenBLAS (NumPy's BLAS) on one thread inside, restored when the last of the runs stepping
    at once (in threads of one process) leaves."""
    global _blas_users, _blas_limits
    from threadpoolctl import threadpool_limits

    with _blas_lock:
        if _blas_users == 0:
            _blas_limits = threadpool_limits(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limits.restore_original_limits()
                _blas_limits = None


# numba's workqueue threading layer (used when neither TBB nor OpenMP is installed) runs one
# parallel region at a time: every parallel call in featviz takes this lock.
parallel_lock = threading.Lock()


class StepBuffers:
    """Scratch arrays of one problem size, reused from step to step."""

    def __init__(self, m: int, P: int, d: int, *, blas: bool | None = None):
        """blas: the variant (None: uses_blas picks it by size)."""
        self.m = m
        self.norms, self.unit, self.cn = np.empty(P), np.empty((P, d)), np.empty(P)
        self.T1, self.coef, self.T2 = np.empty((m, d)), np.empty(m), np.empty(m)
        self.blas = uses_blas(m, P - m, d) if blas is None else blas
        if self.blas:
            self.G = np.empty((P, P))
            self.A = np.empty((m, P))
            self.SS = np.empty((2 * m, P))  # [sin t; cos t (pi - t)]
            self.sums = np.empty(2 * m)  # [coef; T2]
            self.V = np.empty((P, d))


def pair_threads(m: int, P: int) -> int:
    """numba threads of the elementwise pass of an (m, P) problem."""
    return min(PAIR_THREADS, numba.config.NUMBA_NUM_THREADS) if m * P >= PARALLEL_FROM else 1


def fused_step(U, c, m: int, beta, alpha: float, lr: float, lam: float, buf: StepBuffers | None = None) -> float:
    """One in-place gradient step on U (P,d) = [W; W*], c (P,) = [a; -a*] and beta (d,) with
    weight decay lam; returns the new alpha. The variant is buf.blas (uses_blas by default)."""
    P, d = U.shape
    buf = buf or StepBuffers(m, P, d)
    if not buf.blas:
        return float(step_inline(U, c, m, beta, alpha, lr, lam, buf.norms, buf.unit, buf.cn, buf.T1, buf.coef, buf.T2))
    csum = _geometry(U, c, buf.norms, buf.unit, buf.cn)
    _scaled_rows(U, c, buf.V)
    np.matmul(buf.unit, buf.unit.T, out=buf.G)  # syrk: cosines (P,P), exactly symmetric
    with parallel_lock:
        numba.set_num_threads(pair_threads(m, P))
        _pairs_rows(buf.G, m, buf.A, buf.SS)
    np.matmul(buf.A, buf.V, out=buf.T1)  # sum_q (pi - t_jq) c_q u_q
    np.matmul(buf.SS, buf.cn, out=buf.sums)  # coef and T2 in one product
    return float(_update(U, c, m, beta, alpha, lr, lam, csum, buf.norms, buf.unit, buf.T1, buf.sums[:m], buf.sums[m:]))


def warm_up() -> None:
    """Compile (or load from numba's disk cache) both variants on a tiny problem, so that the
    first real run does not wait for it: about 1 s with a warm cache, several without."""
    rng = np.random.default_rng(0)
    for blas in (False, True):
        U, c = rng.standard_normal((3, 2)), rng.standard_normal(3)
        fused_step(U, c, 2, np.zeros(2), 0.0, 0.01, 0.01, StepBuffers(2, 3, 2, blas=blas))


# ---- the engine's state --------------------------------------------------------------------


class KernelState(State):
    """Exact population objective stepped by fused_step. U (P,d) = [W; W*], c (P,) = [a; -a*];
    the student rows are views W = U[:m], a = c[:m] updated in place. alpha is a Python float."""

    def __init__(self, w, a, teacher_w, teacher_a):
        self.m = w.shape[0]
        self.U = np.concatenate([w, teacher_w]).astype(np.float64)
        self.c = np.concatenate([a, -teacher_a]).astype(np.float64)
        self.W, self.a = self.U[: self.m], self.c[: self.m]
        self.alpha = 0.0
        self.beta = np.zeros(w.shape[1])
        self.teacher_w, self.teacher_a = teacher_w, teacher_a
        self.buffers = StepBuffers(self.m, self.U.shape[0], self.U.shape[1])

    def grads(self):
        """(gW, ga, galpha, gbeta) of the exact mse (exact.mse_and_grad; the paper's stage 1)."""
        _, gW, ga, galpha, gbeta = exact.mse_and_grad(
            self.W, self.a, self.alpha, self.beta, self.teacher_w, self.teacher_a, with_value=False
        )
        return gW, ga, float(galpha), gbeta

    def step(self, lr: float, lam: float) -> None:
        self.alpha = fused_step(self.U, self.c, self.m, self.beta, self.alpha, lr, lam, self.buffers)

    def params(self):
        return self.W.copy(), self.a.copy(), float(self.alpha), self.beta.copy()

    def set_params(self, w=None, a=None, alpha=None, beta=None):
        if w is not None:
            self.W[...] = w
        if a is not None:
            self.a[...] = a
        if alpha is not None:
            self.alpha = float(alpha)
        if beta is not None:
            self.beta[...] = beta

    def sizes(self) -> tuple[float, ...]:
        """Largest |entry| of W, a, alpha, beta (NaN if any entry is NaN: NumPy's max propagates it)."""
        return (
            float(np.abs(self.W).max()),
            float(np.abs(self.a).max()),
            abs(self.alpha),
            float(np.abs(self.beta).max()),
        )

    def running(self):
        """The context training runs in: OpenBLAS on one thread (one_blas_thread)."""
        return one_blas_thread()
