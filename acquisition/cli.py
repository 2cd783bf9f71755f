"""Command line of ``acquisition`` (subcommands added to ``shirtecg``)."""

from __future__ import annotations

from shirtecg_common.cli import build_parser, run


def add_parser(sub):
    """Add this package's subcommands to the ``shirtecg`` sub-parser set ``sub``."""
    from acquisition.emulator.cli import add_commands as add_emulator_commands
    from acquisition.record_cli import add_device_list_parser, add_record_parsers

    add_record_parsers(sub)                     # shirtecg record / recover
    device = sub.add_parser("device", help="serial devices: list ports, emulate a shirt")
    device_sub = device.add_subparsers(dest="device_command", metavar="SUBCOMMAND")
    device_sub.required = True
    add_device_list_parser(device_sub)          # shirtecg device list
    add_emulator_commands(device_sub)           # shirtecg device emulate


def main(argv=None) -> int:
    """``python -m acquisition``."""
    return run(build_parser("python -m acquisition", __doc__, [add_parser]), argv)
