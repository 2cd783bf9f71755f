"""``shirtecg``: one command line assembled from every package's ``cli.py``."""

from __future__ import annotations

import sys

from shirtecg_common.cli import build_parser, run


def _parser():
    import acquisition.cli
    import augment.cli
    import calibration.cli
    import noise_profiles.cli
    import shirtecg.demo_cli
    from shirtecg import __version__

    return build_parser(
        "shirtecg",
        "Wearable ECG shirt pipeline: record device noise, fit noise profiles, "
        "augment public 12-lead ECGs, calibrate to real shirt data.",
        [
            acquisition.cli.add_parser,
            noise_profiles.cli.add_parser,
            augment.cli.add_parser,
            calibration.cli.add_parser,
            shirtecg.demo_cli.add_parser,
        ],
        version=__version__,
    )


def main(argv=None) -> int:
    """Run the ``shirtecg`` command line; returns the exit code."""
    return run(_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
