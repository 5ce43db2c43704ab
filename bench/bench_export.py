"""Export time and file size of the default run's animation: `python bench/bench_export.py`.

Prints a Markdown table (format x size -> seconds, MB). The run is trained once, outside the
timing; each export is timed whole (drawing every frame, encoding, writing the file).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from featviz.config import Config
from featviz.engine import train
from featviz.export import DEFAULT_FPS, FORMATS, SIZES, export


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fps", type=int, default=DEFAULT_FPS)
    p.add_argument("--repeats", type=int, default=1, help="best of this many exports per cell")
    args = p.parse_args()
    run = train(Config())
    load = os.getloadavg()[0]
    print(f"default run: {run.n_frames} frames, fps {args.fps}, load average {load:.1f} on {os.cpu_count()} cores\n")
    print("| format | size | seconds | file MB |")
    print("|---|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in FORMATS:
            for w, h in SIZES:
                path = os.path.join(tmp, f"run.{fmt}")
                best = float("inf")
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    export(run, path, fmt=fmt, size=(w, h), fps=args.fps)
                    best = min(best, time.perf_counter() - t0)
                print(f"| {fmt} | {w}×{h} | {best:.2f} | {os.path.getsize(path) / 1e6:.2f} |", flush=True)


if __name__ == "__main__":
    main()
