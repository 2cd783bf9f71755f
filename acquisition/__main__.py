"""``python -m acquisition``: the acquisition subcommands alone."""

import sys

from acquisition.cli import main

sys.exit(main())
