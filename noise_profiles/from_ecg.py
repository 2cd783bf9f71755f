"""Estimate the noise in a recording that contains ECG: R peaks, beat templates, residual.

For users who only have ECG recordings from their device. R peaks come from
``scipy.signal.find_peaks`` on the QRS-band (5-25 Hz) energy summed over channels, with
an adaptive height (a fraction of the running 98th percentile) and a 250-ms refractory
distance. Each beat's template is the running median of its neighbouring beats
(morphology may drift). Every beat is then aligned on its template to a fraction of a
sample (cross-correlation of the QRS band, :data:`ALIGN_MAX_S` either way) and scaled by
least squares on the QRS band of :data:`QRS_HALF_S` around the R peak, before it is
subtracted over one cardiac cycle with tapered edges: the QRS is the steepest part of the
ECG, so a beat subtracted a few milliseconds off its place, or at the gain of a whole
cycle that motion noise dominates, leaves a spike of QRS residue per beat that the noise
model would have to learn as noise. Beats cut by the recording's start or end are
subtracted over the part that is there. Railed (saturated) samples are left untouched:
there is no ECG to subtract where the amplifier is pinned.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage
import scipy.signal

from shirtecg_common.errors import UserError

TEMPLATE_BEATS = 15
ALIGN_MAX_S = 0.03       # a beat may sit this far from its detected position
ALIGN_ROUNDS = 2         # align, rebuild the templates from the aligned beats, align again
QRS_HALF_S = 0.05        # alignment and gain are read on the QRS band this far around R
GAIN_RANGE = (0.5, 2.0)  # per-beat amplitude relative to the template


def detect_r_peaks(x, sfreq):
    """R-peak sample indices of ``x`` (n_ch, n_times); a beat at either edge of the
    recording is found too (its position is refined when it is subtracted)."""
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
    # one zero either side: a beat whose energy still rises at the recording's edge counts
    pad = np.r_[0.0, energy, 0.0]
    peaks, _ = scipy.signal.find_peaks(pad, height=0.3 * np.r_[level[0], level, level[-1]],
                                       distance=int(0.25 * sfreq),
                                       prominence=0.2 * np.median(level))
    return peaks - 1


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
        ``r_peaks`` (samples, aligned on the templates), ``heart_rate_bpm``,
        ``qrs_energy_ratio`` (QRS-window power of the 5-25 Hz band, residual / input:
        small means the beats are gone).
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
    residual, pos = _subtract_beats(x, xf, finite, peaks, pre, post, sfreq)
    peaks = np.clip(np.round(pos).astype(int), 0, x.shape[1] - 1)
    info = dict(r_peaks=peaks, heart_rate_bpm=float(60.0 * sfreq / rr),
                qrs_energy_ratio=_qrs_ratio(xf, np.nan_to_num(residual), peaks, sfreq))
    if is_raw:
        out = raw_or_array.copy()
        out._data[:] = residual
        return out, info
    return (residual[0] if squeeze else residual), info


def _subtract_beats(x, xf, finite, peaks, pre, post, sfreq):
    """Residual after aligned, scaled template subtraction; and the beats' positions."""
    n_ch, n = x.shape
    length = pre + post
    m = int(round(ALIGN_MAX_S * sfreq))
    q = max(int(round(QRS_HALF_S * sfreq)), 2)
    qrs = slice(pre - q, pre + q)
    # NaN outside the recording (and where it is not finite): beats cut by an edge
    # are kept, templates are made of the whole beats
    margin = length + m + 1
    xpad = np.pad(np.where(finite, x, np.nan), ((0, 0), (margin, margin)),
                  constant_values=np.nan)
    bp = np.pad(_qrs_band(xf, sfreq), ((0, 0), (margin, margin)))
    ones = np.pad(np.ones((1, n)), ((0, 0), (margin, margin)))         # inside the recording
    pos = peaks.astype(float)
    for _ in range(ALIGN_ROUNDS):
        start = np.round(pos).astype(int) - pre + margin
        beats = _cut(xpad, start, length)                               # (B, C, L)
        whole = np.all(np.isfinite(beats), axis=(1, 2))
        if np.count_nonzero(whole) < 3:
            break
        bt = _borrow(_running_median(_cut(bp, start + qrs.start, 2 * q)[whole],
                                     TEMPLATE_BEATS), whole)
        lag = _best_lag(_cut(bp, start + qrs.start - m, 2 * q + 2 * m), bt, m,
                        _cut(ones, start + qrs.start - m, 2 * q + 2 * m))
        pos = np.round(pos) + lag
    start = np.round(pos).astype(int) - pre + margin
    frac = pos - np.round(pos)
    beats = _cut(xpad, start, length)
    whole = np.all(np.isfinite(beats), axis=(1, 2))
    if np.count_nonzero(whole) < 3:
        raise UserError("noise_from_ecg: fewer than 3 whole beats inside the recording")
    base = np.median(beats[whole][:, :, : max(pre // 3, 1)], axis=2, keepdims=True)
    templates = _borrow(_running_median(beats[whole] - base, TEMPLATE_BEATS), whole)
    templates = _fractional_shift(templates, frac)
    # gains by least squares on the QRS band, over the part of the window in the recording
    tb = _qrs_band(templates, sfreq)[:, :, qrs]
    seg = _cut(bp, start + qrs.start, 2 * q)
    inside = _cut(ones, start + qrs.start, 2 * q)
    gains = np.clip(np.sum(seg * tb * inside, axis=2)
                    / np.maximum(np.sum(tb * tb * inside, axis=2), 1e-300), *GAIN_RANGE)
    taper = scipy.signal.windows.tukey(length, 0.2)
    rails = _railed(x)
    residual = xf.copy()
    for b in range(len(pos)):
        a = start[b] - margin
        lo, hi = max(a, 0), min(a + length, n)
        if hi <= lo or not np.any(inside[b]):
            continue
        sub = gains[b][:, None] * templates[b] * taper[None, :]
        sl = slice(lo, hi)
        residual[:, sl] -= np.where(rails[:, sl], 0.0, sub[:, lo - a:hi - a])
    residual[:, ~finite] = np.nan
    return residual, pos


def _qrs_band(x, sfreq):
    """The QRS band (5-40 Hz, zero phase) that alignment and gains are read on."""
    sos = scipy.signal.butter(3, [5.0, min(40.0, 0.45 * sfreq)], "bandpass", fs=sfreq,
                              output="sos")
    return scipy.signal.sosfiltfilt(sos, x, axis=-1)


def _cut(x, starts, length):
    """``x[:, s:s + length]`` for every start: (B, C, length)."""
    idx = starts[:, None] + np.arange(length)[None, :]
    return np.transpose(x[:, idx], (1, 0, 2))


def _borrow(templates, whole):
    """Per-beat values of the whole beats spread to all beats: a beat cut by an edge (or
    a gap) takes those of the nearest whole beat."""
    where = np.flatnonzero(whole)
    beat = np.arange(len(whole))
    return templates[np.argmin(np.abs(beat[:, None] - where[None, :]), axis=1)]


def _best_lag(wide, t, m, mask):
    """Fractional lag (samples, within ±m) that best aligns each beat's QRS band (``wide``:
    (B, C, Q + 2m), zero outside the recording, where ``mask`` (B, 1, Q + 2m) is 0) on
    its template's (``t``: (B, C, Q)): cross-correlation over all channels, normalized
    over the part in the recording (a beat cut by an edge), parabolic peak."""
    q = t.shape[2]
    lags = np.arange(-m, m + 1)
    idx = (m + lags)[:, None] + np.arange(q)[None, :]                   # (K, Q)
    w = wide[:, :, idx]                                                 # (B, C, K, Q)
    num = np.einsum("bckq,bcq->bk", w, t)
    den = np.sqrt(np.einsum("bckq,bckq->bk", w, w)
                  * np.einsum("bkq,bcq->bk", mask[:, 0][:, idx], t * t))
    r = num / np.maximum(den, 1e-300)
    k = np.clip(np.argmax(r, axis=1), 1, 2 * m - 1)
    rows = np.arange(len(r))
    y0, y1, y2 = r[rows, k - 1], r[rows, k], r[rows, k + 1]
    curv = y0 - 2 * y1 + y2
    delta = np.where(curv < 0, 0.5 * (y0 - y2) / np.where(curv < 0, curv, -1.0), 0.0)
    return lags[k] + np.clip(delta, -0.5, 0.5)


def _fractional_shift(t, frac, pad=16):
    """``t`` (B, C, L) delayed by ``frac`` (B,) samples (band-limited: FFT phase ramp;
    edge-padded so the circular wrap stays outside)."""
    tp = np.pad(t, ((0, 0), (0, 0), (pad, pad)), mode="edge")
    f = np.fft.rfftfreq(tp.shape[2])
    ramp = np.exp(-2j * np.pi * f[None, None, :] * frac[:, None, None])
    return np.fft.irfft(np.fft.rfft(tp, axis=2) * ramp, tp.shape[2], axis=2)[:, :, pad:-pad]


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
