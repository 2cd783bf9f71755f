"""shirtecg: the umbrella command line and the end-to-end demo.

The work is done by the four pipeline packages, in data-flow order:
``acquisition → noise_profiles → augment → calibration``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("shirtecg")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+unknown"
