"""Running a composition's steps on a batch without needless copies.

What :mod:`augment.compose` delegates here:

* :func:`run_step` — one step, in place when the caller owns the batch;
* :func:`run_in_order` — every step in order, with runs of consecutive *linear* steps
  (per-record lead matrices) multiplied into one matrix and applied in one pass;
* :func:`run_chosen` — each step on the records that chose it (``OneOf``/``SomeOf``):
  the whole batch when all did, the rows in place for row-capable steps, else a subset
  copy written back.

"Owned" means the caller lets the array be overwritten: a pipeline owns its working
buffer, so steps after it transform in place instead of allocating a batch each.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from augment.leads import INDEPENDENT_INDEX
from augment.transforms import _time_maps as _tm
from augment.transforms._linear import EYE8, apply_matrices, is_linear
from augment.transforms._time_maps import is_time_map


@functools.lru_cache(maxsize=None)
def _takes_inplace(cls) -> bool:
    return "inplace" in inspect.signature(cls.transform_batch).parameters


def run_step(t, x8, sfreq, rngs, owned):
    """``t.transform_batch``, letting it overwrite ``x8`` when the caller ``owned`` it.

    Returns ``(out, records, owned)``: ``owned`` tells whether ``out`` may be overwritten
    by the next step (true once any step produced a fresh array).
    """
    if owned and _takes_inplace(type(t)):
        out, records = t.transform_batch(x8, sfreq, rngs, inplace=True)
    else:
        out, records = t.transform_batch(x8, sfreq, rngs)
    return out, records, owned or out is not x8


def run_in_order(named, x8, sfreq, rngs, owned=False, source=None):
    """Run every ``(name, step)`` of ``named`` on all records; returns ``(out, records)``.

    Consecutive linear steps (lead matrices) and time maps (shifts, at most one stretch per
    record) only draw; before the next other step (or at the end) each record gets its
    time map and the product of its matrices in one pass (:class:`_Pending`).

    ``source`` (a 12-lead batch ``(n, 12, T)``): ``x8`` (owned) is not filled yet and stands
    for the independent leads of ``source``; the first pass reads them from there.
    """
    records = [{} for _ in rngs]
    pending = _Pending(source)
    for name, t in named:
        if is_linear(t):
            m, recs = t.linear_batch(x8, sfreq, rngs)
            pending.add_matrices(m)
        elif is_time_map(t):
            maps, recs = t.time_map_batch(x8, sfreq, rngs)
            if not pending.add_maps(maps, x8.shape[-1]):  # a second stretch: pass first
                x8, owned = pending.flush(x8, owned)
                pending.add_maps(maps, x8.shape[-1])
        else:
            x8, owned = pending.flush(x8, owned)
            x8, recs, owned = run_step(t, x8, sfreq, rngs, owned)
        for rec, r in zip(records, recs):
            rec[name] = r
    x8, owned = pending.flush(x8, owned)
    return x8, records


class _Pending:
    """Per-record time maps and lead matrices drawn but not applied yet."""

    def __init__(self, source=None):
        self.source = source
        self.maps = None
        self.matrices = None

    def add_matrices(self, m):
        self.matrices = m if self.matrices is None else m @ self.matrices

    def add_maps(self, maps, n_times):
        """Compose ``maps`` after the pending ones; False (nothing changed) if one can't be."""
        if self.maps is None:
            self.maps = list(maps)
            return True
        try:
            self.maps = [_tm.compose(a, b, n_times) for a, b in zip(self.maps, maps)]
        except _tm.NotFusable:
            return False
        return True

    def flush(self, x8, owned):
        """Apply what is pending: ``M · map(x)`` per record, one pass; returns ``(x8, owned)``.

        A time map and a lead matrix commute (one acts on time, the other on leads), so
        the map is applied first whatever the order of the steps was.
        """
        source, maps, m = self.source, self.maps, self.matrices
        self.source = self.maps = self.matrices = None
        if source is None and maps is None:
            return (x8, owned) if m is None else (apply_matrices(m, x8, owned), True)
        moved = np.zeros(len(x8), dtype=bool)
        if m is not None:
            m = np.asarray(m, dtype=np.float32)
            moved = np.any(m != EYE8.astype(np.float32), axis=(1, 2))
        if maps is None:
            maps = [None] * len(x8)
        if source is not None:
            return self._flush_from_source(source, x8, maps, m, moved), True
        out = x8 if owned else np.empty_like(x8)
        a = np.empty(x8.shape[1:], dtype=np.float32)
        b = np.empty_like(a)
        for i in range(len(x8)):
            if maps[i] is None:
                if moved[i]:
                    np.dot(m[i], x8[i], out=a)
                    out[i] = a
                elif out is not x8:
                    out[i] = x8[i]
                continue
            _tm.render(maps[i], ((x8[i], slice(0, 8)),), a, b)
            if moved[i]:
                np.dot(m[i], a, out=out[i])
            else:
                out[i] = a
        return out, True

    @staticmethod
    def _flush_from_source(source, out, maps, m, moved):
        """:meth:`flush` reading the independent leads from the 12-lead ``source``."""
        n_times = source.shape[-1]
        if m is not None:  # the same matrices on the 12 rows (0 on III, aVR, aVL, aVF)
            m12 = np.zeros((len(m), 8, 12), dtype=np.float32)
            m12[:, :, INDEPENDENT_INDEX] = m
        a = np.empty(out.shape[1:], dtype=np.float32)
        b = np.empty_like(a)
        for i in range(len(out)):
            mp = maps[i]
            if moved[i] and (mp is None or mp[0] == "roll"):
                # a matrix, maybe after a roll: products straight from the input rows into
                # the output (no copy of the 8 leads first; bit-identical)
                s = 0 if mp is None else int(mp[1])
                if s == 0:
                    np.dot(m12[i], source[i], out=out[i])
                else:
                    np.matmul(m12[i], source[i][:, :n_times - s], out=out[i][:, s:])
                    np.matmul(m12[i], source[i][:, n_times - s:], out=out[i][:, :s])
                continue
            parts = ((source[i, 0:2], slice(0, 2)), (source[i, 6:12], slice(2, 8)))
            if not moved[i]:  # straight into the output record
                _tm.render(mp, parts, out[i], b)
                continue
            _tm.render(mp, parts, a, b)
            np.dot(m[i], a, out=out[i])
        return out


