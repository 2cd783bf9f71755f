"""``shirtecg demo``: the main job on built-in defaults."""

from __future__ import annotations

import argparse


def add_parser(sub):
    """Add the ``demo`` subcommand."""
    p = sub.add_parser(
        "demo", help="run the whole pipeline on built-in defaults",
        description="Emulated shirt on a pty → recorder → ADC calibration → noise profile → "
                    "wearable augmentation of synthetic 12-lead records → calibration against "
                    "emulated shirt ECG → DIR/report.md with PNGs. Nothing is downloaded.")
    p.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    # Shortened runs for tests and impatient people (not part of the documented interface).
    p.add_argument("--fast", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--seconds-per-activity", type=float, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=_run)


def _run(args):
    from shirtecg.demo import run_demo

    kwargs = {}
    if args.fast:
        kwargs = {"seconds_per_activity": 8.0, "n_public": 9, "n_device": 9, "budget": 4,
                  "test_signal_s": 5.0}
    if args.seconds_per_activity is not None:
        kwargs["seconds_per_activity"] = args.seconds_per_activity
    return run_demo(out_dir=args.out, quiet=args.quiet, **kwargs)
