"""Throughput of batched cells (featviz.batch) against engine.train one by one, and the fused step.

Run by hand from the repo root: `python bench/bench_sweep.py` (a few minutes). Prints Markdown
tables. Numba compiles its kernels on first use (cached on disk afterwards); a warm-up call
runs before anything is timed.

Table 1, a λ × lr grid of 64 cells (8 × 8, lam in [0, 0.1], lr in [0.05, 0.4], seeds 0..63):
  one by one   engine.train(cfg) for each cell, in this process
  batch, 1 thread / 2 threads   batch.train_batch(cells, threads=...)
  cells / s counts whole runs (snapshots and recording included).

Table 2, one gradient step of one run at each size:
  engine       engine.new_state(...).step: kernel.KernelState, the variant kernel.uses_blas picks
  numpy        featviz.exact.mse_and_grad plus the update, the plain formula in NumPy
  inline, blas kernel.fused_step with each variant forced (where kernel.BLAS_ABOVE should sit)

--quick trains the d=50, m=200 grid for 100 steps instead of 200 (see --help).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from featviz import batch, engine, exact, kernel
from featviz.config import Config


def grid(d: int, m: int, steps: int, epochs: int, n: int = 8) -> list[Config]:
    base = Config(d=d, m=m, k=3, steps=steps, epochs=epochs, frames=40)
    lams = np.linspace(0.0, 0.1, n)
    lrs = np.geomspace(0.05, 0.4, n)
    pairs = [(float(lam), float(lr)) for lam in lams for lr in lrs]
    return [base.replace(lam=lam, lr=lr, seed=i) for i, (lam, lr) in enumerate(pairs)]


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench_grid(d: int, m: int, steps: int, epochs: int, repeats: int, serial_cells: int) -> list[tuple]:
    cells = grid(d, m, steps, epochs)
    batch.train_batch(cells[:2], threads=2)  # compile / warm up
    engine.train(cells[0])
    one = [timed(lambda: [engine.train(c) for c in cells[:serial_cells]]) / serial_cells for _ in range(repeats)]
    rows = [("one by one (engine.train)", "-", statistics.median(one))]
    for threads in (1, 2):
        t = [timed(lambda th=threads: batch.train_batch(cells, threads=th)) / len(cells) for _ in range(repeats)]
        rows.append((f"batch ({'blas' if kernel.uses_blas(m, 3, d) else 'inline'})", threads, statistics.median(t)))
    total = cells[0].total_steps
    return [(name, th, sec, 1.0 / sec, sec / total * 1e6, rows[0][2] / sec) for name, th, sec in rows]


def time_per_step(step, target_s: float = 0.3, repeats: int = 5) -> float:
    # Let the previous measurement's numba threads go idle first: an OpenMP layer keeps them
    # spinning for a while after a parallel region, and they took a core from the next one.
    time.sleep(0.5)
    step()
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < 0.05 or n < 3:
        step()
        n += 1
    block = max(3, int(n * target_s / (time.perf_counter() - t0)))
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(block):
            step()
        out.append((time.perf_counter() - t0) / block)
    return statistics.median(out)


def bench_step(d: int, m: int, k: int = 3) -> list[tuple]:
    cfg = Config(d=d, m=m, k=k)
    rng = np.random.default_rng(0)
    tw, ta, _ = engine.make_teachers(cfg, rng)
    w, a = engine.init_student(cfg, rng)
    lr, lam = 0.01, 0.01
    st = engine.new_state(cfg, w, a, tw, ta, rng)
    # Inside the context a run trains in (OpenBLAS on one thread beside the numba threads, as
    # engine.train steps): outside it OpenBLAS's threads and numba's contend for the two cores and
    # the blas variant steps 10-20x slower.
    with st.running():
        rows = [(f"engine ({'blas' if st.buffers.blas else 'inline'})", time_per_step(lambda: st.step(lr, lam)))]
    p = {"w": w.copy(), "a": a.copy(), "alpha": 0.0, "beta": np.zeros(d)}

    def numpy_step():
        _, gW, ga, g_alpha, g_beta = exact.mse_and_grad(p["w"], p["a"], p["alpha"], p["beta"], tw, ta, with_value=False)
        p["w"] -= lr * (gW + lam * p["w"])
        p["a"] -= lr * (ga + lam * p["a"])
        p["alpha"] -= lr * g_alpha
        p["beta"] -= lr * g_beta

    rows.append(("numpy (exact.mse_and_grad)", time_per_step(numpy_step)))
    for blas in (False, True):
        fs = kernel.KernelState(w, a, tw, ta)
        buf = kernel.StepBuffers(m, m + k, d, blas=blas)
        box = {"alpha": 0.0}

        def fused(fs=fs, buf=buf, box=box):
            box["alpha"] = kernel.fused_step(fs.U, fs.c, m, fs.beta, box["alpha"], lr, lam, buf)

        with kernel.one_blas_thread():
            rows.append((f"fused ({'blas' if blas else 'inline'})", time_per_step(fused)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="the d=50, m=200 grid trains 100 steps, not 200")
    args = parser.parse_args()
    import numba

    print(
        f"numpy {np.__version__}, numba {numba.__version__}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at start\n"
    )
    head = "| grid | cells | steps | method | threads | s per cell | cells / s | µs per cell-step | × one by one |"
    print(head)
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|")
    big_epochs = 1 if args.quick else 2
    for d, m, steps, epochs, serial in ((10, 30, 500, 8, 16), (50, 200, 100, big_epochs, 4)):
        for name, th, sec, rate, us, speedup in bench_grid(d, m, steps, epochs, args.repeats, serial):
            print(
                f"| d={d}, m={m}, k=3, λ×lr 8×8 | 64 | {steps * epochs} | {name} | {th} | {sec:.4f} | {rate:.1f} "
                f"| {us:.1f} | {speedup:.2f} |"
            )
    print("\n| d | m | k | method | ms / step | × numpy |")
    print("|---:|---:|---:|---|---:|---:|")
    for d, m in ((10, 30), (30, 40), (50, 40), (50, 60), (50, 200), (50, 500)):
        rows = bench_step(d, m)
        base = rows[1][1]
        for name, sec in rows:
            print(f"| {d} | {m} | 3 | {name} | {sec * 1e3:.3f} | {sec / base:.2f} |")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
