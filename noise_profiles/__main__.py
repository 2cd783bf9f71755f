"""``python -m noise_profiles``: the noise_profiles subcommands alone."""

import sys

from noise_profiles.cli import main

sys.exit(main())
