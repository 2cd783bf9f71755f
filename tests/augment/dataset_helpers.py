"""Shared helpers of the dataset tests: layout fixtures and a small pipeline.

``GainPipeline`` follows the augment pipeline contract (per-record seeds, ``last_parameters``,
``to_dict``, ``output_sfreq``, ``output_leads``) with the simplest possible transform, so
writer tests do not depend on the transform presets.
"""

from __future__ import annotations

import numpy as np

from augment.leads import LEADS_12


class GainPipeline:
    """Multiply each record by a gain drawn from its own generator and add white noise."""

    output_leads = LEADS_12

    def __init__(self, noise_mv=0.01):
        self.noise_mv = noise_mv

    def output_sfreq(self, sfreq):
        return sfreq

    def to_dict(self):
        return {"GainPipeline": {"noise_mv": self.noise_mv}}

    def __call__(self, x, sfreq, random_state=None):
        rngs = [np.random.default_rng(s) for s in random_state]
        gains = np.array([r.uniform(0.5, 1.5) for r in rngs], dtype=np.float32)
        noise = np.stack([r.standard_normal(x.shape[1:], dtype=np.float32) for r in rngs])
        self.last_parameters = [{"gain": float(g)} for g in gains]
        return x * gains[:, None, None] + np.float32(self.noise_mv) * noise
