"""Powerline interference: detect 50 or 60 Hz (and harmonics), measure, remove, re-add.

The line is a narrow peak; spectral smoothing would smear it, so it is measured on the raw
Welch CSD, cut out of it (bins replaced by the local background) and synthesized as a
sinusoid per harmonic whose complex amplitude per channel keeps the recorded inter-channel
phase, with a slowly wandering phase (mains frequency drifts by about ±0.2 Hz).
"""

from __future__ import annotations

import numpy as np

#: Peak-to-background power ratio (in the detection bin) that counts as a line.
DETECT_RATIO = 4.0
#: Half-width (Hz) of the band the line is measured and cut in.
HALF_WIDTH_HZ = 1.0
MAX_HARMONICS = 5


def _background(psd, freqs, f0):
    ring = (np.abs(freqs - f0) > HALF_WIDTH_HZ) & (np.abs(freqs - f0) < 4 * HALF_WIDTH_HZ)
    return np.median(psd[ring], axis=0) if np.any(ring) else None


def detect(freqs, csd):
    """Find the mains fundamental.

    Returns
    -------
    freq_hz : float | None
        50.0 or 60.0, or None when neither stands out.
    """
    psd = np.real(np.einsum("fii->fi", csd))
    best, best_ratio = None, DETECT_RATIO
    for f0 in (50.0, 60.0):
        if f0 + 4 * HALF_WIDTH_HZ >= freqs[-1]:
            continue
        bg = _background(psd, freqs, f0)
        near = np.abs(freqs - f0) <= 0.5
        if bg is None or not np.any(near):
            continue
        ratio = np.max(psd[near] / np.maximum(bg, 1e-300))
        if ratio > best_ratio:
            best, best_ratio = f0, ratio
    return best


def extract(freqs, csd, f0):
    """Measure and remove the line at ``f0`` and its harmonics from ``csd`` (a copy).

    Returns
    -------
    csd_clean : ndarray, like ``csd``
    harmonics_hz : ndarray (n_h,)
    amplitudes : ndarray (n_h, n_ch) complex
        Peak amplitude (V) and relative phase per channel of each harmonic.
    """
    csd = csd.copy()
    df = freqs[1] - freqs[0]
    harmonics, amps = [], []
    for h in range(1, MAX_HARMONICS + 1):
        fh = f0 * h
        if fh + 4 * HALF_WIDTH_HZ >= freqs[-1]:
            break
        band = np.abs(freqs - fh) <= HALF_WIDTH_HZ
        psd = np.real(np.einsum("fii->fi", csd))
        bg = _background(psd, freqs, fh)
        if bg is None or np.max(psd[band] / np.maximum(bg, 1e-300)) < DETECT_RATIO:
            continue
        ring = (np.abs(freqs - fh) > HALF_WIDTH_HZ) & (np.abs(freqs - fh) < 4 * HALF_WIDTH_HZ)
        bg_csd = np.mean(csd[ring], axis=0)
        excess = np.sum(csd[band] - bg_csd, axis=0) * df         # line power matrix (V²)
        evals, evecs = np.linalg.eigh(0.5 * (excess + excess.conj().T))
        if evals[-1] <= 0:
            continue
        # rank-1 line: power P_i = |a_i|^2 / 2 for a sinusoid of peak amplitude |a_i|
        amps.append(evecs[:, -1] * np.sqrt(2.0 * evals[-1]))
        harmonics.append(fh)
        csd[band] = bg_csd
    n_ch = csd.shape[1]
    return (csd, np.asarray(harmonics, float),
            np.asarray(amps, np.complex128).reshape(len(harmonics), n_ch))


def synthesize(f0, harmonics_hz, amplitudes, n_times, sfreq, rng, drift_hz=0.05):
    """Line interference ``(n_ch, n_times)``: sinusoids with a slowly wandering phase.

    Harmonics at or above the Nyquist of ``sfreq`` are left out.
    """
    n_ch = amplitudes.shape[1] if amplitudes.ndim == 2 else 0
    out = np.zeros((n_ch, int(n_times)))
    if len(harmonics_hz) == 0:
        return out
    t = np.arange(int(n_times)) / sfreq
    # frequency wander: a smooth random walk of the fundamental, ~drift_hz rms
    n_knots = max(int(t[-1] / 2.0) + 2, 2) if len(t) else 2
    knots = np.cumsum(rng.normal(0.0, drift_hz / 3, n_knots))
    knots -= knots.mean()
    dfreq = np.interp(t, np.linspace(0, t[-1] if len(t) else 1, n_knots), knots)
    phase0 = 2 * np.pi * np.cumsum(dfreq) / sfreq
    start = rng.uniform(0, 2 * np.pi)
    for fh, a in zip(harmonics_hz, amplitudes):
        if fh >= sfreq / 2:
            continue
        h = round(fh / f0)
        ph = 2 * np.pi * fh * t + h * (phase0 + start)
        out += np.real(a[:, None] * np.exp(1j * ph)[None, :])
    return out
