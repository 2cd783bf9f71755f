"""Turn a lead's vector in VCG space (the physical meaning of "rotating a lead")."""

from __future__ import annotations

import numpy as np

from augment import leads as _leads
from augment.transforms._common import (
    check_count,
    check_leads,
    check_pair,
)
from augment.transforms._geometry import correction_matrix, rotation_about
from augment.transforms._linear import BaseLinearTransform
from shirtecg_common.validation import check_option


class LeadVectorRotation(BaseLinearTransform):
    """Turn the lead vector of one or more independent leads by a small angle.

    A lead sees the heart dipole through its lead vector (its row of the Dower matrix);
    a displaced electrode turns that vector. The row ``c`` of each chosen lead is turned
    by ``θ`` about a random axis perpendicular to it (so the angle between old and new
    vector is exactly ``|θ|``, the length is kept), and the change is applied as the
    correction ``x' = x + (D' − D) · T · x`` (``T``: inverse Dower or Kors), which keeps
    the record's non-dipolar content. Derived leads follow I and II.

    Parameters
    ----------
    min_angle_deg, max_angle_deg : float
        Range of ``|θ|`` in degrees (default 5–15).
    n_leads : int or (int, int)
        How many leads are turned per record.
    leads : list of str
        Leads that may be turned (default all eight independent leads).
    vcg_method : {"inverse_dower", "kors"}
        Leads → VCG matrix ``T``.
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record: ``angle_deg`` (8 values, 0 for leads left alone) and ``axis``
    (8 unit vectors in VCG X, Y, Z).
    """

    def __init__(self, min_angle_deg=5.0, max_angle_deg=15.0, n_leads=1,
                 leads=_leads.INDEPENDENT_LEADS, vcg_method="inverse_dower", p=0.5):
        super().__init__(p=p)
        self.min_angle_deg = min_angle_deg
        self.max_angle_deg = max_angle_deg
        self.n_leads = n_leads
        self.leads = leads
        self.vcg_method = vcg_method

    def _validate_params(self, sfreq):
        check_pair(self, "min_angle_deg", self.min_angle_deg, "max_angle_deg",
                   self.max_angle_deg, lower=0.0, upper=90.0)
        idx = check_leads(self, "leads", self.leads, _leads.INDEPENDENT_LEADS)
        check_count(self, "n_leads", self.n_leads, len(idx))
        check_option(f"{type(self).__name__}: vcg_method", self.vcg_method,
                     tuple(_leads.VCG_METHODS))

    def randomize_parameters(self, x, sfreq, rngs):
        idx = check_leads(self, "leads", self.leads, _leads.INDEPENDENT_LEADS)
        lo, hi = check_count(self, "n_leads", self.n_leads, len(idx))
        n, k = len(rngs), len(idx)
        # two generator calls per record (count, lead order, |θ|, sign; axis directions),
        # the rest vectorized over the batch
        u = np.empty((n, 1 + k + 2 * hi))
        g = np.empty((n, hi, 3))
        for i, rng in enumerate(rngs):
            u[i] = rng.random(u.shape[1])
            g[i] = rng.standard_normal((hi, 3))
        counts = lo + np.minimum((u[:, 0] * (hi - lo + 1)).astype(np.intp), hi - lo)
        leads = np.asarray(idx)[np.argsort(u[:, 1:1 + k], axis=1)[:, :hi]]  # (n, hi) distinct
        low, high = self.min_angle_deg, self.max_angle_deg
        mag = low + (high - low) * u[:, 1 + k:1 + k + hi]
        signed = np.where(u[:, 1 + k + hi:] < 0.5, -mag, mag)
        unit_rows = _leads.DOWER / np.linalg.norm(_leads.DOWER, axis=1, keepdims=True)
        c = unit_rows[leads]  # (n, hi, 3)
        g -= np.sum(g * c, axis=-1, keepdims=True) * c  # perpendicular to the lead vector
        g /= np.linalg.norm(g, axis=-1, keepdims=True)
        used = np.arange(hi)[None, :] < counts[:, None]
        rec = np.broadcast_to(np.arange(n)[:, None], used.shape)[used]
        angles = np.zeros((n, 8))
        axes = np.zeros((n, 8, 3))
        angles[rec, leads[used]] = signed[used]
        axes[rec, leads[used]] = g[used]
        return {"angle_deg": angles, "axis": axes}

    def lead_matrices(self, params):
        angles = np.deg2rad(np.asarray(params["angle_deg"], dtype=np.float64))
        axes = np.asarray(params["axis"], dtype=np.float64)
        n = len(angles)
        safe_axes = np.where(angles[..., None] == 0, [1.0, 0.0, 0.0], axes).reshape(-1, 3)
        rot = rotation_about(safe_axes, angles.reshape(-1)).reshape(n, 8, 3, 3)
        new_dower = np.einsum("nlij,lj->nli", rot, _leads.DOWER)
        return np.eye(8) + correction_matrix(new_dower, self.vcg_method)
