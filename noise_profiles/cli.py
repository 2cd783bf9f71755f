"""Command line of ``noise_profiles`` (subcommands added to ``shirtecg``)."""

from __future__ import annotations

from shirtecg_common.cli import build_parser, run


def add_parser(sub):
    """Add this package's subcommands to the ``shirtecg`` sub-parser set ``sub``."""


def main(argv=None) -> int:
    """``python -m noise_profiles``."""
    return run(build_parser("python -m noise_profiles", __doc__, [add_parser]), argv)
