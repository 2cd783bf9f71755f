"""White Gaussian noise with a signal-dependent variance, on the measured (independent) leads."""

from __future__ import annotations

import numpy as np

from augment import noise_banks as nb
from augment.base import BaseTransform
from augment.transforms._common import check_pair


class GaussianNoise(BaseTransform):
    """Add white noise whose standard deviation grows with the signal: ``σ + k·|x(t)|``.

    The floor ``σ`` is the front end's input noise (ADS1298: ~0.6 µVrms; ADS1299 at
    500 SPS: 0.8–1.5 µVrms; a 1 MΩ dry contact adds ~1.6 µVrms) plus contact noise; the
    relative part ``k`` models gain noise that scales with the signal. An ADC measures each
    channel differentially, so the noise is independent per independent lead
    (I, II, V1–V6) and the derived leads inherit it through the lead algebra.
    The noise is cropped from a cached white bank (drawing fresh normals is ~25× slower).

    Parameters
    ----------
    min_sigma_mv, max_sigma_mv : float
        Noise floor, standard deviation (default 0.001–0.01 mV).
    min_relative, max_relative : float
        Signal-dependent part ``k`` (default 0–0.02).
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record: ``sigma_mv``, ``relative``, ``offset`` (into the bank).
    """

    def __init__(self, min_sigma_mv=0.001, max_sigma_mv=0.01, min_relative=0.0,
                 max_relative=0.02, p=0.5):
        super().__init__(p=p)
        self.min_sigma_mv = min_sigma_mv
        self.max_sigma_mv = max_sigma_mv
        self.min_relative = min_relative
        self.max_relative = max_relative

    def _validate_params(self, sfreq):
        check_pair(self, "min_sigma_mv", self.min_sigma_mv, "max_sigma_mv", self.max_sigma_mv,
                   lower=0.0)
        check_pair(self, "min_relative", self.min_relative, "max_relative", self.max_relative,
                   lower=0.0)

    def randomize_parameters(self, x, sfreq, rngs):
        u = nb.draw(rngs, 2)
        return {
            "sigma_mv": nb.lerp(u[:, 0], self.min_sigma_mv, self.max_sigma_mv),
            "relative": nb.lerp(u[:, 1], self.min_relative, self.max_relative),
            "offset": np.array([int(rng.integers(0, 1 << 30)) for rng in rngs]),
        }

    supports_rows = True
    randomize_reads_signal = False

    def apply(self, x, sfreq, params, rows=None):
        bank = nb.white_bank()
        n_leads, n_times = x.shape[1:]
        buf = np.empty((n_leads, n_times), dtype=np.float32)  # reused: no per-record arrays
        for j, i in enumerate(nb.record_rows(x, rows)):
            noise = nb.crop(bank, params["offset"][j], n_leads * n_times).reshape(n_leads,
                                                                                  n_times)
            rel = np.float32(params["relative"][j])
            sigma = np.float32(params["sigma_mv"][j])
            if rel > 0:  # (σ + k·|x|) · noise
                np.abs(x[i], out=buf)
                buf *= rel
                buf += sigma
                buf *= noise
            else:
                np.multiply(noise, sigma, out=buf)
            x[i] += buf
        return x
