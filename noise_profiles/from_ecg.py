"""Estimate the noise in a recording that contains ECG: R peaks, beat templates, residual.

For users who only have ECG recordings from their device. R peaks come from
``scipy.signal.find_peaks`` on the QRS-band (5-25 Hz) energy summed over channels, with
an adaptive height (a fraction of the running 98th percentile) and a 250-ms refractory
distance. Each beat's template is the running median of its neighbouring beats
(morphology may drift), each beat resampled onto its own R's sample grid first (a median
of beats sampled at scattered phases of a steep QRS is jagged). Every beat is then aligned
on its template to a fraction of a sample (cross-correlation of the QRS band,
:data:`ALIGN_MAX_S` either way) and scaled by least squares on the QRS band of
:data:`QRS_HALF_S` around the R peak, before it is subtracted over one cardiac cycle with
tapered edges: the QRS is the steepest part of the ECG, so a beat subtracted a few
milliseconds off its place, or at the gain of a whole cycle that motion noise dominates,
leaves a spike of QRS residue per beat that the noise model would have to learn as noise.
Beats cut by the recording's start or end are subtracted over the part that is there.
What a beat changes of its shape (an S wave that deepens or narrows from beat to beat,
not only in size) is fitted as a few principal components of the QRS-ST windows, only
where they stand above the noise (:func:`_shape_changes`). Heart-locked residue is no
noise: a profile fitted on it adds heart-like spikes at random times to clean ECG.

Amplifier rails (:func:`noise_profiles.saturation.railed`, on the input): a QRS that
clipped gets the noise value nearest its neighbours that the clip allows; where the noise
itself pinned the amplifier, the rail stays in the estimate as recorded (nothing is
subtracted from it), so the profile's clipping model finds it (:func:`_censor`).
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage
import scipy.signal

from noise_profiles import saturation
from noise_profiles.sessions import runs_of
from shirtecg_common.errors import UserError

TEMPLATE_BEATS = 15
ALIGN_MAX_S = 0.03       # a beat may sit this far from its detected position
ALIGN_ROUNDS = 2         # align, rebuild the templates from the aligned beats, align again
QRS_HALF_S = 0.05        # alignment and gain are read on the QRS band this far around R
GAIN_RANGE = (0.5, 2.0)  # per-beat amplitude relative to the template
SHAPE_WINDOW_S = (-0.04, 0.12)   # QRS onset to ST, from R: where beats change shape
SHAPE_HIGHPASS_HZ = (1.0, 5.0, 30.0)  # passes: whole shape, above motion wander, QRS fine shape
SHAPE_COMPONENTS = 4             # at most this many principal components per beat
SHAPE_MIN_BEATS = 20             # fewer clean windows: no component is trusted
RAIL_MIN_RUN = 3                 # samples: a shorter visit to a rail's level is no clip
RAIL_FADE_S = 0.01               # the template fades out this fast into a rail of the noise


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
    side = saturation.railed(np.where(finite, x, np.nan), RAIL_MIN_RUN)
    xpad = np.pad(np.where(finite, x, np.nan), ((0, 0), (margin, margin)),
                  constant_values=np.nan)
    free = np.pad((side == 0).astype(float), ((0, 0), (margin, margin)))
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
    # on the samples' grid of their own R: a median of beats sampled at scattered
    # phases of a steep QRS is jagged (near-Nyquist power the subtraction would add)
    fb = _fractional_shift(beats[whole], -frac[whole])
    base = np.median(fb[:, :, : max(pre // 3, 1)], axis=2, keepdims=True)
    templates = _running_median(fb - base, TEMPLATE_BEATS)
    templates = _borrow(templates, whole)
    templates = _fractional_shift(templates, frac)
    # gains by least squares on the QRS band, over the part of the window in the recording
    tb = _qrs_band(templates, sfreq)[:, :, qrs]
    seg = _cut(bp, start + qrs.start, 2 * q)
    inside = _cut(ones, start + qrs.start, 2 * q) * _cut(free, start + qrs.start, 2 * q)
    gains = np.clip(np.sum(seg * tb * inside, axis=2)
                    / np.maximum(np.sum(tb * tb * inside, axis=2), 1e-300), *GAIN_RANGE)
    taper = scipy.signal.windows.tukey(length, 0.2)
    residual = xf.copy()
    for b in range(len(pos)):
        a = start[b] - margin
        lo, hi = max(a, 0), min(a + length, n)
        if hi <= lo or not np.any(_cut(ones, start[b:b + 1] + qrs.start, 2 * q)):
            continue
        sub = gains[b][:, None] * templates[b] * taper[None, :]
        sl = slice(lo, hi)
        residual[:, sl] -= sub[:, lo - a:hi - a]
    r_at = np.round(pos).astype(int)
    qrs_at = np.zeros(n, bool)                            # QRS onset to ST, of every beat
    w0, w1 = (int(round(t * sfreq)) for t in SHAPE_WINDOW_S)
    for r in r_at:
        qrs_at[max(r + w0, 0):max(r + w1, 0)] = True
    _censor(residual, xf, side, qrs_at, int(round(RAIL_FADE_S * sfreq)), RAIL_MIN_RUN)
    for highpass_hz in SHAPE_HIGHPASS_HZ:
        residual -= _shape_changes(residual, r_at, side != 0, sfreq, highpass_hz)
    residual[:, ~finite] = np.nan
    return residual, pos


def _shape_changes(residual, r, rails, sfreq, highpass_hz):
    """What the beats' QRS-ST shapes change from beat to beat, above the noise.

    The scaled template leaves each beat's own shape change (an S wave that deepens or
    narrows, a few-ms wider QRS): the leading principal components of the residual's
    QRS-ST windows above ``highpass_hz`` (uncentred, so a template bias counts too),
    fitted to each beat by projection; :data:`SHAPE_HIGHPASS_HZ` runs it from the whole
    shape down to the QRS's fine shape (where motion wander buries a shape change's
    components, the next pass finds them above it). Guard against fitting away noise:
    each beat is read in units of the noise around it (windows just before and after its
    QRS-ST window: a burst of motion in a few windows makes no component), and a
    component is kept only where the beats' power along it exceeds the Marchenko-Pastur
    edge of pure noise times the noise's own power along it in the windows before each
    QRS (no QRS there); its coefficients are shrunk by that excess (1 - edge * noise /
    power, empirical Bayes). Nothing is subtracted outside the window (tapered edges).
    Returns the (n_ch, n_times) correction.
    """
    n_ch, n = residual.shape
    w0, w1 = int(round(SHAPE_WINDOW_S[0] * sfreq)), int(round(SHAPE_WINDOW_S[1] * sfreq))
    length = w1 - w0
    gap = int(round(0.01 * sfreq))
    out = np.zeros_like(residual)
    sos = scipy.signal.butter(3, highpass_hz, "highpass", fs=sfreq, output="sos")
    hp = scipy.signal.sosfiltfilt(sos, np.nan_to_num(residual), axis=1)
    bad = rails | ~np.isfinite(residual)
    s_on, s_off = r + w0, r + w0 - length - gap        # the QRS-ST and the null windows
    s_post = r + w1 + gap                               # and one after: the local level
    ok = (s_off >= 0) & (s_post + length <= n)
    bad = bad.any(axis=0)[None]
    for s_ in (s_on, s_off, s_post):
        ok[ok] &= ~np.any(_cut(bad, s_[ok], length), axis=(1, 2))
    n_ok = np.count_nonzero(ok)
    if n_ok < SHAPE_MIN_BEATS:
        return out
    null = _cut(hp, s_off[ok], length).reshape(n_ok, -1)
    level = np.sqrt(np.mean(null ** 2, axis=1) + np.mean(
        _cut(hp, s_post[ok], length).reshape(n_ok, -1) ** 2, axis=1))[:, None]
    level = np.maximum(level, 1e-12 * max(np.max(level), 1e-300))
    # each beat in units of the noise around it: a burst of motion in a few beats'
    # windows would otherwise be a component of its own
    d = _cut(hp, s_on[ok], length).reshape(n_ok, -1) / level            # (B, C L)
    null = null / level
    edge = (1.0 + np.sqrt(d.shape[1] / d.shape[0])) ** 2
    _, _, vt = np.linalg.svd(d, full_matrices=False)
    coef = np.zeros((n_ok, SHAPE_COMPONENTS))
    comps = vt[:SHAPE_COMPONENTS]
    for k, v in enumerate(comps):
        c, cn = d @ v, null @ v
        share = edge * np.mean(cn ** 2) / np.mean(c ** 2)
        if share < 1.0:
            coef[:, k] = c * (1.0 - share)
    coef *= level
    fit = (coef @ comps).reshape(-1, n_ch, length) * scipy.signal.windows.tukey(length, 0.3)
    idx = s_on[ok][:, None] + np.arange(length)[None, :]
    for b in range(len(idx)):
        out[:, idx[b]] += fit[b]
    return out


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
    """``t`` (B, C, L) delayed by ``frac`` (B,) samples (band-limited: FFT phase ramp).
    The straight line between its ends is shifted apart (exactly), so the circular wrap
    joins zeros: a beat whose ends differ (a motion swing) would ring over its edges."""
    n = t.shape[2]
    k = np.arange(n)
    line = t[:, :, :1] + (t[:, :, -1:] - t[:, :, :1]) * k / max(n - 1, 1)
    slope = (t[:, :, -1:] - t[:, :, :1]) / max(n - 1, 1)
    tp = np.pad(t - line, ((0, 0), (0, 0), (pad, pad)))
    f = np.fft.rfftfreq(tp.shape[2])
    ramp = np.exp(-2j * np.pi * f[None, None, :] * frac[:, None, None])
    out = np.fft.irfft(np.fft.rfft(tp, axis=2) * ramp, tp.shape[2], axis=2)[:, :, pad:-pad]
    return out + line - slope * frac[:, None, None]


def _running_median(beats, k):
    """Median of the ``k`` beats nearest each beat (at the ends too: the first ``k``)."""
    n = len(beats)
    lo = np.clip(np.arange(n) - k // 2, 0, max(n - k, 0))
    return np.stack([np.median(beats[i:i + k], axis=0) for i in lo])


def _censor(residual, x, side, qrs, fade, ext):
    """The noise on each run of railed samples (``side``: -1 low rail, +1 high), in place.

    A railed sample only says that ECG + noise reached the rail. A run inside a QRS
    (``qrs``) where the noise on both sides of it (a straight line between them) stands
    off the rail (by more than the ADC jitter) is a clipped QRS: of the noise values
    consistent with the clip (low rail: noise <= sample - ECG, the residual there; high:
    >=) the one nearest that line is taken, so no spike of the rail minus a template
    (flattened by the clipped beats) remains; the ``ext`` samples next to the run are
    taken in (an amplifier nearly saturated compresses them too). Any other run is the
    noise's own (a motion swing pinned the amplifier): the rail stays as recorded, with
    its jitter, and nothing is subtracted from it; the template fades out over ``fade``
    samples from the run's edges (the estimate stays continuous).
    """
    for c in range(residual.shape[0]):
        row, raw = residual[c], x[c]
        fin = raw[np.isfinite(raw)]
        tol = saturation.TOLERANCE * (fin.max() - fin.min()) if fin.size else 0.0
        for a, b in runs_of(side[c] != 0):
            sign, level = side[c, a], np.median(raw[a:b])
            line, a2, b2 = _line(row, a - ext, b + ext)
            if line is None:
                continue
            off = np.mean(sign * (level - line[a - a2:b - a2]))      # the noise's distance
            if np.all(qrs[a:b]) and off > tol:                       # a clipped QRS
                row[a2:b2] = sign * np.maximum(sign * line, sign * row[a2:b2])
            else:                                                    # the noise's own rail
                k = np.arange(b - a)
                ramp = np.clip(1.0 - np.minimum(k + 1, b - a - k) / max(fade, 1), 0, 1)
                row[a:b] = raw[a:b] - (raw[a:b] - row[a:b]) * ramp


def _line(row, a, b):
    """A straight line over ``row[a:b]`` between its neighbours (within the row; one
    side when the other is outside or not finite): ``(line, a, b)``, a and b clipped."""
    n = len(row)
    a, b = max(a, 0), min(b, n)
    left = row[a - 1] if a > 0 and np.isfinite(row[a - 1]) else np.nan
    right = row[b] if b < n and np.isfinite(row[b]) else np.nan
    if np.isnan(left) and np.isnan(right):
        return None, a, b
    left = right if np.isnan(left) else left
    right = left if np.isnan(right) else right
    return np.linspace(left, right, b - a + 2)[1:-1], a, b


def _qrs_ratio(x, residual, peaks, sfreq):
    sos = scipy.signal.butter(3, [5.0, min(25.0, 0.45 * sfreq)], "bandpass", fs=sfreq,
                              output="sos")
    w = int(0.05 * sfreq)
    idx = np.concatenate([np.arange(p - w, p + w) for p in peaks
                          if p - w >= 0 and p + w <= x.shape[1]])
    a = scipy.signal.sosfiltfilt(sos, x, axis=1)[:, idx]
    b = scipy.signal.sosfiltfilt(sos, residual, axis=1)[:, idx]
    return float(np.sum(b ** 2) / max(np.sum(a ** 2), 1e-300))
