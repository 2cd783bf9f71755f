"""``python -m shirtecg``."""

import sys

from shirtecg.cli import main

sys.exit(main())
