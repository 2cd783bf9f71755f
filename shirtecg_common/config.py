"""YAML configuration: safe loading and strict key checks."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from shirtecg_common.errors import ConfigError


def load_yaml(path) -> object:
    """Load a YAML file with ``yaml.safe_load``; errors name the file.

    Raises
    ------
    ConfigError
        If the file is missing, unreadable or not valid YAML.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read ({err.strerror or err})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}") from None


def dump_yaml(data, path) -> None:
    """Write ``data`` as YAML atomically (temp file + rename: never half-written)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=None), "utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def check_keys(mapping, *, allowed, required=(), where="config") -> dict:
    """Check a mapping's keys: unknown keys and missing required keys are errors.

    Parameters
    ----------
    mapping : dict
        The parsed YAML mapping.
    allowed : iterable of str
        Every key that may appear (required ones included).
    required : iterable of str
        Keys that must appear.
    where : str
        Location used in messages, e.g. ``"device.yaml: channels[2]"``.

    Returns
    -------
    mapping : dict
        The same mapping, for chaining.
    """
    if not isinstance(mapping, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(mapping).__name__}")
    allowed = list(allowed)
    unknown = [k for k in mapping if k not in allowed]
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}; allowed keys: {', '.join(allowed)}"
        )
    missing = [k for k in required if k not in mapping]
    if missing:
        raise ConfigError(f"{where}: missing required key {missing[0]!r}")
    return mapping
