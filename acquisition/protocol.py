"""Activity protocols: the list of ``{activity, seconds, prompt}`` steps a session follows.

A protocol YAML is either a list of steps or a mapping ``{name: ..., steps: [...]}``::

    - {activity: sitting, seconds: 60, prompt: "Sit still, hands on your thighs."}
    - {activity: walking, seconds: 120, prompt: "Walk at a normal pace."}
    - {activity: arm_movement, seconds: 60, prompt: "Swing both arms."}

Steps are contiguous on the session's sample time base: step ``k`` covers samples
``[sum(n_0..n_{k-1}), ... + n_k)`` with ``n_k = round(seconds * sfreq)``.
"""

from __future__ import annotations

import math
import numbers
import re

from shirtecg_common.config import check_keys, load_yaml
from shirtecg_common.errors import ConfigError

STEP_KEYS = ("activity", "seconds", "prompt")
_ACTIVITY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


def make_step(activity, seconds, prompt=None, where="protocol") -> dict:
    """Validate one step and return it as ``{activity, seconds, prompt}``.

    Raises
    ------
    ConfigError
        If the activity is not a plain label (letters, digits, ``_``, ``-``; not
        starting with ``BAD``, which MNE reserves for rejected spans) or seconds is
        not a positive number.
    """
    if not isinstance(activity, str) or not _ACTIVITY_RE.match(activity):
        raise ConfigError(f"{where}: activity must be a label of letters, digits, '_' or '-' "
                          f"starting with a letter, got {activity!r}")
    if activity.upper().startswith("BAD"):
        raise ConfigError(f"{where}: activity {activity!r} must not start with 'BAD' "
                          "(MNE treats BAD_* annotations as rejected data)")
    if not isinstance(seconds, numbers.Real) or isinstance(seconds, bool) \
            or not math.isfinite(seconds) or seconds <= 0:
        raise ConfigError(f"{where}: seconds must be a positive number, got {seconds!r}")
    if prompt is not None and not isinstance(prompt, str):
        raise ConfigError(f"{where}: prompt must be text, got {type(prompt).__name__}")
    prompt = prompt if prompt else f"Start {activity.replace('_', ' ')}."
    return {"activity": activity, "seconds": float(seconds), "prompt": prompt}


def load_protocol(path) -> list:
    """Read and validate a protocol YAML.

    Parameters
    ----------
    path : path-like
        The protocol file.

    Returns
    -------
    steps : list of dict
        ``{activity, seconds, prompt}`` per step, in order.

    Raises
    ------
    ConfigError
        Naming the file, the step and the offending key.
    """
    data = load_yaml(path)
    if isinstance(data, dict):
        check_keys(data, allowed=("name", "steps"), required=("steps",), where=str(path))
        data = data["steps"]
    if not isinstance(data, list) or not data:
        raise ConfigError(f"{path}: expected a non-empty list of steps "
                          "({activity, seconds, prompt}), got "
                          f"{type(data).__name__ if data is not None else 'an empty file'}")
    steps = []
    for i, step in enumerate(data):
        where = f"{path}: step {i + 1}"
        check_keys(step, allowed=STEP_KEYS, required=("activity", "seconds"), where=where)
        steps.append(make_step(step["activity"], step["seconds"], step.get("prompt"), where))
    return steps


def step_sample_bounds(steps, sfreq) -> list:
    """``[(start, stop), ...]`` sample ranges of the steps at ``sfreq`` (contiguous)."""
    bounds, start = [], 0
    for step in steps:
        n = max(1, int(round(step["seconds"] * sfreq)))
        bounds.append((start, start + n))
        start += n
    return bounds
