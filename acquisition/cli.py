"""Command line of ``acquisition`` (subcommands added to ``shirtecg``)."""

from __future__ import annotations

from shirtecg_common.cli import build_parser, run


def add_parser(sub):
    """Add this package's subcommands to the ``shirtecg`` sub-parser set ``sub``."""
    from acquisition.record_cli import add_record_parsers

    add_record_parsers(sub)


def main(argv=None) -> int:
    """``python -m acquisition``."""
    return run(build_parser("python -m acquisition", __doc__, [add_parser]), argv)
