"""Bursty muscle (EMG) noise, 20–200 Hz, independent per electrode."""

from __future__ import annotations

import functools

import numpy as np

from augment import noise_banks as nb
from augment.base import BaseTransform
from augment.leads import ELECTRODES
from augment.transforms._common import check_pair


class MuscleNoise(BaseTransform):
    """Add surface EMG from the muscles under each electrode, in bursts.

    Each electrode gets its own band-limited noise (a crop of a cached 9-channel bank
    with a Butterworth-shaped band ``[min_freq_hz, max_freq_hz]``, capped at 0.45·sfreq),
    scaled to its RMS, then mapped to the leads. A burst envelope shared by the electrodes
    (one contraction) switches between ``floor_fraction`` and 1 with raised-cosine edges.

    Parameters
    ----------
    min_rms_mv, max_rms_mv : float
        RMS of the EMG during a burst, per electrode (default 0.01–0.1 mV; NSTDB ``ma`` has
        ~0.16 mV, deliberately heavy).
    min_freq_hz, max_freq_hz : float
        EMG band (default 20–200 Hz: trunk EMG above the 20–30 Hz high-pass that removes
        ECG, Drake & Callaghan 2006).
    min_burst_rate_hz, max_burst_rate_hz : float
        Mean number of bursts per second (default 0.2–1).
    min_burst_s, max_burst_s : float
        Burst duration (default 0.05–0.5 s; Clifford: bursts ~50 ms and longer).
    floor_fraction : float
        Level between bursts relative to a burst (default 0.1).
    electrodes : list of str
        Electrodes with EMG (default all nine).
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record: ``rms_mv`` (per listed electrode), ``offset`` (into the bank),
    ``burst_onsets_s``, ``burst_durations_s`` (lists).
    """

    def __init__(self, min_rms_mv=0.01, max_rms_mv=0.1, min_freq_hz=20.0, max_freq_hz=200.0,
                 min_burst_rate_hz=0.2, max_burst_rate_hz=1.0, min_burst_s=0.05, max_burst_s=0.5,
                 floor_fraction=0.1, electrodes=ELECTRODES, p=0.5):
        super().__init__(p=p)
        self.min_rms_mv = min_rms_mv
        self.max_rms_mv = max_rms_mv
        self.min_freq_hz = min_freq_hz
        self.max_freq_hz = max_freq_hz
        self.min_burst_rate_hz = min_burst_rate_hz
        self.max_burst_rate_hz = max_burst_rate_hz
        self.min_burst_s = min_burst_s
        self.max_burst_s = max_burst_s
        self.floor_fraction = floor_fraction
        self.electrodes = electrodes

    def _validate_params(self, sfreq):
        check_pair(self, "min_rms_mv", self.min_rms_mv, "max_rms_mv", self.max_rms_mv, lower=0.0)
        check_pair(self, "min_freq_hz", self.min_freq_hz, "max_freq_hz", self.max_freq_hz,
                   lower=0.0)
        if self.min_freq_hz >= 0.45 * sfreq:
            raise ValueError(f"MuscleNoise: min_freq_hz ({self.min_freq_hz}) must be below "
                             f"0.45·sfreq = {0.45 * sfreq} Hz")
        check_pair(self, "min_burst_rate_hz", self.min_burst_rate_hz, "max_burst_rate_hz",
                   self.max_burst_rate_hz, lower=0.0)
        check_pair(self, "min_burst_s", self.min_burst_s, "max_burst_s", self.max_burst_s,
                   lower=1.0 / sfreq)
        check_pair(self, "floor_fraction", self.floor_fraction, "floor_fraction",
                   self.floor_fraction, lower=0.0, upper=1.0)
        nb.electrode_indices(self, self.electrodes)

    def _bank(self, sfreq):
        high = min(float(self.max_freq_hz), 0.45 * sfreq)
        return nb.band_bank(float(sfreq), float(self.min_freq_hz), high, 9)

    def randomize_parameters(self, x, sfreq, rngs):
        n_e = len(self.electrodes)
        duration = x.shape[-1] / sfreq
        bank_len = self._bank(sfreq).shape[-1]
        # burst count ~ Poisson(rate·duration) by inverse CDF: one draw call per record
        most = _poisson_most(float(self.max_burst_rate_hz * duration))
        u = nb.draw(rngs, n_e + 3 + 2 * most)
        rate = nb.lerp(u[:, n_e], self.min_burst_rate_hz, self.max_burst_rate_hz)
        counts = _poisson_ppf(u[:, n_e + 1], rate * duration, most)
        ev = u[:, n_e + 3:].reshape(len(rngs), most, 2)
        onsets = np.round(ev[..., 0] * duration, 4).tolist()
        return {
            "rms_mv": nb.lerp(u[:, :n_e], self.min_rms_mv, self.max_rms_mv),
            "offset": np.minimum((u[:, n_e + 2] * bank_len).astype(np.int64), bank_len - 1),
            "burst_onsets_s": [sorted(row[:k]) for row, k in zip(onsets, counts)],
            "burst_durations_s": nb.ragged(nb.lerp(ev[..., 1], self.min_burst_s,
                                                   self.max_burst_s), counts),
        }

    supports_rows = True
    randomize_reads_signal = False

    def apply(self, x, sfreq, params, rows=None):
        n_times = x.shape[-1]
        e_idx = nb.electrode_indices(self, self.electrodes)
        bank = self._bank(sfreq)[: len(e_idx)]
        m = nb.ELECTRODE_MATRIX[:, e_idx]
        env = np.empty(n_times, dtype=np.float32)
        for j, i in enumerate(nb.record_rows(x, rows)):
            _burst_envelope(env, params["burst_onsets_s"][j], params["burst_durations_s"][j],
                            self.floor_fraction, sfreq)
            noise = (m * params["rms_mv"][j].astype(np.float32)) @ nb.crop(
                bank, params["offset"][j], n_times)
            noise *= env
            x[i] += noise
        return x


