"""Conventions shared by every shirtecg package.

This is the leftmost package of the import flow
(``shirtecg_common → acquisition → noise_profiles → augment → calibration → shirtecg``):
random-state handling and per-record seeding, YAML configuration checks, the
user-error base class the CLI turns into one clear line, argument checks and
terminal progress. It imports nothing from the other packages.
"""

from shirtecg_common.errors import ConfigError, ShirtecgError, UserError
from shirtecg_common.random import check_random_state, record_rng, record_seed_sequence, stable_hash
from shirtecg_common.config import check_keys, load_yaml, dump_yaml
from shirtecg_common.validation import check_option, check_range, validate_type
from shirtecg_common.progress import Progress

__all__ = [
    "ConfigError",
    "ShirtecgError",
    "UserError",
    "check_random_state",
    "record_rng",
    "record_seed_sequence",
    "stable_hash",
    "check_keys",
    "load_yaml",
    "dump_yaml",
    "check_option",
    "check_range",
    "validate_type",
    "Progress",
]
