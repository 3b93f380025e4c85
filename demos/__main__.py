"""``python -m demos NAME [--out DIR] [--seed N] [--quick] [--data-dir DIR]``, ``all`` or ``list``.

``all`` runs every demo in gallery order with the same common flags (each demo's own flags keep
their defaults), writes every plot to the one ``--out`` folder (file names start with the demo's
name) and ends with a table of wall times; it exits non-zero if any demo failed.
"""
from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

from . import available, load
from .common import DataDirError, add_common_arguments, fmt_table, make_args


def _summary(mod):
    doc = (mod.__doc__ or "").strip().splitlines()
    return doc[0] if doc else ""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m demos",
        description="The demo gallery. Each demo trains on this engine, shows progress bars, prints its key "
                    "numbers and writes PNG plots to --out.")
    sub = parser.add_subparsers(dest="demo", metavar="NAME")
    sub.add_parser("list", help="list the demos")
    add_common_arguments(sub.add_parser("all", help="run every demo in turn (same common flags)"))
    broken = {}
    for name in available():
        try:
            mod = load(name)
        except Exception as e:  # a half-written demo must not take the whole gallery down
            broken[name] = e
            add_common_arguments(sub.add_parser(name, help=f"(cannot be imported: {e})"))
            continue
        p = sub.add_parser(name, help=_summary(mod), description=mod.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        add_common_arguments(p)
        if hasattr(mod, "add_arguments"):
            mod.add_arguments(p)
    parser.set_defaults(_broken=broken)
    return parser


def _short(result, limit=4):
    """The first few scalar numbers of a demo's result, for the summary table."""
    items = []
    for k, v in (result or {}).items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        items.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}")
        if len(items) == limit:
            break
    return ", ".join(items)


def _files(result):
    files = (result or {}).get("files", [])
    if isinstance(files, dict):
        files = list(files.values())
    return [Path(f) for f in files if f is not None]


def run_one(name, args):
    """Run demo ``name`` with ``args``; returns (result dict, seconds)."""
    mod = load(name)
    t0 = time.perf_counter()
    result = mod.run(args)
    secs = time.perf_counter() - t0
    files = _files(result)
    print(f"-- {name} finished in {secs:.1f} s; wrote {len(files)} file(s) to {args.out}/", flush=True)
    return result, secs


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.demo in (None, "list"):
        print("demos (python -m demos NAME [--out DIR] [--seed N] [--quick] [--data-dir DIR]):")
        for name in available():
            if name in args._broken:
                print(f"  {name:13s} (cannot be imported: {args._broken[name]})")
            else:
                print(f"  {name:13s} {_summary(load(name))}")
        print("  all           every demo in turn")
        return 0 if args.demo == "list" else 2
    if args.demo != "all":
        if args.demo in args._broken:
            raise args._broken[args.demo]
        try:
            run_one(args.demo, args)
        except DataDirError as e:
            print(f"python -m demos {args.demo}: error: {e}", file=sys.stderr)
            return 2
        return 0

    rows, failed = [], []
    t_all = time.perf_counter()
    for name in available():
        try:
            mod = load(name)
            sub_args = make_args(mod, out=args.out, seed=args.seed, quick=args.quick, data_dir=args.data_dir)
            result, secs = run_one(name, sub_args)
            rows.append([name, f"{secs:.1f}", "ok", _short(result)])
        except DataDirError as e:
            print(f"python -m demos {name}: error: {e}", file=sys.stderr)
            rows.append([name, "-", "data error", ""])
            failed.append(name)
        except Exception:
            traceback.print_exc()
            rows.append([name, "-", "FAILED", ""])
            failed.append(name)
    print()
    print(fmt_table(rows, ["demo", "seconds", "status", "key numbers"]))
    print(f"total {time.perf_counter() - t_all:.1f} s" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