def run_chosen(owner, named, x8, sfreq, rngs, chosen, owned=False):
    """Run step ``k`` of ``named`` on the records whose ``chosen[j]`` contains ``k``.

    Steps run in list order. ``x8`` is only modified if ``owned`` (else it is copied
    before the first write). ``owner`` names the composition in errors. Returns
    ``(out, records)``.
    """
    if all(len(c) == 0 for c in chosen):
        return x8, [{} for _ in rngs]
    records = [{} for _ in rngs]
    for k, (name, t) in enumerate(named):
        sel = np.array([k in c for c in chosen], dtype=bool)
        if not sel.any():
            continue
        idx = np.flatnonzero(sel)
        if len(idx) == len(x8):
            x8, recs, owned = run_step(t, x8, sfreq, rngs, owned)
            for rec, r in zip(records, recs):
                rec[name] = r
            continue
        if getattr(t, "supports_rows", False) and not hasattr(t, "named_transforms"):
            # row-capable leaf step: transform the subset in place, no copy out and back
            if not owned:
                x8, owned = x8.copy(), True
            x8, recs = t.transform_batch(x8, sfreq, [rngs[i] for i in idx], inplace=True,
                                         rows=idx)
            for j, i in enumerate(idx):
                records[i][name] = recs[j]
            continue
        # the subset is a private copy, so the step may overwrite it
        out, recs, _ = run_step(t, x8[idx], sfreq, [rngs[i] for i in idx], owned=True)
        if out.shape[1:] != x8.shape[1:]:
            raise RuntimeError(
                f"{owner}: step {name!r} changes the signal shape "
                f"{x8.shape[1:]} -> {out.shape[1:]}; shape-changing transforms (resampling, "
                "output leads) belong at the end of a Pipeline, outside OneOf/SomeOf"
            )
        if not owned:
            x8, owned = x8.copy(), True
        x8[idx] = out
        for j, i in enumerate(idx):
            records[i][name] = recs[j]
    return x8, records
