"""Separate gains for the precordial and the limb leads."""

from __future__ import annotations

import numpy as np

from augment.transforms._common import check_pair
from augment.transforms._linear import BaseLinearTransform


class PrecordialLimbScale(BaseLinearTransform):
    """Scale V1–V6 by one gain and I, II (hence III, aVR, aVL, aVF) by another.

    Models chest-wall thickness and breast tissue (precordial amplitudes vary widely
    between people) versus the more stable limb leads.

    Parameters
    ----------
    min_precordial, max_precordial : float
        Range of the precordial gain (default 0.7–1.3).
    min_limb, max_limb : float
        Range of the limb gain (default 0.9–1.1).
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record: ``precordial_scale`` and ``limb_scale``.
    """

    def __init__(self, min_precordial=0.7, max_precordial=1.3, min_limb=0.9, max_limb=1.1,
                 p=0.5):
        super().__init__(p=p)
        self.min_precordial = min_precordial
        self.max_precordial = max_precordial
        self.min_limb = min_limb
        self.max_limb = max_limb

    def _validate_params(self, sfreq):
        check_pair(self, "min_precordial", self.min_precordial, "max_precordial",
                   self.max_precordial, lower=0.0)
        check_pair(self, "min_limb", self.min_limb, "max_limb", self.max_limb, lower=0.0)

    def randomize_parameters(self, x, sfreq, rngs):
        out = {"precordial_scale": [], "limb_scale": []}
        for rng in rngs:
            out["precordial_scale"].append(rng.uniform(self.min_precordial, self.max_precordial))
            out["limb_scale"].append(rng.uniform(self.min_limb, self.max_limb))
        return {k: np.array(v) for k, v in out.items()}

    def apply(self, x, sfreq, params):
        x[:, :2] *= np.asarray(params["limb_scale"], dtype=np.float32)[:, None, None]
        x[:, 2:] *= np.asarray(params["precordial_scale"], dtype=np.float32)[:, None, None]
        return x

    def lead_matrices(self, params):
        limb = np.asarray(params["limb_scale"], dtype=np.float64)
        chest = np.asarray(params["precordial_scale"], dtype=np.float64)
        diag = np.concatenate([np.repeat(limb[:, None], 2, 1), np.repeat(chest[:, None], 6, 1)], 1)
        return np.eye(8) * diag[:, None, :]
