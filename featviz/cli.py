"""Command line: `python -m featviz train --d 10 ... --out run.npz` (flags named as the config)."""

from __future__ import annotations

import argparse
import json
import sys

from featviz import cache
from featviz.budget import BudgetError, check_budget
from featviz.config import PARAMS, Config, ConfigError
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
    return p


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
