"""Signal-to-noise ratio as the MIT-BIH noise stress test (``nst``) defines it.

``SNR = 10·log10(S / N)`` with

* ``S = A_pp² / 8``: ``A_pp`` is the QRS peak-to-peak amplitude. ``nst``/``sigamp`` take the
  trimmed mean of the peak-to-peak in ±50 ms around annotated beats; here, without beat
  annotations, the fast estimate of DESIGN §5 is used: the **median of the per-second
  peak-to-peak** of the reference lead (each 1-s window holds about one QRS, which
  dominates its peak-to-peak).
* ``N`` = the mean over 1-s chunks of the noise's mean-removed power (``nst``'s ``n_rms²``;
  the per-chunk mean removal keeps slow drift from dominating, as in ``nst``).

One gain per record, from one reference lead, scales the noise of every lead, so the
noise keeps its own across-lead structure (science anchors §1.1).
"""

from __future__ import annotations

import numpy as np


def _windows(x, sfreq):
    """``(…, n_windows, win)`` view of whole 1-s windows (the whole record if shorter)."""
    win = max(int(round(sfreq)), 1)
    n_win = x.shape[-1] // win
    if n_win == 0:
        return x[..., None, :]
    return x[..., : n_win * win].reshape(x.shape[:-1] + (n_win, win))


def qrs_amplitude(x, sfreq):
    """``A_pp``: median over 1-s windows of the peak-to-peak, per row of ``x`` (…, T)."""
    w = _windows(np.asarray(x, dtype=np.float64), sfreq)
    return np.median(w.max(axis=-1) - w.min(axis=-1), axis=-1)


def signal_power(x, sfreq):
    """``S = A_pp² / 8`` per row."""
    return qrs_amplitude(x, sfreq) ** 2 / 8.0


def noise_power(noise, sfreq):
    """``N``: mean over 1-s windows of the mean-removed power, per row."""
    w = _windows(np.asarray(noise, dtype=np.float64), sfreq)
    return np.mean(w.var(axis=-1), axis=-1)


def snr_db(clean, noise, sfreq):
    """nst SNR (dB) of ``clean + noise`` per row."""
    return 10.0 * np.log10(signal_power(clean, sfreq) / np.maximum(noise_power(noise, sfreq),
                                                                   1e-300))


def gain_for_snr(clean, noise, sfreq, target_db):
    """Gain ``a`` with ``snr_db(clean, a·noise) == target_db`` (nst.c's formula)."""
    s = signal_power(clean, sfreq)
    n = np.maximum(noise_power(noise, sfreq), 1e-300)
    return np.sqrt(s / n) * 10.0 ** (-np.asarray(target_db, dtype=np.float64) / 20.0)
