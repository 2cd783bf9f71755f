"""Multiplicative impedance noise: each electrode's coupling gain fluctuates slowly."""

from __future__ import annotations

import numpy as np

from augment import noise_banks as nb
from augment.base import BaseTransform
from augment.leads import ELECTRODES
from augment.transforms._common import check_pair


class ImpedanceNoise(BaseTransform):
    """Modulate each electrode's potential by ``1 + m_e(t)`` (contact impedance changes).

    A dry or textile contact forms a divider with the amplifier input; as pressure and
    sweat change the contact impedance, the fraction of the body potential that reaches
    the amplifier changes. The potential of electrode ``e`` (relative to the Wilson
    terminal, reconstructed from the independent leads) becomes ``(1 + m_e(t))·φ_e(t)``
    with ``m_e`` a slow random process of RMS ``depth_e``; the leads are rebuilt from the
    modulated potentials, so the change is exactly what that electrode would cause.

    Parameters
    ----------
    min_depth, max_depth : float
        RMS of the relative gain fluctuation per electrode (default 0.01–0.1).
    min_freq_hz, max_freq_hz : float
        Band of the fluctuation (default 0.1–2 Hz: breathing and movement).
    electrodes : list of str
        Electrodes whose contact varies (default all nine).
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record: ``depth`` and ``pick`` (per listed electrode; the pick selects a
    stretch of a cached coarse-grid noise bank).
    """

    def __init__(self, min_depth=0.01, max_depth=0.1, min_freq_hz=0.1, max_freq_hz=2.0,
                 electrodes=ELECTRODES, p=0.5):
        super().__init__(p=p)
        self.min_depth = min_depth
        self.max_depth = max_depth
        self.min_freq_hz = min_freq_hz
        self.max_freq_hz = max_freq_hz
        self.electrodes = electrodes

    def _validate_params(self, sfreq):
        check_pair(self, "min_depth", self.min_depth, "max_depth", self.max_depth,
                   lower=0.0, upper=0.5)
        check_pair(self, "min_freq_hz", self.min_freq_hz, "max_freq_hz", self.max_freq_hz,
                   lower=1e-3, upper=min(5.0, sfreq / 4))
        nb.electrode_indices(self, self.electrodes)

    def randomize_parameters(self, x, sfreq, rngs):
        n_e = len(self.electrodes)
        u = nb.draw(rngs, 2 * n_e)
        return {"depth": nb.lerp(u[:, :n_e], self.min_depth, self.max_depth),
                "pick": nb.low_picks(u[:, n_e:])}

    supports_rows = True
    randomize_reads_signal = False

    def apply(self, x, sfreq, params, rows=None):
        n_times = x.shape[-1]
        e_idx = nb.electrode_indices(self, self.electrodes)
        factor, n_low = nb.low_grid(n_times, sfreq)
        mod = nb.low_noise(params["pick"], n_low, sfreq / factor, self.min_freq_hz,
                           self.max_freq_hz)
        mod *= params["depth"][:, :, None].astype(np.float32)
        pot = nb.POTENTIAL_MATRIX[e_idx]  # (E, 8): the listed electrodes' potentials
        m = nb.ELECTRODE_MATRIX[:, e_idx]  # (8, E)
        phi = np.empty((len(e_idx), n_times), dtype=np.float32)
        gain = np.empty_like(phi)
        delta = np.empty(x.shape[1:], dtype=np.float32)
        for j, i in enumerate(nb.record_rows(x, rows)):  # E × T temporaries stay in cache
            np.dot(pot, x[i], out=phi)  # potentials vs the Wilson terminal
            phi *= nb.upsample(mod[j], factor, n_times, out=gain)
            x[i] += np.dot(m, phi, out=delta)
        return x
