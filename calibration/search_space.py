"""The space the augmentation fitter searches: pipeline parameters and their ranges.

A search space maps nested ``get_params`` keys (``"emg__max_amplitude_mv"``) to a range,
written as ``[low, high]`` or ``{low, high, log}``. Ranges spanning a factor of 10 or more
(positive) are searched on a log scale unless ``log`` says otherwise. Where both
``<step>__min_<x>`` and ``<step>__max_<x>`` are searched, each candidate keeps min ≤ max.

By default the space is the one the pipeline declares (its YAML's ``tunable:`` entries, see
:func:`declared_space`).
"""

from __future__ import annotations

import numbers

import numpy as np

from shirtecg_common.errors import ConfigError


class SearchSpace:
    """Parameter ranges with a mapping to and from the unit cube.

    Parameters
    ----------
    space : dict
        ``{key: [low, high] | {"low", "high", "log"}}``.
    """

    def __init__(self, space):
        if not isinstance(space, dict) or not space:
            raise ConfigError("the search space is empty: declare tunable parameters in the "
                              "pipeline YAML (tunable:) or pass search_space={key: [low, high]}")
        self.keys = list(space)
        lows, highs, logs = [], [], []
        for key, spec in space.items():
            log = None
            if isinstance(spec, dict):
                unknown = set(spec) - {"low", "high", "log"}
                if unknown or not {"low", "high"} <= set(spec):
                    raise ConfigError(f"search space {key!r}: expected {{low, high[, log]}}, "
                                      f"got keys {sorted(spec)}")
                lo, hi, log = spec["low"], spec["high"], spec.get("log")
            elif isinstance(spec, (list, tuple)) and len(spec) == 2:
                lo, hi = spec
            else:
                raise ConfigError(f"search space {key!r}: expected [low, high] or "
                                  f"{{low, high, log}}, got {spec!r}")
            for v in (lo, hi):
                if not isinstance(v, numbers.Real) or isinstance(v, bool) or not np.isfinite(v):
                    raise ConfigError(f"search space {key!r}: bounds must be numbers, got {spec!r}")
            if not lo < hi:
                raise ConfigError(f"search space {key!r}: low ({lo}) must be < high ({hi})")
            if log is None:
                log = lo > 0 and hi / lo >= 10
            if log and lo <= 0:
                raise ConfigError(f"search space {key!r}: a log range needs low > 0, got {lo}")
            lows.append(float(lo))
            highs.append(float(hi))
            logs.append(bool(log))
        self.low = np.array(lows)
        self.high = np.array(highs)
        self.log = np.array(logs)
        self._pairs = _min_max_pairs(self.keys)

    def __len__(self):
        return len(self.keys)

    def to_params(self, u):
        """Unit-cube point ``u`` → parameter dict (min/max pairs ordered)."""
        u = np.clip(np.asarray(u, float), 0.0, 1.0)
        lo = np.where(self.log, np.log(np.where(self.log, self.low, 1.0)), self.low)
        hi = np.where(self.log, np.log(np.where(self.log, self.high, 1.0)), self.high)
        v = lo + u * (hi - lo)
        v = np.where(self.log, np.exp(v), v)
        params = {k: float(x) for k, x in zip(self.keys, v)}
        for kmin, kmax in self._pairs:
            if params[kmin] > params[kmax]:
                params[kmin], params[kmax] = params[kmax], params[kmin]
        return params

    def to_unit(self, params):
        """Parameter dict → unit-cube point (values outside the range are clipped)."""
        v = np.array([float(params[k]) for k in self.keys])
        lo = np.where(self.log, np.log(np.where(self.log, self.low, 1.0)), self.low)
        hi = np.where(self.log, np.log(np.where(self.log, self.high, 1.0)), self.high)
        v = np.where(self.log, np.log(np.maximum(v, 1e-300)), v)
        return np.clip((v - lo) / (hi - lo), 0.0, 1.0)

    def as_dict(self):
        """The space as plain YAML-friendly values."""
        return {k: {"low": float(lo), "high": float(hi), "log": bool(lg)}
                for k, lo, hi, lg in zip(self.keys, self.low, self.high, self.log)}


def _min_max_pairs(keys):
    pairs = []
    for k in keys:
        head, sep, tail = k.rpartition("__")
        if tail.startswith("min_"):
            partner = f"{head}{sep}max_{tail[4:]}"
            if partner in keys:
                pairs.append((k, partner))
    return pairs


def declared_space(pipeline):
    """The tunable ranges a pipeline declares.

    Looks, in order, for a ``tunable_space()`` method, a ``tunable`` / ``tunables`` attribute,
    and a ``tunable:`` entry of ``pipeline.to_dict()``; each is a mapping ``{key: range}``
    (or a list of ``{param, low, high[, log]}`` rows).

    Raises
    ------
    ConfigError
        If the pipeline declares nothing tunable.
    """
    found = None
    if callable(getattr(pipeline, "tunable_space", None)):
        found = pipeline.tunable_space()
    for attr in ("tunable", "tunables"):
        if found is None and getattr(pipeline, attr, None) is not None:
            found = getattr(pipeline, attr)
            found = found() if callable(found) else found
    if found is None and callable(getattr(pipeline, "to_dict", None)):
        d = pipeline.to_dict()
        if isinstance(d, dict):
            found = d.get("tunable") or d.get("tunables")
    if isinstance(found, list):
        rows = {}
        for row in found:
            if not isinstance(row, dict) or "param" not in row:
                raise ConfigError(f"tunable: each entry needs 'param', 'low', 'high'; got {row!r}")
            rows[row["param"]] = {k: row[k] for k in ("low", "high", "log") if k in row}
        found = rows
    if not found:
        raise ConfigError(
            "the pipeline declares no tunable parameters: add a 'tunable:' mapping "
            "{step__param: [low, high]} to its YAML, or pass --search-space FILE")
    return dict(found)
