"""``python -m augment``: the augment subcommands alone."""

import sys

from augment.cli import main

sys.exit(main())
