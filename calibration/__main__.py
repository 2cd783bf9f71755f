"""``python -m calibration``: the calibration subcommands alone."""

import sys

from calibration.cli import main

sys.exit(main())
