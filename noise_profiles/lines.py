"""Quasi-periodic components: narrow spectral peaks kept as wandering sinusoids.

Respiration (0.2-0.4 Hz) and step-locked motion while walking (about 1.8 Hz and its
harmonics) are nearly periodic. Drawn as Gaussian noise from the CSD they come back with
the right spectrum but the wrong amplitude statistics: a sinusoid has kurtosis 1.5 and a
steady window-to-window power, a narrow Gaussian band has kurtosis 3 and Rayleigh-
fluctuating power, which a classifier spots at once. So narrow peaks that stand clearly
above the local background are cut out of the CSD (like the mains line) and synthesized
as sinusoids whose frequency wanders slowly by just enough to give the measured line width.
The mains line's level wanders too (the body's coupling changes): its relative amplitude
spectrum is measured by complex demodulation and re-drawn (:func:`fit_level_psd`).
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage
import scipy.signal
from scipy import stats

MAX_LINES = 12
MAX_LINES_WITH_HARMONICS = 32
STRONG_RATIO = 30.0        # lines this far above background get their harmonics searched
HARMONIC_RATIO = 2.5
HARMONIC_MAX_HZ = 20.0      # motion harmonics above this drown in EMG
BAND_RATIO = 1.3          # a line spans the contiguous bins this far above background
LOCAL_RATIO = 3.0          # peak over the median of the ring just outside the line's band
MIN_FREQ_HZ = 0.1
MAX_HALF_BAND_HZ = 1.5
FM_FRACTION = 0.12         # a line may spread ±12 % of its frequency (step-rate wander)
MIN_LINE_BINS = 4          # a line lies at least this many bins above DC
RING_BINS = 2              # fewest bins of background ring beyond a line's band
FALSE_ALARMS = 0.01        # expected false detections per spectrum (Bonferroni over bins)


def _ring_half_width(f):
    return np.clip(0.25 * f, 0.15, 1.0)


def extract(freqs, csd, n_frames, exclude_hz=(), fmax_hz=None):
    """Find narrow peaks, remove them from a copy of ``csd`` and describe them.

    Parameters
    ----------
    freqs, csd : the raw (unsmoothed) Welch CSD, shape (F,) and (F, C, C)
    n_frames : int
        Periodograms averaged in ``csd`` (sets the detection threshold).
    exclude_hz : sequence of float
        Frequencies handled elsewhere (mains harmonics), ±1.5 Hz left alone.

    Returns
    -------
    csd_clean : ndarray like ``csd``
    freqs_hz, widths_hz : ndarray (n_lines,)
    amplitudes : ndarray (n_lines, C) complex
        Peak amplitude (V) and relative phase per channel.
    """
    csd = csd.copy()
    n_ch = csd.shape[1]
    df = freqs[1] - freqs[0]
    psd = np.real(np.einsum("fii->fi", csd))
    trace = np.sum(psd / np.maximum(np.median(psd, axis=0), 1e-300), axis=1)
    # local background: median over 1 Hz near DC, 3 Hz above 2 Hz (FM-broadened harmonics)
    narrow = scipy.ndimage.median_filter(trace, size=max(int(round(1.0 / df)) | 1, 5),
                                         mode="nearest")
    wide = scipy.ndimage.median_filter(trace, size=max(int(round(3.0 / df)) | 1, 5),
                                       mode="nearest")
    background = np.where(freqs < 2.0, narrow, wide)
    ratio = trace / np.maximum(background, 1e-300)
    dof = 2 * max(int(n_frames), 1)
    threshold = max(4.0, stats.chi2.ppf(1 - FALSE_ALARMS / len(freqs), dof) / dof)
    fmax = fmax_hz or freqs[-1] - 2.0
    # a peak inside DC's Hann main lobe and its ring is not resolved from the wander below
    ok = (freqs >= max(MIN_FREQ_HZ, MIN_LINE_BINS * df)) & (freqs <= fmax)
    for f0 in exclude_hz:
        ok &= np.abs(freqs - f0) > 1.5
    peaks, props = scipy.signal.find_peaks(np.where(ok, ratio, 0.0), height=threshold,
                                           distance=max(int(0.2 / df), 1))
    order = np.argsort(props["peak_heights"])[::-1][:MAX_LINES]
    chosen = _add_harmonics(freqs, ratio, ok, list(peaks[order]))
    out_f, out_w, out_a = [], [], []
    smooth_ratio = scipy.ndimage.uniform_filter1d(ratio, 5)     # band edges not set by noise
    taken = np.zeros(len(freqs), bool)
    for p in chosen:
        f0 = freqs[p]
        half = min(max(2 * df, FM_FRACTION * f0), MAX_HALF_BAND_HZ)
        lo, hi = p, p
        while lo > 0 and smooth_ratio[lo - 1] > BAND_RATIO and f0 - freqs[lo - 1] <= half:
            lo -= 1
        while (hi < len(freqs) - 1 and smooth_ratio[hi + 1] > BAND_RATIO
               and freqs[hi + 1] - f0 <= half):
            hi += 1
        band = np.arange(lo, hi + 1)
        # the ring holds a few bins at any resolution (4-s frames: 0.25-Hz bins, and the
        # band alone may reach half: the step rate of a 20-s walk had no ring and was lost)
        rw = half + max(0.15, min(1.0, 0.1 * f0), RING_BINS * df)
        ring = (np.abs(freqs - f0) <= rw) & ((freqs < freqs[lo]) | (freqs > freqs[hi]))
        near = ring.copy()
        sides = []
        for side in (ring & (freqs < f0), ring & (freqs > f0)):
            if np.any(side & (smooth_ratio < 1.5)):
                side &= smooth_ratio < 1.5                      # not a neighbouring line
            if np.any(side):
                sides.append(side)
        if not sides or np.any(taken[band]):
            continue
        # a line stands out from its own surroundings, not only from the wide background:
        # near DC a broad hump (drift below a corner frequency, respiration smeared into
        # it) clears the 1-Hz median but is no sinusoid, and drawn as one it would give
        # the wrong channel pattern and window-to-window level
        if trace[p] < LOCAL_RATIO * np.median(trace[near]):
            continue
        taken[band] = True
        bg_csd = _background(freqs, csd, band, sides)
        excess = np.sum(csd[band] - bg_csd, axis=0) * df
        evals, evecs = np.linalg.eigh(0.5 * (excess + excess.conj().T))
        if evals[-1] <= 0:
            continue
        # spread of the excess power: slow frequency modulation (step rate, breathing rate)
        w = np.maximum(trace[band] - background[band], 0.0)
        mean_f = np.sum(w * freqs[band]) / max(np.sum(w), 1e-300)
        var_f = np.sum(w * (freqs[band] - mean_f) ** 2) / max(np.sum(w), 1e-300)
        sigma = np.sqrt(max(var_f - (0.5 * df) ** 2, (0.1 * df) ** 2))   # minus Hann lobe
        out_f.append(mean_f)
        out_w.append(2.355 * sigma)
        out_a.append(evecs[:, -1] * np.sqrt(2.0 * evals[-1]))
        csd[band] = bg_csd
    return (csd, np.asarray(out_f, float), np.asarray(out_w, float),
            np.asarray(out_a, np.complex128).reshape(len(out_f), n_ch))


def _background(freqs, csd, band, sides):
    """The CSD under a line's ``band`` (B, C, C): interpolated between the mean of the ring
    on its two sides (one side: that side's mean). A line on a sloping spectrum (respiration
    on the baseline wander's shoulder) read against one side only took in the wander: a
    0.24-Hz line's ring kept only its quiet upper side (6 dB below the lower one), and the
    wander's common (reference-electrode) part went into the line's channel pattern."""
    means = [(np.mean(freqs[s]), np.mean(csd[s], axis=0)) for s in sides]
    if len(means) == 1:
        return np.repeat(means[0][1][None], len(band), axis=0)
    (f_lo, c_lo), (f_hi, c_hi) = means
    t = np.clip((freqs[band] - f_lo) / (f_hi - f_lo), 0.0, 1.0)[:, None, None]
    return (1.0 - t) * c_lo[None] + t * c_hi[None]


def _add_harmonics(freqs, ratio, ok, peaks):
    """Harmonics of strong lines (step-locked motion) pass at a lower threshold: prior
    knowledge that they exist makes a 3-fold peak at ``h f0`` credible."""
    df = freqs[1] - freqs[0]
    found = set(int(p) for p in peaks)
    for p in sorted(peaks, key=lambda q: -ratio[q]):
        if ratio[p] < STRONG_RATIO or freqs[p] < 0.5:
            continue
        f1 = freqs[p]
        for h in range(2, int(min(freqs[-1], HARMONIC_MAX_HZ) // f1) + 1):
            if len(found) >= MAX_LINES_WITH_HARMONICS:
                break
            target = int(round(h * f1 / df))
            span = max(2, int(round(0.01 * h * f1 / df)))
            lo, hi = max(target - span, 0), min(target + span + 1, len(freqs))
            if lo >= hi or not np.any(ok[lo:hi]):
                continue
            q = lo + int(np.argmax(np.where(ok[lo:hi], ratio[lo:hi], 0)))
            if ratio[q] >= HARMONIC_RATIO and all(abs(q - r) > span for r in found):
                found.add(q)
    return sorted(found)


def synthesize(freqs_hz, widths_hz, amplitudes, n_times, sfreq, rng, family=None,
               harmonic=None, knot_s=4.0):
    """Sum of sinusoids with wandering frequency, ``(n_ch, n_times)``; lines above Nyquist
    dropped. The frequency deviation is a smooth (piecewise-linear, ``knot_s`` knots)
    Gaussian process with standard deviation ``width / 2.355``: a Gaussian line of the
    measured full width, without the 1/f² skirts a phase random walk would spread.
    Lines of one ``family`` share that process: harmonic ``h`` runs at ``h`` times the
    family's phase, so the waveform of each cycle keeps its shape."""
    n_ch = amplitudes.shape[1] if amplitudes.ndim == 2 else 0
    n = int(n_times)
    out = np.zeros((n_ch, n))
    if len(freqs_hz) == 0:
        return out
    family = np.arange(len(freqs_hz)) if family is None else np.asarray(family)
    harmonic = np.ones(len(freqs_hz), int) if harmonic is None else np.asarray(harmonic)
    t = np.arange(n) / sfreq
    n_knots = int(np.ceil(n / sfreq / knot_s)) + 2
    knots_t = (np.arange(n_knots) - 0.5) * knot_s
    for fam in np.unique(family):
        members = np.flatnonzero(family == fam)
        fund = members[np.argmin(harmonic[members])]
        f1 = freqs_hz[fund] / harmonic[fund]
        # harmonic h spreads h times wider, so every member reads the family's wander; a
        # line narrower than a bin reads as the floor (a 20-s walk: 0.06 Hz at 1.8 Hz, 0.1 Hz
        # per h on the harmonics): the best-resolved, widest reading per h is kept
        w1 = float(np.max(widths_hz[members] / harmonic[members]))
        dev = np.interp(t, knots_t, rng.standard_normal(n_knots) * (w1 / 2.355))
        phase = 2 * np.pi * (f1 * t + np.cumsum(dev) / sfreq) + rng.uniform(0, 2 * np.pi)
        for m in members:
            if harmonic[m] * f1 < sfreq / 2:
                out += np.real(amplitudes[m][:, None] * np.exp(1j * harmonic[m] * phase)[None, :])
    return out


def _notches(sfreq, mains_hz, freqs_hz, widths_hz):
    """``(b, a)`` of every notch :func:`remove` applies: Q 30 at the mains harmonics, and
    per quasi-periodic line a notch as narrow as its width allows (keeps the background)."""
    out = []
    for fh in mains_hz:
        if fh < sfreq / 2 - 1:
            out.append(scipy.signal.iirnotch(fh, 30.0, fs=sfreq))
    for f0, w in zip(freqs_hz, widths_hz):
        if 0 < f0 < sfreq / 2 - 1:
            q = f0 / min(max(2 * w, 0.05), 0.3 * f0)
            out.append(scipy.signal.iirnotch(f0, q, fs=sfreq))
    return out


def remove(segment, sfreq, mains_hz, freqs_hz, widths_hz):
    """Notch the mains harmonics and the quasi-periodic lines out of a time-domain
    segment (zero-phase), for the envelope and regime estimates."""
    for b, a in _notches(sfreq, mains_hz, freqs_hz, widths_hz):
        segment = scipy.signal.filtfilt(b, a, segment, axis=1)
    return segment


def removal_response(freqs, sfreq, mains_hz, freqs_hz, widths_hz):
    """Power response of :func:`remove` at ``freqs`` (filtfilt: ``|H|^4`` per notch)."""
    g = np.ones(len(freqs))
    for b, a in _notches(sfreq, mains_hz, freqs_hz, widths_hz):
        _, h = scipy.signal.freqz(b, a, worN=np.asarray(freqs, float), fs=sfreq)
        g *= np.abs(h) ** 4
    return g


# -- mains level wander ------------------------------------------------------------------------
#: the mains line's relative amplitude is read (complex demodulation) at this rate...
LEVEL_SFREQ = 4.0
#: ...and its spectrum kept on ``rfftfreq(LEVEL_NFFT, 1 / LEVEL_SFREQ)`` (64-s frames)
LEVEL_NFFT = 256
N_LEVEL_FREQS = LEVEL_NFFT // 2 + 1
LEVEL_LOWPASS_HZ = 0.8      # inside powerline.HALF_WIDTH_HZ: the demodulated line only
LEVEL_REF_OFFSET_HZ = 2.5   # the background is read this far off the line (its ring)
MIN_LEVEL_S = 60.0


def fit_level_psd(segments, sfreq, harmonics_hz, amplitudes):
    """Spectrum (1/Hz, on the :data:`LEVEL_NFFT` grid) of the mains line's relative
    amplitude ``m(t) - 1``.

    A body's capacitive coupling to the mains changes as it moves, so the line's level
    wanders slowly; a constant sinusoid gives every window the same line power, which a
    classifier spots when the line dominates a band. The strongest harmonic is demodulated
    (projected on its recorded channel pattern, low-passed, decimated); the background's
    share (the same demodulation :data:`LEVEL_REF_OFFSET_HZ` off the line, in-phase part)
    is subtracted. Zeros when there is no line or under :data:`MIN_LEVEL_S` of data.
    """
    out = np.zeros(N_LEVEL_FREQS)
    if len(harmonics_hz) == 0:
        return out
    a = np.asarray(amplitudes)
    k = int(np.argmax(np.sum(np.abs(a) ** 2, axis=1)))
    fh, pattern = float(harmonics_hz[k]), a[k]
    norm = 0.5 * np.sum(np.abs(pattern) ** 2)
    step = max(int(round(sfreq / LEVEL_SFREQ)), 1)
    fs_d = sfreq / step
    nper = int(round(LEVEL_NFFT * fs_d / LEVEL_SFREQ))
    if fh + LEVEL_REF_OFFSET_HZ + LEVEL_LOWPASS_HZ >= sfreq / 2:
        return out
    sos = scipy.signal.butter(4, LEVEL_LOWPASS_HZ, fs=sfreq, output="sos")
    levels, refs = [], []
    for seg in segments:
        if seg.shape[1] < nper * step:
            continue
        t = np.arange(seg.shape[1]) / sfreq
        proj = np.conj(pattern) @ seg
        pair = []
        for f in (fh, fh + LEVEL_REF_OFFSET_HZ):
            z = proj * np.exp(-2j * np.pi * f * t)
            z = scipy.signal.sosfiltfilt(sos, z.real) + 1j * scipy.signal.sosfiltfilt(sos, z.imag)
            pair.append(z[::step] / norm)
        levels.append(np.abs(pair[0]))
        refs.append(pair[1].real)
    if sum(len(x) for x in levels) * step / sfreq < MIN_LEVEL_S:
        return out
    mean = float(np.mean(np.concatenate(levels)))
    if not mean > 0:
        return out
    psd = np.zeros((2, nper // 2 + 1))
    for lv, rf in zip(levels, refs):
        w = len(lv) / sum(len(x) for x in levels)
        for i, y in enumerate((lv / mean - 1.0, rf / mean)):
            f, p = scipy.signal.welch(y, fs_d, nperseg=nper)
            psd[i] += w * p
    excess = np.clip(psd[0] - psd[1], 0.0, None)
    grid = np.fft.rfftfreq(LEVEL_NFFT, 1.0 / LEVEL_SFREQ)
    out = np.interp(grid, f, excess)
    out[grid > LEVEL_LOWPASS_HZ] = 0.0
    return out


def level(psd, n_times, sfreq, rng):
    """Relative mains level ``m(t)`` (n_times,) with the spectrum ``psd`` of
    :func:`fit_level_psd` and ``E[m^2] = 1`` (the line's measured power is kept); ones
    when ``psd`` is all zero."""
    psd = np.asarray(psd, float)
    n = int(n_times)
    if not np.any(psd > 0):
        return np.ones(n)
    n_d = int(np.ceil(n / sfreq * LEVEL_SFREQ)) + 2
    nfft = max(int(2 ** np.ceil(np.log2(n_d + LEVEL_NFFT))), LEVEL_NFFT)
    f = np.fft.rfftfreq(nfft, 1.0 / LEVEL_SFREQ)
    grid = np.fft.rfftfreq(LEVEL_NFFT, 1.0 / LEVEL_SFREQ)
    # white noise of unit variance through sqrt(PSD * fs / 2): a process with PSD ``psd``
    amp = np.sqrt(np.interp(f, grid, psd) * LEVEL_SFREQ / 2)
    z = np.fft.irfft(np.fft.rfft(rng.standard_normal(nfft)) * amp, nfft)[:n_d]
    var = float(np.sum(psd[1:]) * (grid[1] - grid[0]))
    m = 1.0 + np.interp(np.arange(n) / sfreq, np.arange(n_d) / LEVEL_SFREQ, z)
    return m / np.sqrt(1.0 + var)
