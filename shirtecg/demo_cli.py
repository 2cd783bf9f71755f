"""``shirtecg demo``: the main job on built-in defaults."""

from __future__ import annotations


def add_parser(sub):
    """Add the ``demo`` subcommand."""
    p = sub.add_parser("demo", help="run the whole pipeline on built-in defaults")
    p.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.set_defaults(func=_run)


def _run(args):
    from shirtecg.demo import run_demo

    return run_demo(out_dir=args.out, quiet=args.quiet)
