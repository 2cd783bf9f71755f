"""``shirtecg augment`` subcommands (filled in by the owner of this module)."""


def add_commands(sub):
    """Add subcommands to the ``shirtecg augment`` sub-parser set ``sub``."""
