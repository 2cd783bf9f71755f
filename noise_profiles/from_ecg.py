"""Estimate the noise in a recording that contains ECG: R peaks, beat templates, residual.

For users who only have ECG recordings from their device. R peaks come from
``scipy.signal.find_peaks`` on the QRS-band (5-25 Hz) energy summed over channels, with
an adaptive height (a fraction of the running 98th percentile) and a 250-ms refractory
distance, then refined to the energy maximum. Each beat's template is the running median
of its neighbouring beats (morphology may drift), scaled per beat by least squares, and
subtracted over one cardiac cycle with tapered edges. Railed (saturated) samples are left
untouched: there is no ECG to subtract where the amplifier is pinned.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage
import scipy.signal

from shirtecg_common.errors import UserError

TEMPLATE_BEATS = 15


def detect_r_peaks(x, sfreq):
    """R-peak sample indices of ``x`` (n_ch, n_times)."""
    sos = scipy.signal.butter(3, [5.0, min(25.0, 0.45 * sfreq)], "bandpass", fs=sfreq,
                              output="sos")
    bp = scipy.signal.sosfiltfilt(sos, x, axis=1)
    energy = np.sum(np.gradient(bp, axis=1) ** 2 / np.maximum(
        np.var(bp, axis=1, keepdims=True), 1e-300), axis=0)
    energy = scipy.ndimage.uniform_filter1d(energy, max(int(0.06 * sfreq), 1))
    # adaptive threshold: robust to bursts of motion noise much louder than the QRS
    win = int(5 * sfreq)
    level = scipy.ndimage.percentile_filter(energy[:: max(int(sfreq // 50), 1)], 98,
                                            size=max(win // max(int(sfreq // 50), 1), 3))
    level = np.interp(np.arange(len(energy)), np.arange(len(level)) * max(int(sfreq // 50), 1),
                      level)
    peaks, _ = scipy.signal.find_peaks(energy, height=0.3 * level,
                                       distance=int(0.25 * sfreq),
                                       prominence=0.2 * np.median(level))
    return peaks


def noise_from_ecg(raw_or_array, sfreq=None):
    """Noise estimate of an ECG recording: the recording minus its beat templates.

    Parameters
    ----------
    raw_or_array : mne.io.Raw | ndarray (n_ch, n_times) or (n_times,)
        The recording (volts for Raw; any unit for arrays, returned in the same unit).
    sfreq : float | None
        Sampling rate; required for arrays, taken from Raw otherwise.

    Returns
    -------
    noise : mne.io.Raw | ndarray
        Same type and shape as the input, ECG removed (Raw keeps its annotations).
    info : dict
        ``r_peaks`` (samples), ``heart_rate_bpm``, ``qrs_energy_ratio`` (QRS-window
        power of the 5-25 Hz band, residual / input: small means the beats are gone).
    """
    import mne

    is_raw = isinstance(raw_or_array, mne.io.BaseRaw)
    if is_raw:
        sfreq = float(raw_or_array.info["sfreq"])
        x = raw_or_array.get_data()
    else:
        if sfreq is None:
            raise UserError("noise_from_ecg: pass sfreq= (Hz) with an array input")
        x = np.asarray(raw_or_array, dtype=np.float64)
    squeeze = x.ndim == 1
    x = np.atleast_2d(x)
    if x.shape[1] < 4 * sfreq:
        raise UserError(f"noise_from_ecg needs at least 4 s of signal, got "
                        f"{x.shape[1] / sfreq:.1f} s")
    finite = np.all(np.isfinite(x), axis=0)
    xf = np.where(finite, x, 0.0)
    peaks = detect_r_peaks(xf, sfreq)
    if len(peaks) < 3:
        raise UserError("noise_from_ecg: fewer than 3 R peaks found; is there ECG in it?")
    rr = np.median(np.diff(peaks))
    pre, post = int(round(0.35 * rr)), int(round(0.65 * rr))
    inside = peaks[(peaks >= pre) & (peaks + post <= x.shape[1])]
    beats = np.stack([xf[:, p - pre:p + post] for p in inside])       # (B, C, L)
    beats = beats - np.median(beats[:, :, : max(pre // 3, 1)], axis=2, keepdims=True)
    templates = _running_median(beats, TEMPLATE_BEATS)
    taper = scipy.signal.windows.tukey(pre + post, 0.2)
    rails = _railed(x)
    residual = xf.copy()
    for b, p in enumerate(inside):
        t = templates[b]
        seg = beats[b]
        gain = np.sum(seg * t, axis=1) / np.maximum(np.sum(t * t, axis=1), 1e-300)
        sl = slice(p - pre, p + post)
        sub = np.clip(gain, 0.5, 1.5)[:, None] * t * taper[None, :]
        residual[:, sl] -= np.where(rails[:, sl], 0.0, sub)
    residual[:, ~finite] = np.nan
    info = dict(r_peaks=peaks, heart_rate_bpm=float(60.0 * sfreq / rr),
                qrs_energy_ratio=_qrs_ratio(xf, np.nan_to_num(residual), peaks, sfreq))
    if is_raw:
        out = raw_or_array.copy()
        out._data[:] = residual
        return out, info
    return (residual[0] if squeeze else residual), info


def _running_median(beats, k):
    """Median of the ``k`` beats around each beat (fewer at the ends)."""
    n = len(beats)
    half = k // 2
    out = np.empty_like(beats)
    for i in range(n):
        out[i] = np.median(beats[max(0, i - half):min(n, i + half + 1)], axis=0)
    return out


def _railed(x):
    """Samples pinned at a channel's minimum or maximum for >= 3 samples."""
    out = np.zeros(x.shape, bool)
    for c in range(x.shape[0]):
        row = x[c]
        for level in (np.nanmin(row), np.nanmax(row)):
            hit = row == level
            if hit.sum() >= 3:
                out[c] = out[c] | scipy.ndimage.binary_opening(hit, np.ones(3, bool))
    return out


def _qrs_ratio(x, residual, peaks, sfreq):
    sos = scipy.signal.butter(3, [5.0, min(25.0, 0.45 * sfreq)], "bandpass", fs=sfreq,
                              output="sos")
    w = int(0.05 * sfreq)
    idx = np.concatenate([np.arange(p - w, p + w) for p in peaks
                          if p - w >= 0 and p + w <= x.shape[1]])
    a = scipy.signal.sosfiltfilt(sos, x, axis=1)[:, idx]
    b = scipy.signal.sosfiltfilt(sos, residual, axis=1)[:, idx]
    return float(np.sum(b ** 2) / max(np.sum(a ** 2), 1e-300))
