"""Command line of ``augment``: ``shirtecg augment …``.

The subcommands live next to what they drive: pipelines and presets in
:mod:`augment.pipelines_cli`, dataset runs and previews in :mod:`augment.datasets_cli`.
"""

from __future__ import annotations

from shirtecg_common.cli import build_parser, run


def add_parser(sub):
    """Add ``augment`` and its subcommands to the ``shirtecg`` sub-parser set ``sub``."""
    from augment import datasets_cli, pipelines_cli

    p = sub.add_parser("augment", help="make public 12-lead ECG records shirt-like")
    aug_sub = p.add_subparsers(dest="augment_command", metavar="SUBCOMMAND")
    aug_sub.required = True
    pipelines_cli.add_commands(aug_sub)
    datasets_cli.add_commands(aug_sub)


def main(argv=None) -> int:
    """``python -m augment``."""
    return run(build_parser("python -m augment", __doc__, [add_parser]), argv)
