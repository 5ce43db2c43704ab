"""Command line: `python -m featviz train --d 10 ... --out run.npz` (flags named as the config)."""

from __future__ import annotations

import argparse
import json
import sys

from featviz import cache
from featviz.budget import BudgetError, check_budget
from featviz.config import PARAMS, Config, ConfigError, encode_value, reason
from featviz.engine import train
from featviz.fork import FORK_PARAMS


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, status 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m featviz", description="featviz: train a student network on a teacher and record the run."
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("train", help="train one configuration and save it as .npz")
    _add_config_flags(t)
    t.add_argument("--out", help="where to write the run (.npz); omit to only print the summary")
    t.add_argument("--cache", action="store_true", help="use the disk cache (FEATVIZ_CACHE_DIR)")
    t.add_argument(
        "--from",
        dest="from_run",
        metavar="FILE",
        help="fork a saved run (.npz): continue it from the frame at --at-step; only "
        + ", ".join(f"--{n}" for n in FORK_PARAMS)
        + " may change",
    )
    t.add_argument("--at-step", metavar="N", help="with --from: the global step of the frame to continue from")
    from featviz.lessons import BY_SLUG

    c = sub.add_parser("check", help="run a lesson's check on its preset (or on a saved run); prints JSON")
    c.add_argument("lesson", choices=sorted(BY_SLUG), help="the lesson's slug")
    c.add_argument("--run", help="a saved run (.npz) to check instead of training the preset")
    cert = sub.add_parser("certificate", help="the dual certificate of a config's teachers on the whole sphere")
    for name in CERT_PARAMS:
        cert.add_argument(
            f"--{name}", metavar=name.upper(), help=f"{PARAMS[name].help} Allowed: {PARAMS[name].allowed}."
        )
    _add_export_parser(sub)
    _add_sweep_parser(sub)
    return p


CERT_PARAMS = ("d", "k", "teachers", "sep", "angles", "a_star", "seed")


def _add_config_flags(parser: argparse.ArgumentParser, *, base: bool = False) -> None:
    """One --NAME flag per parameter, help and default from its declaration.

    base: the sweep's flags, which set the config its grid varies around."""
    for name, param in PARAMS.items():
        default = encode_value(param.default)
        if param.per_teacher:
            default += " (for the default k; one per teacher)"
        about = "base value." if base else f"{param.help} Allowed: {param.allowed}."
        parser.add_argument(f"--{name}", metavar=name.upper(), help=f"{about} Default: {default}.")


def _given(args, names=PARAMS) -> dict[str, str]:
    """The flags of `names` given on the command line, as their text."""
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _checked_config(parser: argparse.ArgumentParser, given: dict[str, str]) -> Config:
    """The config the flags name, within the compute budget; otherwise exit with the error."""
    try:
        cfg = Config.from_mapping(given)
        check_budget(cfg)
    except ConfigError as e:
        parser.error(f"argument --{e.param}: {reason(e)}")
    except BudgetError as e:
        parser.error(str(e))
    return cfg


def _add_export_parser(sub) -> None:
    """`export`: train (or open a saved run) and write the neuron animation as GIF or MP4."""
    from featviz.export import DEFAULT_FPS, DEFAULT_SIZE, FORMATS, FPS_RANGE, SIZE_RANGE

    e = sub.add_parser("export", help="train one configuration and write its neuron animation as GIF or MP4")
    (wlo, whi), (hlo, hhi) = SIZE_RANGE
    e.add_argument("--format", required=True, choices=FORMATS, help="gif or mp4")
    e.add_argument("--out", required=True, help="the file to write")
    e.add_argument(
        "--size",
        default=f"{DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]}",
        help=f"WIDTHxHEIGHT in pixels, width in [{wlo}, {whi}], height in [{hlo}, {hhi}], even; "
        "for slides 1280x720 or 1920x1080. Default: %(default)s.",
    )
    e.add_argument(
        "--fps",
        default=str(DEFAULT_FPS),
        help=f"frames per second, an integer in [{FPS_RANGE[0]}, {FPS_RANGE[1]}]. Default: %(default)s.",
    )
    e.add_argument("--run", metavar="FILE", help="export a saved run (.npz) instead of training; no train flags then")
    e.add_argument("--cache", action="store_true", help="use the disk cache (FEATVIZ_CACHE_DIR)")
    _add_config_flags(e)


