"""Argument checks in the style of MNE's ``_check_option`` / ``_validate_type``."""

from __future__ import annotations

import numbers


def check_option(name, value, allowed):
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def validate_type(name, value, types, type_name=None):
    """Raise ``TypeError`` unless ``value`` is an instance of ``types``."""
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        type_name = type_name or " or ".join(t.__name__ for t in _as_tuple(types))
        raise TypeError(f"{name} must be {type_name}, got {type(value).__name__}")
    return value


def check_range(name_min, vmin, name_max, vmax, *, lower=None, upper=None):
    """Check a ``min_*``/``max_*`` pair: numbers, ``vmin <= vmax``, inside [lower, upper]."""
    for name, v in ((name_min, vmin), (name_max, vmax)):
        if not isinstance(v, numbers.Real) or isinstance(v, bool):
            raise TypeError(f"{name} must be a number, got {type(v).__name__}")
        if v != v:
            raise ValueError(f"{name} must not be NaN")
        if lower is not None and v < lower:
            raise ValueError(f"{name} must be >= {lower}, got {v}")
        if upper is not None and v > upper:
            raise ValueError(f"{name} must be <= {upper}, got {v}")
    if vmin > vmax:
        raise ValueError(f"{name_min} ({vmin}) must be <= {name_max} ({vmax})")


def _as_tuple(types):
    return types if isinstance(types, tuple) else (types,)
