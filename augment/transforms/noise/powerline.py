"""50/60 Hz powerline interference with harmonics and drifting, electrode-dependent level."""

from __future__ import annotations

import numpy as np

from augment import noise_banks as nb
from augment.base import BaseTransform
from augment.leads import ELECTRODES
from augment.transforms._common import check_count, check_pair
from augment.transforms.noise.walking import CHUNK, _Buffers, _harmonic_basis


class PowerlineNoise(BaseTransform):
    """Add mains interference coupled through each electrode's contact impedance.

    Mains reaches the body as a common-mode voltage; each electrode turns it into a
    differential error in proportion to its impedance imbalance (Huhta & Webster 1973),
    which drifts with sweat and pressure. So electrode ``e`` carries
    ``a_e (c_e0 g_0(t) + c_e1 g_1(t)) Σ_k r_k cos(2π k f t + φ_k + δ_ek)``: a shared phase per
    harmonic with a small electrode spread ``δ`` (capacitive coupling), and a level that
    drifts as a per-electrode mix of two slow envelopes ``g`` (so leads drift differently).
    The electrodes are mapped to the leads; harmonics at or above Nyquist are left out.

    Parameters
    ----------
    line_freq_hz : float
        Mains frequency: 50 or 60 (default 50).
    max_freq_deviation_hz : float
        Mains frequency offset, drawn in ``±`` this (default 0.2 Hz).
    min_amplitude_mv, max_amplitude_mv : float
        Amplitude of the fundamental per electrode (default 0.005–0.1 mV; illustrative
        coupling with 0.1–1 MΩ imbalance gives 10–100 µV, science anchors §5.3).
    n_harmonics : int
        Harmonics including the fundamental (default 3; amplitudes ``r_k = 1/k²``).
    min_drift, max_drift : float
        Relative depth of the slow level drift (default 0–0.5).
    phase_spread_rad : float
        Standard deviation of the electrode phase spread (default 0.2 rad).
    electrodes : list of str
        Electrodes that pick up mains (default all nine).
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record: ``line_hz``, ``drift``, ``amplitude_mv`` and ``drift_mix`` (per listed
    electrode), ``phase`` (per electrode and harmonic), ``envelope_pick`` (stretches of a
    cached coarse-grid bank).
    """

    def __init__(self, line_freq_hz=50.0, max_freq_deviation_hz=0.2, min_amplitude_mv=0.005,
                 max_amplitude_mv=0.1, n_harmonics=3, min_drift=0.0, max_drift=0.5,
                 phase_spread_rad=0.2, electrodes=ELECTRODES, p=0.5):
        super().__init__(p=p)
        self.line_freq_hz = line_freq_hz
        self.max_freq_deviation_hz = max_freq_deviation_hz
        self.min_amplitude_mv = min_amplitude_mv
        self.max_amplitude_mv = max_amplitude_mv
        self.n_harmonics = n_harmonics
        self.min_drift = min_drift
        self.max_drift = max_drift
        self.phase_spread_rad = phase_spread_rad
        self.electrodes = electrodes

    def _validate_params(self, sfreq):
        if self.line_freq_hz not in (50, 60, 50.0, 60.0) or isinstance(self.line_freq_hz, bool):
            raise ValueError(f"PowerlineNoise: line_freq_hz must be 50 or 60, "
                             f"got {self.line_freq_hz!r}")
        check_pair(self, "max_freq_deviation_hz", 0.0, "max_freq_deviation_hz",
                   self.max_freq_deviation_hz, lower=0.0, upper=2.0)
        check_pair(self, "min_amplitude_mv", self.min_amplitude_mv, "max_amplitude_mv",
                   self.max_amplitude_mv, lower=0.0)
        check_count(self, "n_harmonics", self.n_harmonics, 10)
        check_pair(self, "min_drift", self.min_drift, "max_drift", self.max_drift,
                   lower=0.0, upper=1.0)
        check_pair(self, "phase_spread_rad", 0.0, "phase_spread_rad", self.phase_spread_rad,
                   lower=0.0)
        nb.electrode_indices(self, self.electrodes)

    def randomize_parameters(self, x, sfreq, rngs):
        n_e, n_h = len(self.electrodes), int(self.n_harmonics)
        u = nb.draw(rngs, 4 + n_e * (2 + n_h) + n_h)
        dev = float(self.max_freq_deviation_hz)
        spread = float(self.phase_spread_rad) * np.sqrt(3.0)  # uniform with that std
        c = 4 + n_e
        return {
            "line_hz": float(self.line_freq_hz) + nb.lerp(u[:, 0], -dev, dev),
            "drift": nb.lerp(u[:, 1], self.min_drift, self.max_drift),
            "envelope_pick": nb.low_picks(u[:, 2:4]),
            "amplitude_mv": nb.lerp(u[:, 4:c], self.min_amplitude_mv, self.max_amplitude_mv),
            "drift_mix": nb.lerp(u[:, c:c + n_e], -np.sqrt(3.0), np.sqrt(3.0)),
            "phase": (2 * np.pi * u[:, c + n_e:c + n_e + n_h])[:, None, :]
            + nb.lerp(u[:, c + n_e + n_h:], -spread, spread).reshape(-1, n_e, n_h),
        }

    supports_rows = True
    randomize_reads_signal = False

    def apply(self, x, sfreq, params, rows=None):
        n_times = x.shape[-1]
        n = len(params["line_hz"])
        e_idx = nb.electrode_indices(self, self.electrodes)
        n_e = len(e_idx)
        line = np.asarray(params["line_hz"], dtype=np.float64)
        n_h = int(self.n_harmonics)
        factor, n_low = nb.low_grid(n_times, sfreq)
        env_low = nb.low_noise(params["envelope_pick"], n_low, sfreq / factor, 0.02, 0.5)
        # envelope 0: 1 + drift·g0 (common level); envelope 1: drift·g1 (electrode differences)
        env_low *= params["drift"][:, None, None].astype(np.float32)
        env_low[:, 0] += 1.0
        np.maximum(env_low[:, 0], 0.0, out=env_low[:, 0])
        phase = np.asarray(params["phase"], dtype=np.float64)
        mix = np.ones((n, n_e, 2))
        mix[:, :, 1] = params["drift_mix"]
        k = np.arange(1, n_h + 1)
        amp = params["amplitude_mv"][:, :, None] / k ** 2 * (k * line[:, None, None] < sfreq / 2)
        w_e = np.concatenate([amp * np.cos(phase), -amp * np.sin(phase)], axis=2)  # (n, E, 2H)
        m = nb.ELECTRODE_MATRIX[:, e_idx].astype(np.float64)
        # leads = W0 @ (basis · g0) + W1 @ (basis · g1): envelopes applied to the 2H basis
        # rows (fewer than the 8 leads), then one matrix product per record
        w = np.concatenate([np.matmul(m, w_e * mix[:, :, k, None]) for k in range(2)],
                           axis=2).astype(np.float32)  # (n, 8, 4H)
        n_idx = np.arange(n_times, dtype=np.float64)
        rows = list(nb.record_rows(x, rows))
        m = CHUNK
        buf = _Buffers(m, n_h, x.shape[1], n_times)
        cycles = np.empty((m, n_times))
        env = np.empty((m, 2, n_times), dtype=np.float32)
        both = np.empty((m, 2, 2 * n_h, n_times), dtype=np.float32)
        for c0 in range(0, len(rows), m):  # a few records per numpy call (C2)
            c1 = min(c0 + m, len(rows))
            k = c1 - c0
            # cycles in float64, fractional part only, then radians in float32
            # (2π·50 Hz·t reaches 3000 rad in 10 s; np.mod is 10× slower than this)
            cyc = np.multiply(n_idx, (line[c0:c1] / sfreq)[:, None], out=cycles[:k])
            cyc -= np.floor(cyc)
            theta = np.multiply(cyc, 2 * np.pi, out=buf.theta[:k], casting="same_kind")
            basis = _harmonic_basis(theta, n_h, buf)
            nb.upsample(env_low[c0:c1].reshape(2 * k, -1), factor, n_times,
                        out=env[:k].reshape(2 * k, n_times))
            np.multiply(basis, env[:k, 0, None], out=both[:k, 0])
            np.multiply(basis, env[:k, 1, None], out=both[:k, 1])
            out = np.matmul(w[c0:c1], both[:k].reshape(k, 4 * n_h, n_times), out=buf.out[:k])
            for j in range(c0, c1):
                x[rows[j]] += out[j - c0]
        return x
