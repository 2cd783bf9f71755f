"""Transforms that are one 8 × 8 lead matrix per record, and their fusion.

Rotations, displacements and gains all map the independent leads as ``x' = M · x`` with a
per-record matrix ``M``. A run of such steps (also inside ``Compose``/``OneOf``/``SomeOf``)
is fused by the compositions into one matrix product per record: the same draws from the
same generators, one pass over the batch instead of one gather/apply/scatter per step.
"""

from __future__ import annotations

import numpy as np

from augment.base import BaseTransform, _record, draw_gate

EYE8 = np.eye(8)


class BaseLinearTransform(BaseTransform):
    """Base of transforms whose effect on a record is ``x' = M · x`` (``M`` 8 × 8).

    Subclasses implement :meth:`lead_matrices`; :meth:`randomize_parameters` must not
    read the signal values (only its shape), so draws can be made without gathering the
    records (:meth:`linear_batch`).
    """

    is_linear = True

    def lead_matrices(self, params) -> np.ndarray:  # pragma: no cover - abstract
        """``(n, 8, 8)`` float64 matrices ``M`` for the drawn ``params``."""
        raise NotImplementedError

    def apply(self, x, sfreq, params):
        return np.matmul(self.lead_matrices(params).astype(np.float32), x)

    def linear_batch(self, x8, sfreq, rngs):
        """Draw exactly as :meth:`transform_batch` does, but return matrices, not signals.

        Returns
        -------
        m : ndarray, shape (n, 8, 8)
            Identity for records the transform does not apply to.
        records : list of dict
            As :meth:`transform_batch` records them.
        """
        self._check_p()
        self._validate_params(sfreq)
        applied = draw_gate(rngs, self.p)
        records = [{"applied": a} for a in applied.tolist()]
        m = np.broadcast_to(EYE8, (len(rngs), 8, 8)).copy()
        if not applied.any():
            return m, records
        idx = np.flatnonzero(applied)
        params = self.randomize_parameters(x8, sfreq, [rngs[i] for i in idx])
        m[idx] = self.lead_matrices(params)
        _record(records, idx, params)
        return m, records


def is_linear(t) -> bool:
    """True if ``t`` (a transform or composition) can report per-record lead matrices."""
    return bool(getattr(t, "is_linear", False))


def apply_matrices(m, x8, owned=False):
    """``M · x`` per record in float32.

    A fresh array, unless ``owned``: then ``x8`` is overwritten record by record through a
    one-record buffer, and records whose matrix is the identity are skipped (no 40 MB
    allocation per batch; C2).
    """
    m = np.asarray(m, dtype=np.float32)
    if not owned:
        return np.matmul(m, x8)
    buf = np.empty(x8.shape[1:], dtype=np.float32)
    moved = np.flatnonzero(np.any(m != EYE8.astype(np.float32), axis=(1, 2)))
    for i in moved:
        np.dot(m[i], x8[i], out=buf)
        x8[i] = buf
    return x8
