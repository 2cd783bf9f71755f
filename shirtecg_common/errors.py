"""Exception classes.

Every user-facing error of the project derives from :class:`ShirtecgError` *and*
a built-in exception (``ValueError``, ``OSError``, …), so callers can catch either.
The CLI catches :class:`ShirtecgError` and prints its message as one line.
"""


class ShirtecgError(Exception):
    """Marker base class: an error caused by the user's input or environment."""


class UserError(ShirtecgError, ValueError):
    """A bad argument, file or setting; the message says what and what is accepted."""


class ConfigError(ShirtecgError, ValueError):
    """A configuration file (YAML) is invalid: unknown or missing key, bad value."""
