"""Per-step cost of the engine's compiled kernel against the plain formula, the old torch kernel
and a Monte-Carlo autograd step; and the pieces of the kernel's blas variant.

Run by hand from the repo root: `python bench/bench_step.py` (about a minute). Prints Markdown
tables. Each number is the median over several repeats of a timed block of steps (wall clock;
a busy machine shows in the load average printed at the start and the end).

  engine      the state engine.train uses (engine.new_state, kernel.KernelState): the numba
              kernel, inline or blas variant by kernel.uses_blas, on kernel.pair_threads numba
              threads and NumPy's BLAS threads
  numpy       featviz.exact.mse_and_grad on numpy arrays (the plain formula) plus the update
  torch       torch_state.PopulationState, the population state of engine versions 1-2, on
              one torch thread
  mc-autograd torch autograd of the empirical mse on n = 10^4 fixed Gaussian samples
              plus the update, threads as engine.train sets them for data=samples

The second table times each piece of one blas step at d=50, m=500, k=3: geometry (norms, unit
rows), Gram (unit @ unit.T, syrk), elementwise (arccos, sqrt on numba threads), product (the
angle matrix times the rows), sums (one matrix-vector product) and update.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numba

from featviz import engine, exact, kernel, torch_state
from featviz.config import Config

LR, LAM = 0.01, 0.01
MC_SAMPLES = 10_000


def problem(d: int, m: int, k: int = 3, seed: int = 0):
    cfg = Config().replace(d=d, m=m, k=k, seed=seed)
    rng = np.random.default_rng(seed)
    tw, ta, _ = engine.make_teachers(cfg, rng)
    w, a = engine.init_student(cfg, rng)
    return cfg, tw, ta, w, a, rng


def time_per_step(step, *, target_s: float = 0.25, repeats: int = 7) -> float:
    """Median seconds per call of step() over `repeats` blocks of about target_s each."""
    step()  # warm up
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < 0.05 or n < 3:
        step()
        n += 1
    per_block = max(3, int(n * target_s / (time.perf_counter() - t0)))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(per_block):
            step()
        samples.append((time.perf_counter() - t0) / per_block)
    return statistics.median(samples)


def bench_engine(d: int, m: int) -> tuple[float, int]:
    _, tw, ta, w, a, _ = problem(d, m)
    state = engine.new_state(Config(d=d, m=m), w, a, tw, ta, np.random.default_rng(0))
    with state.running():
        sec = time_per_step(lambda: state.step(LR, LAM))
        return sec, (kernel.pair_threads(m, m + 3) if state.buffers.blas else 1)


def bench_torch(d: int, m: int) -> tuple[float, int]:
    _, tw, ta, w, a, _ = problem(d, m)
    state = torch_state.PopulationState(w, a, tw, ta)
    with state.running():
        return time_per_step(lambda: state.step(LR, LAM)), torch.get_num_threads()


def bench_numpy(d: int, m: int) -> tuple[float, int]:
    _, tw, ta, w, a, _ = problem(d, m)
    p = {"w": w.copy(), "a": a.copy(), "alpha": 0.0, "beta": np.zeros(d)}

    def step():
        _, gW, ga, g_alpha, g_beta = exact.mse_and_grad(p["w"], p["a"], p["alpha"], p["beta"], tw, ta, with_value=False)
        p["w"] -= LR * (gW + LAM * p["w"])
        p["a"] -= LR * (ga + LAM * p["a"])
        p["alpha"] -= LR * g_alpha
        p["beta"] -= LR * g_beta

    return time_per_step(step), 0


def bench_mc_autograd(d: int, m: int) -> tuple[float, int]:
    _, tw, ta, w, a, rng = problem(d, m)
    X = torch.tensor(rng.standard_normal((MC_SAMPLES, d)))
    y = torch.relu(X @ torch.tensor(tw).T) @ torch.tensor(ta)
    W = torch.tensor(w, requires_grad=True)
    av = torch.tensor(a, requires_grad=True)
    alpha = torch.zeros((), dtype=torch.float64, requires_grad=True)
    beta = torch.zeros(d, dtype=torch.float64, requires_grad=True)
    params = (W, av, alpha, beta)

    def step():
        loss = ((torch.relu(X @ W.T) @ av + X @ beta + alpha - y) ** 2).mean()
        loss = loss + 0.5 * LAM * ((W * W).sum() + (av * av).sum())
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.sub_(p.grad, alpha=LR)

    with torch_state._single_thread():
        return time_per_step(step), torch.get_num_threads()


def bench_pieces(d: int, m: int, k: int = 3) -> list[tuple[str, float]]:
    """Seconds per call of each piece of one blas step (kernel.fused_step's lines, one by one)."""
    _, tw, ta, w, a, _ = problem(d, m, k)
    st = kernel.KernelState(w, a, tw, ta)
    U, c, buf = st.U, st.c, kernel.StepBuffers(m, m + k, d, blas=True)
    kernel.fused_step(U.copy(), c.copy(), m, st.beta.copy(), 0.0, LR, LAM, buf)  # fills the buffers
    csum = kernel._geometry(U, c, buf.norms, buf.unit, buf.cn)
    threads = kernel.pair_threads(m, m + k)

    def elementwise():
        with kernel.parallel_lock:
            numba.set_num_threads(threads)
            kernel._pairs_rows(buf.G, m, buf.A, buf.SS)

    Uc, cc, bc = U.copy(), c.copy(), st.beta.copy()
    pieces = [
        (
            "geometry (norms, unit rows, c u)",
            lambda: (kernel._geometry(U, c, buf.norms, buf.unit, buf.cn), kernel._scaled_rows(U, c, buf.V)),
        ),
        ("Gram unit @ unit.T (BLAS syrk)", lambda: np.matmul(buf.unit, buf.unit.T, out=buf.G)),
        (f"elementwise (numba, {threads} threads)", elementwise),
        ("product A @ (c u) (BLAS gemm)", lambda: np.matmul(buf.A, buf.V, out=buf.T1)),
        ("sums [S; cos t (pi - t)] @ cn (BLAS gemv)", lambda: np.matmul(buf.SS, buf.cn, out=buf.sums)),
        (
            "update (numba)",
            lambda: kernel._update(
                Uc, cc, m, bc, 0.0, 0.0, 0.0, csum, buf.norms, buf.unit, buf.T1, buf.sums[:m], buf.sums[m:]
            ),
        ),
    ]
    return [(name, time_per_step(fn)) for name, fn in pieces]


def bench_default_train(repeats: int) -> list[float]:
    engine.train(Config())  # warm up
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        engine.train(Config())
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="full train() repeats (default 5)")
    args = parser.parse_args()

    print(
        f"torch {torch.__version__}, numpy {np.__version__}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, numba {numba.__version__} "
        f"({numba.config.NUMBA_NUM_THREADS} threads), "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
        f"load average {os.getloadavg()[0]:.1f} at start\n"
    )
    print("| d | m | k | method | threads | ms / step | steps / s | x numpy |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|")
    for d, m in ((12, 30), (50, 200), (50, 500)):
        variant = "blas" if kernel.uses_blas(m, 3, d) else "inline"
        rows = [
            ("numpy (exact.mse_and_grad, the plain formula)", *bench_numpy(d, m)),
            (f"engine (numba kernel, {variant})", *bench_engine(d, m)),
            ("torch (torch_state.PopulationState, engine 2)", *bench_torch(d, m)),
            (f"mc-autograd (n = {MC_SAMPLES}, torch)", *bench_mc_autograd(d, m)),
        ]
        base = rows[0][1]
        for name, sec, threads in rows:
            shown = "-" if threads == 0 else str(threads)  # numpy: BLAS decides
            print(f"| {d} | {m} | 3 | {name} | {shown} | {sec * 1e3:.3f} | {1 / sec:,.0f} | {sec / base:.2f} |")

    print("\n| piece of one blas step, d=50, m=500, k=3 | ms |")
    print("|---|---:|")
    pieces = bench_pieces(50, 500)
    for name, sec in pieces:
        print(f"| {name} | {sec * 1e3:.3f} |")
    print(f"| sum of the pieces | {sum(sec for _, sec in pieces) * 1e3:.3f} |")

    cfg = Config()
    times = bench_default_train(args.repeats)
    print(
        f"\nDefault Config() train(): d={cfg.d}, m={cfg.m}, k={cfg.k}, {cfg.total_steps} steps, "
        f"{cfg.frames} frames: median {statistics.median(times):.3f} s over {len(times)} runs "
        f"(min {min(times):.3f}, max {max(times):.3f}); "
        f"{statistics.median(times) / cfg.total_steps * 1e3:.3f} ms per step including snapshots."
    )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