@functools.lru_cache(maxsize=64)
def _poisson_most(mu):
    """Largest burst count worth drawing: Poisson(``mu``) exceeds it with p < 1e-9."""
    from scipy.stats import poisson  # imported here: scipy.stats is slow to import

    return int(poisson.ppf(1 - 1e-9, mu)) + 1


def _poisson_ppf(q, mu, most):
    """Poisson(``mu[i]``) quantile of ``q[i]`` (smallest k with CDF(k) ≥ q), capped at ``most``.

    The CDF of k = 0…most from the pmf recursion p_k = p_(k−1)·mu/k, for the whole batch at
    once (``scipy.stats.poisson.ppf`` costs ~0.3 ms per call).
    """
    mu = np.asarray(mu, dtype=np.float64)[:, None]
    k = np.arange(1, most + 1, dtype=np.float64)
    pmf = np.concatenate([np.ones_like(mu), np.cumprod(mu / k, axis=1)], axis=1) * np.exp(-mu)
    cdf = np.cumsum(pmf, axis=1)
    return np.minimum((cdf < np.asarray(q)[:, None]).sum(axis=1), most).astype(np.intp)


def _burst_envelope(env, onsets_s, durations_s, floor, sfreq):
    """Fill ``env`` with ``floor`` and raise it to 1 in each burst (raised-cosine edges)."""
    env.fill(floor)
    n_times = len(env)
    for onset, dur in zip(onsets_s, durations_s):
        a = int(round(onset * sfreq))
        n = max(int(round(dur * sfreq)), 1)
        b = min(a + n, n_times)
        if b <= a:
            continue
        shape = _burst_shape(n, max(min(n // 4, int(0.02 * sfreq)), 1), float(floor))
        np.maximum(env[a:b], shape[: b - a], out=env[a:b])
    return env


@functools.lru_cache(maxsize=512)
def _burst_shape(n, ramp, floor):
    """One burst of ``n`` samples from ``floor`` to 1 and back, raised-cosine edges (cached)."""
    shape = np.ones(n, dtype=np.float32)
    edge = (0.5 - 0.5 * np.cos(np.pi * (np.arange(ramp) + 0.5) / ramp)).astype(np.float32)
    shape[:ramp] = edge
    shape[n - ramp:] = np.minimum(shape[n - ramp:], edge[::-1])
    shape = floor + (1.0 - floor) * shape
    shape.setflags(write=False)
    return shape
