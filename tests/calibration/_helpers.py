"""Shared helpers of the calibration tests: a small two-parameter noise transform."""

from __future__ import annotations

import numpy as np

from augment.base import BaseTransform


class WanderAndNoise(BaseTransform):
    """Adds white noise (``noise_mv`` RMS) and a 0.3 Hz sine wander (``wander_mv`` amplitude),
    each scaled per record by a factor drawn uniformly in 0.6–1.4 (recordings vary).

    Written for the tests so the fitter's recovery can be checked against known parameters
    independently of the augment package's own transforms.
    """

    def __init__(self, noise_mv=0.05, wander_mv=0.2, p=1.0):
        self.noise_mv = noise_mv
        self.wander_mv = wander_mv
        self.p = p

    def randomize_parameters(self, x, sfreq, rngs):
        return {"seed": np.array([int(r.integers(2**31 - 1)) for r in rngs]),
                "phase": np.array([r.uniform(0, 2 * np.pi) for r in rngs]),
                "k_noise": np.array([r.uniform(0.6, 1.4) for r in rngs]),
                "k_wander": np.array([r.uniform(0.6, 1.4) for r in rngs])}

    def apply(self, x, sfreq, params):
        t = np.arange(x.shape[-1]) / sfreq
        for i in range(len(x)):
            rng = np.random.default_rng(params["seed"][i])
            noise = params["k_noise"][i] * self.noise_mv * rng.standard_normal(x.shape[1:])
            x[i] += noise.astype(np.float32)
            x[i] += np.float32(params["k_wander"][i] * self.wander_mv) * np.sin(
                2 * np.pi * 0.3 * t + params["phase"][i]).astype(np.float32)
        return x


def synthetic_public(n, seconds=8.0, sfreq=250.0, seed=0):
    """``n`` noise-free synthetic 12-lead records (mV) from the augment dataset generator."""
    from augment.datasets import SyntheticReader

    reader = SyntheticReader(n_records=n, sfreq=sfreq, duration_s=seconds, seed=seed)
    return np.stack([reader.load(info).signal for info in reader.index()])
