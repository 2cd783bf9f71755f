"""Periodic walking artifact: the step rate (1–2 Hz) and its harmonics, per electrode."""

from __future__ import annotations

import numpy as np

from augment import noise_banks as nb
from augment.base import BaseTransform
from augment.leads import ELECTRODES
from augment.transforms._common import check_count, check_pair


class WalkingArtifact(BaseTransform):
    """Add the quasi-periodic artifact of walking: each step tugs the shirt electrodes.

    The step phase ``θ(t) = 2π f t + φ(t)`` carries a slow random phase jitter (gait is
    not perfectly regular); the artifact on electrode ``e`` is
    ``a_e Σ_k k^(−decay) cos(kθ + ψ_ek)`` with its own amplitude and harmonic phases, and
    the electrodes are mapped to the leads. Harmonics at or above Nyquist are left out.

    Parameters
    ----------
    min_step_hz, max_step_hz : float
        Step rate (default 1–2 Hz: 60–120 steps/min).
    min_amplitude_mv, max_amplitude_mv : float
        Amplitude of the fundamental per electrode (default 0.05–0.3 mV).
    n_harmonics : int
        Number of harmonics including the fundamental (default 4).
    harmonic_decay : float
        Harmonic ``k`` has amplitude ``k**-harmonic_decay`` (default 1).
    jitter_rad : float
        RMS of the slow phase jitter (default 0.3 rad).
    electrodes : list of str
        Electrodes that move (default all nine).
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record: ``step_hz``, ``amplitude_mv`` (per listed electrode), ``phase`` (per
    electrode and harmonic), ``jitter_pick`` (a stretch of a cached coarse-grid bank).
    """

    def __init__(self, min_step_hz=1.0, max_step_hz=2.0, min_amplitude_mv=0.05,
                 max_amplitude_mv=0.3, n_harmonics=4, harmonic_decay=1.0, jitter_rad=0.3,
                 electrodes=ELECTRODES, p=0.5):
        super().__init__(p=p)
        self.min_step_hz = min_step_hz
        self.max_step_hz = max_step_hz
        self.min_amplitude_mv = min_amplitude_mv
        self.max_amplitude_mv = max_amplitude_mv
        self.n_harmonics = n_harmonics
        self.harmonic_decay = harmonic_decay
        self.jitter_rad = jitter_rad
        self.electrodes = electrodes

    def _validate_params(self, sfreq):
        check_pair(self, "min_step_hz", self.min_step_hz, "max_step_hz", self.max_step_hz,
                   lower=0.1, upper=sfreq / 4)
        check_pair(self, "min_amplitude_mv", self.min_amplitude_mv, "max_amplitude_mv",
                   self.max_amplitude_mv, lower=0.0)
        check_count(self, "n_harmonics", self.n_harmonics, 20)
        check_pair(self, "harmonic_decay", self.harmonic_decay, "harmonic_decay",
                   self.harmonic_decay, lower=0.0)
        check_pair(self, "jitter_rad", self.jitter_rad, "jitter_rad", self.jitter_rad, lower=0.0)
        nb.electrode_indices(self, self.electrodes)

    def randomize_parameters(self, x, sfreq, rngs):
        n_e, n_h = len(self.electrodes), int(self.n_harmonics)
        u = nb.draw(rngs, 2 + n_e + n_e * n_h)
        return {
            "step_hz": nb.lerp(u[:, 0], self.min_step_hz, self.max_step_hz),
            "amplitude_mv": nb.lerp(u[:, 1:1 + n_e], self.min_amplitude_mv,
                                    self.max_amplitude_mv),
            "phase": 2 * np.pi * u[:, 1 + n_e:1 + n_e + n_e * n_h].reshape(-1, n_e, n_h),
            "jitter_pick": nb.low_picks(u[:, -1:]),
        }

    supports_rows = True
    randomize_reads_signal = False

    def apply(self, x, sfreq, params, rows=None):
        n_times = x.shape[-1]
        e_idx = nb.electrode_indices(self, self.electrodes)
        step = np.asarray(params["step_hz"], dtype=np.float64)
        n_h = int(self.n_harmonics)
        factor, n_low = nb.low_grid(n_times, sfreq)
        jitter = nb.low_noise(params["jitter_pick"], n_low, sfreq / factor, 0.05, 0.5)
        jitter *= np.float32(self.jitter_rad)
        psi = np.asarray(params["phase"], dtype=np.float64)
        k = np.arange(1, n_h + 1)
        amp = params["amplitude_mv"][:, :, None] * k ** -float(self.harmonic_decay)
        amp = amp * (k * step[:, None, None] < sfreq / 2)
        # a cos(kθ + ψ) = a cos ψ cos kθ − a sin ψ sin kθ
        w_e = np.concatenate([amp * np.cos(psi), -amp * np.sin(psi)], axis=2)  # (n, E, 2H)
        w = np.matmul(nb.ELECTRODE_MATRIX[:, e_idx].astype(np.float64), w_e).astype(np.float32)
        t = np.arange(n_times, dtype=np.float32) / np.float32(sfreq)
        rows = list(nb.record_rows(x, rows))
        buf = _Buffers(CHUNK, n_h, x.shape[1], n_times)
        for c0 in range(0, len(rows), CHUNK):  # a few records per numpy call (C2)
            c1 = min(c0 + CHUNK, len(rows))
            theta = nb.upsample(jitter[c0:c1].reshape(c1 - c0, -1), factor, n_times,
                                out=buf.theta[:c1 - c0])
            theta += (2 * np.pi * step[c0:c1, None]).astype(np.float32) * t
            basis = _harmonic_basis(theta, n_h, buf)
            out = np.matmul(w[c0:c1], basis, out=buf.out[:c1 - c0])
            for j in range(c0, c1):
                x[rows[j]] += out[j - c0]
        return x


#: Records per chunk in the harmonic generators: the chunk's basis (≤ 8 rows per record
#: × 5000 samples × 4 B × 4 records ≈ 640 kB) and output stay in the L2 cache.
CHUNK = 4


class _Buffers:
    """Per-call scratch arrays reused for every chunk of records (no large temporaries)."""

    def __init__(self, n_rec, n_h, n_leads, n_times):
        self.theta = np.empty((n_rec, n_times), dtype=np.float32)
        self.basis = np.empty((n_rec, 2 * n_h, n_times), dtype=np.float32)
        self.tmp = np.empty((1, n_rec, n_times), dtype=np.float32)
        self.out = np.empty((n_rec, n_leads, n_times), dtype=np.float32)


def _harmonic_basis(theta, n_h, buf):
    """``[cos kθ …, sin kθ …]`` for k = 1…n_h, per record of ``theta`` ``(m, T)``.

    Written into ``buf.basis[:m]`` ``(m, 2·n_h, T)``: ``kθ`` then one cosine and one sine
    per harmonic (three passes; the angle-addition recurrence needs six).
    """
    m = len(theta)
    b = buf.basis[:m]
    np.cos(theta, out=b[:, 0])
    np.sin(theta, out=b[:, n_h])
    angle = buf.tmp[0, :m]
    for k in range(2, n_h + 1):
        np.multiply(theta, np.float32(k), out=angle)
        np.cos(angle, out=b[:, k - 1])
        np.sin(angle, out=b[:, n_h + k - 1])
    return b
