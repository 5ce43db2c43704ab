"""Throughput of batched cells (featviz.batch) against engine.train one by one, and the fused step.

Run by hand from the repo root: `python bench/bench_sweep.py` (a few minutes). Prints Markdown
tables. Numba compiles its kernels on first use (cached on disk afterwards); a warm-up call
runs before anything is timed.

Table 1, a λ × lr grid of 64 cells (8 × 8, lam in [0, 0.1], lr in [0.05, 0.4], seeds 0..63):
  one by one   engine.train(cfg) for each cell, in this process
  batch, 1 thread / 2 threads   batch.train_batch(cells, threads=...)
  cells / s counts whole runs (snapshots and recording included).

Table 2, one gradient step of one run at each size:
  engine       engine.new_state(...).step (NumPy below engine.NUMPY_BELOW, else torch)
  numpy        state._numpy_step, the plain formula in NumPy
  fused        batch.fused_step (inline or blas variant, as batch.uses_blas picks)
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

from featviz import batch, engine, state
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
        rows.append((f"batch ({'inline' if not batch.uses_blas(m, 3, d) else 'blas'})", threads, statistics.median(t)))
    total = cells[0].total_steps
    return [(name, th, sec, 1.0 / sec, sec / total * 1e6, rows[0][2] / sec) for name, th, sec in rows]


def time_per_step(step, target_s: float = 0.3, repeats: int = 5) -> float:
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
    rows = []
    st = engine.new_state(cfg, w, a, tw, ta, rng)
    with st.running():
        kind = "numpy" if isinstance(st, state.NumpyState) else "torch"
        rows.append((f"engine ({kind})", time_per_step(lambda: st.step(lr, lam))))
    ns = state.NumpyState(w, a, tw, ta)
    box = {"alpha": 0.0}

    def numpy_step():
        box["alpha"] = state._numpy_step(ns.U, ns.c, ns.m, ns.beta, box["alpha"], lr, lam)

    rows.append(("numpy (state._numpy_step)", time_per_step(numpy_step)))
    fs = state.NumpyState(w, a, tw, ta)
    buf = batch.StepBuffers(m, m + k, d)
    fbox = {"alpha": 0.0}

    def fused():
        fbox["alpha"] = batch.fused_step(fs.U, fs.c, m, fs.beta, fbox["alpha"], lr, lam, buf)

    rows.append((f"fused ({'blas' if buf.blas else 'inline'})", time_per_step(fused)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import numba

    print(
        f"numpy {np.__version__}, numba {numba.__version__}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at start\n"
    )
    head = "| grid | cells | steps | method | threads | s per cell | cells / s | µs per cell-step | × one by one |"
    print(head)
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|")
    for d, m, steps, epochs, serial in ((10, 30, 500, 8, 16), (50, 200, 100, 2, 4)):
        for name, th, sec, rate, us, speedup in bench_grid(d, m, steps, epochs, args.repeats, serial):
            print(
                f"| d={d}, m={m}, k=3, λ×lr 8×8 | 64 | {steps * epochs} | {name} | {th} | {sec:.4f} | {rate:.1f} "
                f"| {us:.1f} | {speedup:.2f} |"
            )
    print("\n| d | m | k | method | ms / step | × numpy |")
    print("|---:|---:|---:|---|---:|---:|")
    for d, m in ((10, 30), (50, 200), (50, 500)):
        rows = bench_step(d, m)
        base = rows[1][1]
        for name, sec in rows:
            print(f"| {d} | {m} | 3 | {name} | {sec * 1e3:.3f} | {sec / base:.2f} |")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
