"""Transforms that re-time every lead of a record the same way, and their fusion.

A time shift and a time stretch read each output sample from the input at a position that
is the same for all leads of a record: a *time map*. Two kinds are enough to write them:

``("roll", s)``
    ``y[t] = x[(t − s) mod T]`` (a circular shift by ``s`` samples);
``("gather", ia)``
    ``y[t] = x[ia[t]]`` (any whole-sample re-indexing, e.g. a shift that holds the edge);
``("interp", ia, ib, w)``
    ``y[t] = a + w·(b − a)`` with ``a = x[ia[t]]``, ``b = x[ib[t]]`` (linear interpolation).

Whole-sample maps compose into one gather, and a gather before or after one interpolation
still reads two samples per output sample, so a run of shifts and at most one stretch is
*one* pass over the record, with the same arithmetic (bit for bit) as running the steps one
after the other. A time map acts on time and a lead matrix on leads, so they commute:
:mod:`augment.step_runner` applies a record's time map and its fused lead matrix in one
pass (``M · map(x)``), and a :class:`~augment.pipeline.Pipeline` makes that pass read the
12-lead input directly, so the initial copy of the independent leads is part of it.
"""

from __future__ import annotations

import numpy as np

from augment.base import BaseTransform, _record, draw_gate


class NotFusable(Exception):
    """Two interpolating maps in a row: they cannot be one two-tap pass."""


class BaseTimeMapTransform(BaseTransform):
    """Base of transforms that re-time all leads of a record alike (see module docstring).

    Subclasses implement :meth:`time_maps`; their ``randomize_parameters`` must read only
    the shape of ``x`` (as for lead matrices), so draws can be made before the signal exists.
    """

    is_time_map = True
    supports_rows = True
    randomize_reads_signal = False

    def time_maps(self, params, n_times, sfreq) -> list:  # pragma: no cover - abstract
        """One map per record of ``params`` (``None`` for the identity)."""
        raise NotImplementedError

    def time_map_batch(self, x8, sfreq, rngs):
        """Draw exactly as :meth:`transform_batch` does, but return maps, not signals.

        ``x8`` is not read (only its shape). Returns ``(maps, records)``: one map (or
        ``None``) per record, and the records :meth:`transform_batch` would give.
        """
        self._check_p()
        self._validate_params(sfreq)
        applied = draw_gate(rngs, self.p)
        records = [{"applied": a} for a in applied.tolist()]
        maps = [None] * len(rngs)
        if not applied.any():
            return maps, records
        idx = np.flatnonzero(applied)
        shape = (len(idx),) + tuple(x8.shape[1:])
        params = self.randomize_parameters(np.broadcast_to(np.float32(0), shape), sfreq,
                                           [rngs[i] for i in idx])
        for i, m in zip(idx, self.time_maps(params, x8.shape[-1], sfreq)):
            maps[i] = m
        _record(records, idx, params)
        return maps, records


def is_time_map(t) -> bool:
    """True if ``t`` can report per-record time maps (:class:`BaseTimeMapTransform`)."""
    return bool(getattr(t, "is_time_map", False))


def compose(first, then, n_times):
    """The map of ``then`` applied after ``first`` (either may be ``None``).

    Raises :class:`NotFusable` for an interpolation after an interpolation.
    """
    if first is None:
        return then
    if then is None:
        return first
    if first[0] == "roll" and then[0] == "roll":
        return ("roll", (first[1] + then[1]) % n_times)
    if then[0] == "interp" and first[0] == "interp":
        raise NotFusable
    if first[0] == "roll":
        first = ("gather", _roll_index(first[1], n_times))
    if then[0] == "roll":
        then = ("gather", _roll_index(then[1], n_times))
    if then[0] == "gather":
        g = then[1]
        if first[0] == "gather":
            return ("gather", first[1][g])
        return ("interp", first[1][g], first[2][g], first[3][g])
    # an interpolation after a gather: both taps read through the gather
    return ("interp", first[1][then[1]], first[1][then[2]], then[3])


def _roll_index(s, n_times):
    return (np.arange(n_times) - s) % n_times


def render(m, parts, a, b):
    """Apply map ``m`` to a record given as ``parts`` ``[(src rows, slice of a), …]``.

    The result is written into ``a`` (``(8, T)`` scratch, not aliasing any source); ``b``
    is scratch of the same shape. ``m`` ``None`` copies the sources.
    """
    for src, rs in parts:
        dst = a[rs]
        if m is None:
            dst[...] = src
        elif m[0] == "roll":
            s = int(m[1])
            n_times = src.shape[-1]
            dst[:, s:] = src[:, :n_times - s]
            dst[:, :s] = src[:, n_times - s:]
        else:
            # mode="clip" (indices are in range): ~2x faster than bounds-checked gathers
            np.take(src, m[1], axis=1, mode="clip", out=dst)
            if m[0] == "interp":
                tap = b[rs]
                np.take(src, m[2], axis=1, mode="clip", out=tap)
                tap -= dst
                tap *= m[3]
                dst += tap
    return a
