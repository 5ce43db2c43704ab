"""Command line: `python -m featviz train --d 10 ... --out run.npz` (flags named as the config)."""

from __future__ import annotations

import argparse
import json
import sys

from featviz import cache
from featviz.config import PARAMS, BudgetError, Config, ConfigError, check_budget
from featviz.engine import train


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, status 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m featviz", description="featviz: train a student network on a teacher and record the run."
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("train", help="train one configuration and save it as .npz")
    defaults = Config().to_mapping()
    for name, param in PARAMS.items():
        t.add_argument(
            f"--{name}",
            metavar=name.upper(),
            help=f"{param.help} Allowed: {param.allowed}. Default: {defaults[name]}.",
        )
    t.add_argument("--out", help="where to write the run (.npz); omit to only print the summary")
    t.add_argument("--cache", action="store_true", help="use the disk cache (FEATVIZ_CACHE_DIR)")
    _add_sweep_parser(sub, defaults)
    return p


def _add_sweep_parser(sub, defaults: dict[str, str]) -> None:
    from featviz import sweep

    s = sub.add_parser(
        "sweep",
        help="train a grid over one or two parameters and write one row per cell (.parquet or .csv)",
        description=(
            "Train every cell of a grid over one or two numeric parameters (the other flags set the "
            "base config) and write one row per cell: every parameter under its link name, the cell's "
            "cache key and its outcomes. Cells that share array shapes train together in one batched "
            "kernel; finished cells go to the disk cache (FEATVIZ_CACHE_DIR) and cached ones are "
            "skipped. Prints a one-line JSON summary (cells, seconds, cached) at the end."
        ),
        epilog=(
            "Grid axes: NAME=V1,V2,... (a list), NAME=lin:START:STOP:COUNT (evenly spaced) or "
            "NAME=log:START:STOP:COUNT (log-spaced, START and STOP > 0); both ends included, integer "
            f"parameters rounded. At most {sweep.MAX_CELLS} cells; the cells' work m*(m+k)*d*epochs*steps "
            "added up is capped at FEATVIZ_MAX_SWEEP_WORK (default "
            f"{sweep.SWEEP_WORK_FACTOR:g} x FEATVIZ_MAX_WORK). Outcomes: "
            + "; ".join(f"{k}: {v}" for k, v in sweep.OUTCOMES.items())
            + ". Example: python -m featviz sweep --grid lam=0,0.003,0.01,0.03 --grid m=log:5:40:4 "
            "--steps 300 --out sweep.parquet"
        ),
    )
    for name in PARAMS:
        s.add_argument(f"--{name}", metavar=name.upper(), help=f"base value. Default: {defaults[name]}.")
    s.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=VALUES",
        help="an axis (give one or two): lam=0,0.01,0.03 or lr=log:0.01:1:5 or m=lin:10:40:4",
    )
    s.add_argument("--out", help="where to write the table: .parquet or .csv (by the extension)")
    s.add_argument("--no-cache", action="store_true", help="neither read nor write the disk cache")
    s.add_argument("--chunk", type=int, default=sweep.DEFAULT_CHUNK, help="cells per batch (and per Ray task)")
    s.add_argument("--threads", type=int, default=1, help="threads for batched cells in this process")
    s.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="send chunks of cells to the Ray cluster at ADDRESS (host:port of `ray start --head`) as "
        "tasks with retries; needs requirements-ray.txt. Without it everything trains in this process.",
    )


def _join_negative_values(argv: list[str]) -> list[str]:
    """`--a_star -1,1,1` -> `--a_star=-1,1,1`: argparse takes a value starting with '-' for a flag."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        nxt = argv[i + 1] if i + 1 < len(argv) else ""
        if tok.startswith("--") and tok[2:] in PARAMS and len(nxt) > 1 and nxt[0] == "-" and nxt[1] in "0123456789.":
            out.append(f"{tok}={nxt}")
            i += 2
        else:
            out.append(tok)
            i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_join_negative_values(sys.argv[1:] if argv is None else list(argv)))
    if args.command == "sweep":
        return _sweep(parser, args)
    given = {name: getattr(args, name) for name in PARAMS if getattr(args, name) is not None}
    try:
        cfg = Config.from_mapping(given)
        check_budget(cfg)
    except ConfigError as e:
        parser.error(f"argument --{e.param}: {e}")
    except BudgetError as e:
        parser.error(str(e))
    if args.cache:
        run, cached = cache.get_or_train(cfg, train)
    else:
        run, cached = train(cfg), False
    if args.out:
        try:
            with open(args.out, "wb") as f:
                run.save_npz(f)
        except OSError as e:
            print(f"python -m featviz: error: cannot write --out {args.out!r}: {e.strerror}", file=sys.stderr)
            return 1
    print(json.dumps(run.summary() | {"cached": cached, "out": args.out}))
    return 0 if run.status == "ok" else 3


def _sweep(parser: argparse.ArgumentParser, args) -> int:
    from featviz import sweep

    given = {name: getattr(args, name) for name in PARAMS if getattr(args, name) is not None}
    if args.out and not args.out.lower().endswith((".parquet", ".csv")):
        parser.error(f"argument --out: must end in .parquet or .csv (got {args.out!r})")
    if args.chunk < 1 or args.threads < 1:
        parser.error("arguments --chunk and --threads: must be at least 1")
    try:
        grid = sweep.make_grid(Config.from_mapping(given), args.grid)
    except ConfigError as e:
        parser.error(f"argument --{e.param}: {e}" if e.param in PARAMS else f"argument --grid: {e}")
    except BudgetError as e:
        parser.error(str(e))
    executor = None
    if args.ray:
        from featviz import ray_backend

        try:
            executor = ray_backend.executor(args.ray, threads=1)
        except ray_backend.RayUnavailable as e:
            print(f"python -m featviz: error: --ray {args.ray}: {e}", file=sys.stderr)
            return 1
    result = sweep.run_sweep(
        grid, use_cache=not args.no_cache, chunk=args.chunk, threads=args.threads, executor=executor
    )
    if args.out:
        try:
            sweep.write_table(result, args.out)
        except OSError as e:
            print(f"python -m featviz: error: cannot write --out {args.out!r}: {e.strerror}", file=sys.stderr)
            return 1
    print(json.dumps(result.summary() | {"out": args.out, "ray": args.ray}))
    return 0
