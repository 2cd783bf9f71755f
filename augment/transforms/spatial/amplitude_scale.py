"""Per-lead (or global) amplitude scale on the independent leads."""

from __future__ import annotations

import numpy as np

from augment.transforms._common import check_pair, uniform
from augment.transforms._linear import BaseLinearTransform


class AmplitudeScale(BaseLinearTransform):
    """Multiply each independent lead (I, II, V1–V6) by its own gain.

    Models electrode-contact and gain differences between channels. The derived leads
    (III, aVR, aVL, aVF) follow from the scaled I and II, so the lead algebra holds.

    Parameters
    ----------
    min_scale, max_scale : float
        Range of the gain, drawn uniformly per lead and record (default 0.8–1.2).
    per_lead : bool
        ``True``: one gain per independent lead; ``False``: one gain for the record.
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record: ``scale`` (8 values, or 1 when ``per_lead=False``).
    """

    def __init__(self, min_scale=0.8, max_scale=1.2, per_lead=True, p=0.5):
        super().__init__(p=p)
        self.min_scale = min_scale
        self.max_scale = max_scale
        self.per_lead = per_lead

    def _validate_params(self, sfreq):
        check_pair(self, "min_scale", self.min_scale, "max_scale", self.max_scale, lower=0.0)

    def randomize_parameters(self, x, sfreq, rngs):
        size = x.shape[1] if self.per_lead else 1
        return {"scale": uniform(rngs, self.min_scale, self.max_scale, size)}

    def apply(self, x, sfreq, params):
        x *= np.asarray(params["scale"], dtype=np.float32)[:, :, None]
        return x

    def lead_matrices(self, params):
        scale = np.asarray(params["scale"], dtype=np.float64)
        return np.eye(8) * np.broadcast_to(scale, (len(scale), 8))[:, None, :]
