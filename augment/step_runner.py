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

from augment.transforms._linear import apply_matrices, is_linear


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


def run_in_order(named, x8, sfreq, rngs, owned=False):
    """Run every ``(name, step)`` of ``named`` on all records; returns ``(out, records)``.

    Consecutive linear steps only draw their matrices; their product is applied once,
    before the next non-linear step (or at the end).
    """
    records = [{} for _ in rngs]
    pending = None  # product of the lead matrices of a run of linear steps
    for name, t in named:
        if is_linear(t):
            m, recs = t.linear_batch(x8, sfreq, rngs)
            pending = m if pending is None else m @ pending
        else:
            if pending is not None:
                x8, owned, pending = apply_matrices(pending, x8, owned), True, None
            x8, recs, owned = run_step(t, x8, sfreq, rngs, owned)
        for rec, r in zip(records, recs):
            rec[name] = r
    if pending is not None:
        x8 = apply_matrices(pending, x8, owned)
    return x8, records


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
