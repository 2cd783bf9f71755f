"""The transform contract: audiomentations' randomize/apply split on batches.

Every transform

* follows scikit-learn's parameter rules (``__init__`` only assigns, ``get_params`` /
  ``set_params``), so calibration can tune it through nested ``step__param`` keys;
* has a probability ``p`` and ranges as ``min_*`` / ``max_*`` pairs;
* works on a whole batch of the **8 independent leads** ``(n, 8, T)`` float32 in mV
  (``I II V1…V6``); the other four leads are re-derived afterwards, which keeps the lead
  algebra exact by construction;
* draws every random value from the record's own :class:`numpy.random.Generator`
  (``rngs[i]`` for record ``i``), so a record's result depends only on its seed, never on
  its batch or position.

A subclass overrides

``randomize_parameters(x, sfreq, rngs) -> dict``
    Draw the values for the records that will be transformed (``x`` holds only those).
    Return ``{name: array of length len(x)}``; noise transforms draw per-record integer
    seeds here rather than noise, so :meth:`apply` stays a pure function of the values.
``apply(x, sfreq, params) -> ndarray``
    Transform ``x`` using only ``params``. May work in place on ``x`` (the caller hands
    over a private copy) and must return a float32 array ``(n, 8, T')``.

Calling a transform on 12-lead data (``transform(x12, sfreq, random_state)``) takes the
independent leads, applies, and re-derives the 12 leads.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator

from augment import leads as _leads
from shirtecg_common.random import check_random_state


def make_rngs(random_state, n: int) -> list:
    """One generator per record.

    Parameters
    ----------
    random_state : None | int | numpy.random.Generator | sequence
        ``None``/int/Generator seed the whole batch (record ``i`` gets child ``i`` of a
        spawn, so results depend on batch position); a sequence of ``n`` seeds (ints,
        SeedSequences or Generators) gives record ``i`` its own seed, so its result
        depends on nothing else.
    n : int
        Number of records.

    Returns
    -------
    rngs : list of numpy.random.Generator
    """
    if isinstance(random_state, (list, tuple, np.ndarray)) and not isinstance(
        random_state, (str, bytes)
    ):
        seeds = list(random_state)
        if len(seeds) != n:
            raise ValueError(
                f"random_state is a sequence of {len(seeds)} per-record seeds but the batch "
                f"has {n} records; pass one seed per record, or one int/Generator for the batch"
            )
        return [check_random_state(_as_seed(s)) for s in seeds]
    if random_state is not None and not isinstance(random_state, np.random.Generator):
        # what Generator.spawn does for a fresh int-seeded generator, without building it
        # and with less per-child overhead (the same children, the same streams)
        check_random_state(random_state)  # validates the seed
        seq = np.random.SeedSequence(random_state) if isinstance(random_state, numbers.Integral) \
            else random_state
        return [np.random.Generator(np.random.PCG64(child)) for child in seq.spawn(n)]
    return check_random_state(random_state).spawn(n)


def draw_gate(rngs, p) -> np.ndarray:
    """Which records a transform with probability ``p`` applies to (bool ``(n,)``).

    One uniform per record from its own generator; ``p = 1`` and ``p = 0`` draw nothing
    (the outcome is certain), which saves a generator call per record and step.
    """
    if p >= 1.0:
        return np.ones(len(rngs), dtype=bool)
    if p <= 0.0:
        return np.zeros(len(rngs), dtype=bool)
    return np.array([rng.random() < p for rng in rngs], dtype=bool)


def _as_seed(s):
    if isinstance(s, np.integer):
        return int(s)
    return s


def as_batch(x, *, name="x"):
    """Validate a signal: returns ``(batch float32 (n, L, T), was_single_record)``."""
    x = np.asarray(x)
    if x.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a numeric array, got dtype {x.dtype}")
    single = x.ndim == 2
    if single:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(
            f"{name} must have shape (n_leads, n_times) or (n_records, n_leads, n_times), "
            f"got shape {x.shape}"
        )
    return np.ascontiguousarray(x, dtype=np.float32), single


def check_sfreq(sfreq):
    """Validate a sampling rate (positive, finite number); returns it as float."""
    if not isinstance(sfreq, numbers.Real) or isinstance(sfreq, bool) or not np.isfinite(sfreq) \
            or sfreq <= 0:
        raise ValueError(f"sfreq must be a positive number of Hz, got {sfreq!r}")
    return float(sfreq)


class BaseTransform(BaseEstimator):
    """Base class of every augmentation transform.

    Parameters
    ----------
    p : float
        Probability, drawn per record, that the transform is applied.
    """

    #: Set False on output-stage transforms that change the number of leads.
    keeps_independent_leads = True

    #: True when ``apply(x, sfreq, params, rows=...)`` can work in place on rows of a larger
    #: batch (parameter ``j`` belongs to ``x[rows[j]]``). Pipelines then transform a subset of
    #: records without copying it out and back (see :meth:`transform_batch`).
    supports_rows = False
    #: For ``supports_rows`` transforms: False when ``randomize_parameters`` reads only the
    #: shape of ``x`` (it then gets a zero-cost placeholder of the right shape).
    randomize_reads_signal = True

    def __init__(self, p=0.5):
        self.p = p

    # ----------------------------------------------------------------- subclass API
    def randomize_parameters(self, x, sfreq, rngs) -> dict:
        """Draw this transform's values for each record of ``x``; see module docstring."""
        return {}

    def apply(self, x, sfreq, params):  # pragma: no cover - abstract
        """Transform ``x`` (``(n, 8, T)`` float32 mV) using only ``params``."""
        raise NotImplementedError

    def output_sfreq(self, sfreq):
        """Sampling rate of this transform's output (only resampling changes it)."""
        return sfreq

    def _validate_params(self, sfreq):
        """Check parameter values (ranges, options); raise ``ValueError`` naming the bad one.

        Runs at every call, not in ``__init__``, so ``set_params`` cannot bypass it.
        """

    # ----------------------------------------------------------------- framework
    def _check_p(self):
        p = self.p
        if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: p must be a probability in [0, 1], got {p!r}")

    def transform_batch(self, x8, sfreq, rngs, inplace=False, rows=None):
        """Apply to a batch of independent leads with per-record generators.

        This is what pipelines call. ``x8`` is ``(n, 8, T)`` float32 and is not modified,
        unless ``inplace=True``: then the caller owns ``x8`` and lets it be overwritten
        (pipelines do this after their first step, which saves two batch copies per step).

        ``rows`` (with ``inplace=True``): transform only records ``x8[rows]``, in place;
        ``rngs`` and the returned records then belong to those rows.

        Returns
        -------
        out : ndarray, shape (n, 8, T')
        records : list of dict
            Per record: ``{"applied": bool, <param>: value, …}`` (JSON-friendly).
        """
        self._check_p()
        self._validate_params(sfreq)
        if rows is not None:
            return self._transform_rows(x8, sfreq, rngs, np.asarray(rows), inplace)
        n = len(x8)
        if self.supports_rows:  # in place on the rows that are drawn: no subset copies
            target = x8 if inplace else x8.copy()
            return self._transform_rows(target, sfreq, rngs, np.arange(n), True)
        applied = draw_gate(rngs, self.p)
        records = [{"applied": a} for a in applied.tolist()]
        if not applied.any():
            return x8, records
        idx = np.flatnonzero(applied)
        sub_rngs = [rngs[i] for i in idx]
        sub = x8[idx] if len(idx) < n else (x8 if inplace else x8.copy())
        params = self.randomize_parameters(sub, sfreq, sub_rngs)
        result = self.apply(sub, sfreq, params)
        _record(records, idx, params)
        if len(idx) == n:
            return np.asarray(result, dtype=np.float32), records
        if result.shape[1:] != x8.shape[1:]:
            raise RuntimeError(
                f"{type(self).__name__} changes the signal shape, so it must be applied with "
                "p=1.0 (all records of a batch must keep one shape)"
            )
        out = x8 if inplace else x8.copy()
        out[idx] = result
        return out, records

    def _transform_rows(self, x8, sfreq, rngs, rows, inplace):
        """Gate and transform ``x8[rows]`` in place (``supports_rows``) or via a subset copy."""
        if not inplace:
            raise ValueError("transform_batch(rows=...) works in place: pass inplace=True")
        applied = draw_gate(rngs, self.p)
        records = [{"applied": a} for a in applied.tolist()]
        if not applied.any():
            return x8, records
        idx = np.flatnonzero(applied)
        sel = rows[idx]
        sub_rngs = [rngs[j] for j in idx]
        if self.supports_rows:
            view = x8[sel] if self.randomize_reads_signal else np.broadcast_to(
                np.float32(0), (len(sel),) + x8.shape[1:])
            params = self.randomize_parameters(view, sfreq, sub_rngs)
            self.apply(x8, sfreq, params, rows=sel)
        else:
            sub = x8[sel]
            params = self.randomize_parameters(sub, sfreq, sub_rngs)
            result = self.apply(sub, sfreq, params)
            if result.shape[1:] != x8.shape[1:]:
                raise RuntimeError(
                    f"{type(self).__name__} changes the signal shape, so it must be applied "
                    "with p=1.0 to whole batches")
            x8[sel] = result
        _record(records, idx, params)
        return x8, records

    def __call__(self, x, sfreq, random_state=None):
        """Apply to 12-lead data ``(12, T)`` or ``(n, 12, T)`` in mV; returns the same layout.

        ``random_state``: see :func:`make_rngs`. The drawn values are kept in
        :attr:`last_parameters` (one dict per record).
        """
        x, single = as_batch(x)
        sfreq = check_sfreq(sfreq)
        rngs = make_rngs(random_state, len(x))
        out8, records = self.transform_batch(_leads.independent(x), sfreq, rngs)
        self.last_parameters = records
        out = _leads.derive(out8) if self.keeps_independent_leads else out8
        return out[0] if single else out


def _record(records, idx, params):
    """Store drawn ``params`` (record ``j`` of them → ``records[idx[j]]``) as builtins."""
    for name, values in params.items():
        if isinstance(values, np.ndarray):  # one conversion per parameter, not per record
            values = values.tolist()
            for j, i in enumerate(idx):
                records[i][name] = values[j]
            continue
        for j, i in enumerate(idx):
            records[i][name] = _to_builtin(values[j])


_PLAIN = (int, float, str, bool, type(None))


def _to_builtin(v):
    """Numpy scalars/arrays → plain Python values (for JSON manifests)."""
    if type(v) in _PLAIN:  # fast path: most drawn values are plain already
        return v
    if type(v) is list and all(type(e) in _PLAIN for e in v):  # e.g. tolist() output
        return v
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (list, tuple)) or (isinstance(v, Sequence) and not isinstance(v, str)):
        return [_to_builtin(e) for e in v]
    return v
