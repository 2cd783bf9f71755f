"""Shared command-line plumbing: each package's ``cli.py`` uses it.

A package's ``cli.py`` exposes ``add_parser(sub)`` (adds its subcommands to an
argparse sub-parser set; each subcommand sets ``func``) and ``main(argv=None)``
(so ``python -m <package>`` works). User errors print one line, no traceback.
"""

from __future__ import annotations

import argparse
import sys

from shirtecg_common.errors import ShirtecgError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def build_parser(prog, description, add_parsers, version=None):
    """Make a parser whose subcommands come from ``add_parsers`` (callables ``add(sub)``)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    if version is not None:
        parser.add_argument("--version", action="version", version=f"%(prog)s {version}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for add in add_parsers:
        add(sub)
    return parser


def run(parser, argv=None) -> int:
    """Parse ``argv``, run the chosen subcommand, turn user errors into one line.

    Returns the exit code: 0 on success, 2 on a user error, 130 on Ctrl-C.
    """
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ShirtecgError, FileNotFoundError, PermissionError, IsADirectoryError) as err:
        print(f"{parser.prog}: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_USER_ERROR
    return int(code or 0)


def add_quiet(parser):
    """Add ``--quiet`` (no progress output)."""
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    return parser


def _one_line(err) -> str:
    if isinstance(err, OSError) and err.filename and err.strerror:
        return f"{err.filename}: {err.strerror}"
    return " ".join(str(err).split()) or type(err).__name__