def _export_main(args, parser) -> int:
    from featviz.export import ExportError, check_fps, export, parse_size

    try:
        size = parse_size(args.size)
    except ExportError as e:
        parser.error(f"argument --size: {e}")
    text = args.fps.strip()
    fps = int(text) if text.lstrip("-").isdigit() else text
    try:
        fps = check_fps(fps)
    except ExportError as e:
        parser.error(f"argument --fps: {e}")
    given = _given(args)
    if args.run:
        if given:
            parser.error(f"argument --run: train flags cannot change a saved run (got --{next(iter(given))})")
        run = _read_run(parser, args.run, "--run")
    else:
        cfg = _checked_config(parser, given)
        run = cache.get_or_train(cfg, train)[0] if args.cache else train(cfg)
    try:
        export(run, args.out, fmt=args.format, size=size, fps=fps)
    except OSError as e:
        print(f"python -m featviz: error: cannot write --out {args.out!r}: {e.strerror or e}", file=sys.stderr)
        return 1
    print(json.dumps({"out": args.out, "format": args.format, "size": list(size), "fps": fps, "frames": run.n_frames}))
    return 0


def _read_run(parser: argparse.ArgumentParser, path: str, flag: str):
    """The saved run (.npz) at path, checked as an upload is; otherwise exit naming the flag."""
    from featviz.upload import UploadError, load_run_bytes

    try:
        with open(path, "rb") as f:
            return load_run_bytes(f.read())
    except OSError as e:
        parser.error(f"argument {flag}: cannot read {path!r}: {e.strerror}")
    except UploadError as e:
        parser.error(f"argument {flag}: {e}")


def _add_sweep_parser(sub) -> None:
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
    _add_config_flags(s, base=True)
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


def _fork_main(args, parser, given: dict[str, str]):
    """`train --from FILE --at-step N [--lam ...]`: (the fork's run, was it cached)."""
    from featviz.config import parse_value
    from featviz.fork import Fork, train_fork

    if args.from_run is None:
        parser.error("argument --at-step: needs --from FILE (the run to fork)")
    if args.at_step is None:
        parser.error("argument --from: needs --at-step N (the step of the frame to continue from)")
    other = [n for n in given if n not in FORK_PARAMS]
    if other:
        allowed = ", ".join(f"--{n}" for n in FORK_PARAMS)
        parser.error(f"argument --{other[0]}: a fork keeps its parent's setting; only {allowed} may change")
    parent_run = _read_run(parser, args.from_run, "--from")
    try:
        step = int(args.at_step)
    except ValueError:
        parser.error(f"argument --at-step: must be an integer, the step of a frame (got {args.at_step!r})")
    try:
        parent = Fork.from_mapping(parent_run.fork) if parent_run.fork else parent_run.config
        changes = tuple((n, parse_value(PARAMS[n], text)) for n, text in given.items())
        fork = Fork(parent, step, changes)
        check_budget(fork.config)

        def train_it(f):
            return train_fork(f, parent_run=parent_run)

        if args.cache:
            return cache.get_or_train(fork, train_it)
        return train_it(fork), False
    except ConfigError as e:
        flag = "--at-step" if e.param.endswith(".step") else f"--{e.param.split('.')[-1]}"
        parser.error(f"argument {flag}: {reason(e)}")
    except BudgetError as e:
        parser.error(str(e))


def _check(parser, args) -> int:
    from featviz.lessons import BY_SLUG
    from featviz.run import Run

    lesson = BY_SLUG[args.lesson]
    if args.run:
        try:
            run = Run.load_npz(args.run)
        except (OSError, ValueError) as e:
            parser.error(f"argument --run: cannot read {args.run!r}: {e}")
    else:
        run = train(lesson.config)
    result = lesson.check(run)
    out = {"lesson": lesson.slug, "passed": result.passed, "measured": result.measured} | result.values
    print(json.dumps(out))
    return 0 if result.passed else 1


def _certificate(parser, args) -> int:
    from featviz.certificate import certificate_for_config

    given = _given(args, CERT_PARAMS)
    try:
        cfg = Config.from_mapping(given)
    except ConfigError as e:
        parser.error(f"argument --{e.param}: {reason(e)}")
    cert = certificate_for_config(cfg)
    print(json.dumps(cert.as_dict()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_join_negative_values(sys.argv[1:] if argv is None else list(argv)))
    if args.command == "check":
        return _check(parser, args)
    if args.command == "certificate":
        return _certificate(parser, args)
    if args.command == "export":
        return _export_main(args, parser)
    if args.command == "sweep":
        return _sweep(parser, args)
    given = _given(args)
    if args.from_run is not None or args.at_step is not None:
        run, cached = _fork_main(args, parser, given)
    else:
        cfg = _checked_config(parser, given)
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

    given = _given(args)
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
