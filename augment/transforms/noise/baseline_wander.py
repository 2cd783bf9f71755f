"""Baseline wander 0.05–2 Hz: breathing plus slow movement drift, per electrode."""

from __future__ import annotations

import numpy as np

from augment import noise_banks as nb
from augment.base import BaseTransform
from augment.leads import ELECTRODES
from augment.transforms._common import check_pair


class BaselineWander(BaseTransform):
    """Add baseline wander generated on the electrode potentials.

    Each electrode gets a breathing sinusoid (shared rate and phase, an electrode-specific
    weight: breathing moves the chest more than the shoulders) plus its own slow drift with
    a ``1/f`` spectrum between ``min_freq_hz`` and ``max_freq_hz`` (movement of the body and
    the shirt). The electrode signals are mapped to the leads, so drift common to every
    electrode cancels, as it does on a real amplifier. Generated on a 25 Hz grid and
    interpolated while being added (the band ends at 2 Hz).

    Parameters
    ----------
    min_amplitude_mv, max_amplitude_mv : float
        RMS of the wander on each electrode, drawn per electrode and record
        (default 0.05–0.5 mV; a lead, the difference of two electrodes, sees about √2 times
        this). Clifford et al. 2006: respiration drift is ~15 % of full scale.
    min_breathing_hz, max_breathing_hz : float
        Breathing rate (default 0.1–0.5 Hz, 6–30 breaths/min).
    breathing_fraction : float
        Share of the wander power in the breathing component (0–1, default 0.5).
    min_freq_hz, max_freq_hz : float
        Band of the drift component (default 0.05–2 Hz).
    electrodes : list of str
        Electrodes that wander (default all nine).
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record: ``amplitude_mv``, ``breathing_weight`` and ``drift_pick`` (one per listed
    electrode; the pick selects a stretch of a cached coarse-grid noise bank),
    ``breathing_hz``, ``breathing_phase``.
    """

    def __init__(self, min_amplitude_mv=0.05, max_amplitude_mv=0.5, min_breathing_hz=0.1,
                 max_breathing_hz=0.5, breathing_fraction=0.5, min_freq_hz=0.05, max_freq_hz=2.0,
                 electrodes=ELECTRODES, p=0.5):
        super().__init__(p=p)
        self.min_amplitude_mv = min_amplitude_mv
        self.max_amplitude_mv = max_amplitude_mv
        self.min_breathing_hz = min_breathing_hz
        self.max_breathing_hz = max_breathing_hz
        self.breathing_fraction = breathing_fraction
        self.min_freq_hz = min_freq_hz
        self.max_freq_hz = max_freq_hz
        self.electrodes = electrodes

    def _validate_params(self, sfreq):
        check_pair(self, "min_amplitude_mv", self.min_amplitude_mv, "max_amplitude_mv",
                   self.max_amplitude_mv, lower=0.0)
        check_pair(self, "min_freq_hz", self.min_freq_hz, "max_freq_hz", self.max_freq_hz,
                   lower=1e-3, upper=min(5.0, sfreq / 4))
        check_pair(self, "min_breathing_hz", self.min_breathing_hz, "max_breathing_hz",
                   self.max_breathing_hz, lower=self.min_freq_hz, upper=self.max_freq_hz)
        check_pair(self, "breathing_fraction", self.breathing_fraction, "breathing_fraction",
                   self.breathing_fraction, lower=0.0, upper=1.0)
        nb.electrode_indices(self, self.electrodes)

    def randomize_parameters(self, x, sfreq, rngs):
        n_e = len(self.electrodes)
        u = nb.draw(rngs, 3 * n_e + 2)
        return {
            "amplitude_mv": nb.lerp(u[:, :n_e], self.min_amplitude_mv, self.max_amplitude_mv),
            "breathing_hz": nb.lerp(u[:, n_e], self.min_breathing_hz, self.max_breathing_hz),
            "breathing_phase": 2 * np.pi * u[:, n_e + 1],
            "breathing_weight": nb.lerp(u[:, n_e + 2:2 * n_e + 2], -1.0, 1.0),
            "drift_pick": nb.low_picks(u[:, 2 * n_e + 2:]),
        }

    supports_rows = True
    randomize_reads_signal = False

    def apply(self, x, sfreq, params, rows=None):
        e_idx = nb.electrode_indices(self, self.electrodes)
        factor, n_low = nb.low_grid(x.shape[-1], sfreq)
        low_rate = sfreq / factor
        drift = nb.low_noise(params["drift_pick"], n_low, low_rate, self.min_freq_hz,
                             self.max_freq_hz)
        weights = np.asarray(params["breathing_weight"], dtype=np.float64)
        weights = weights / np.maximum(np.sqrt(np.mean(weights ** 2, axis=1, keepdims=True)),
                                       1e-12)
        t = np.arange(n_low) / low_rate
        breath = np.sin(2 * np.pi * params["breathing_hz"][:, None] * t
                        + params["breathing_phase"][:, None]) * np.sqrt(2.0)
        bf = float(self.breathing_fraction)
        elec = np.sqrt(1 - bf) * drift + np.sqrt(bf) * weights[:, :, None] * breath[:, None, :]
        elec *= params["amplitude_mv"][:, :, None]
        leads_low = np.matmul(nb.ELECTRODE_MATRIX[:, e_idx], elec.astype(np.float32))
        return nb.add_upsampled(x, leads_low, factor, rows)
