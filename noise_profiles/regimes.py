"""Quiet and burst regimes: a separate spectrum while the wearer moves.

A burst of muscle (EMG) or motion noise does not just scale each band: the spectral
shape and the channel coupling change with it (the EMG rises above the white floor, the
motion pattern of the electrodes takes over the 1-5 Hz band). Scaling envelopes cannot
reproduce that, so when the recording holds two regimes the modulated band (above
``split_hz``) is modelled as a two-state semi-Markov switch between a quiet and a burst
cross-spectral density:

``high(t) = sqrt(1 - w(t)) q(t) + sqrt(w(t)) b(t)``

with ``q`` and ``b`` independent stationary Gaussian noises (CSDs ``S_quiet``,
``S_burst``) and ``w`` the burst weight: each burst rises and falls as ``sin^4`` over
its dwell plus :data:`FADE_S` either side, so the instantaneous CSD
``(1 - w) S_quiet + w S_burst`` cross-fades and never jumps (no seams). Dwell times are
drawn from the recorded dwell-time quantiles of each regime (semi-Markov: any dwell
distribution, not only exponential). The regime CSDs come from short Welch frames inside
each regime; the fine detail of the full CSD is carried over per channel and frequency,
and the burst CSD is scaled so that the long-run mix equals the full CSD.

Regimes are found on the common log-RMS of the band above :data:`DETECT_LO_HZ`
(:func:`noise_profiles.envelope.log_envelope`, :data:`WIN_S` windows) with a
two-component Gaussian mixture (scikit-learn); the model is used only when the mixture
is clearly bimodal (Ashman's D >= :data:`MIN_SEPARATION`) and each regime has enough
windows and runs, and both regimes last at least :data:`MIN_MEDIAN_DWELL_S` (median):
the step-locked EMG of walking switches every step and stays with the envelope model.
"""

from __future__ import annotations

import numpy as np

from noise_profiles.envelope import log_envelope

WIN_S = 0.25
FADE_S = 0.25
DETECT_LO_HZ = 15.0
MIN_SEPARATION = 2.0      # Ashman's D: 2 separates two Gaussians cleanly
MIN_WINDOWS = 16          # per regime
MIN_RUNS = 4              # per regime
#: a regime must last at least this long (median dwell): faster switching (e.g. the
#: step-locked EMG of walking) is a periodic modulation, not a change of regime
MIN_MEDIAN_DWELL_S = 2 * WIN_S
CSD_FRAME_S = 0.5         # short frames fit inside bursts; the fine grid comes from the full CSD
MAX_FRAME_S = 4.0
POWER = 4
GUARD_S = WIN_S
MAX_QUIET_SHARE = 0.05    # burst share allowed in (and GUARD_S around) a quiet frame
MIN_PURITY = 0.75         # a frame counts for a regime when this share of it is in it
N_DWELL_QUANTILES = 33
QUIET, BURST = 0, 1


def disabled(n_ch):
    """State of a profile without regimes (placeholders of the stored shapes)."""
    return dict(regime_enabled=0, regime_fraction=0.0,
                regime_dwell_s=np.zeros((2, N_DWELL_QUANTILES)),
                regime_freqs=np.zeros(2), regime_csd=np.zeros((2, 2, n_ch, n_ch), complex))


def detect(segments, sfreq, split_hz):
    """Label each :data:`WIN_S` window of each segment quiet (0) or burst (1).

    Returns
    -------
    labels : list of ndarray (n_windows,) int, or None
        None when the recording does not hold two clearly separated regimes.
    """
    from sklearn.mixture import GaussianMixture

    lo = max(split_hz, DETECT_LO_HZ)
    if lo >= 0.45 * sfreq:
        return None
    w = int(round(WIN_S * sfreq))
    usable = [s for s in segments if s.shape[1] // w >= 2]
    seqs = log_envelope(usable, sfreq, lo, np.inf, WIN_S)
    if sum(len(s) for s in seqs) < 2 * MIN_WINDOWS:
        return None
    e = np.concatenate(seqs)[:, None]
    gm = GaussianMixture(2, covariance_type="full", n_init=2, random_state=0).fit(e)
    mu, var = gm.means_[:, 0], gm.covariances_[:, 0, 0]
    separation = np.sqrt(2.0) * abs(mu[1] - mu[0]) / np.sqrt(var[0] + var[1])
    if separation < MIN_SEPARATION:
        return None
    burst = int(np.argmax(mu))
    labels = [(gm.predict_proba(s[:, None])[:, burst] > 0.5).astype(int) for s in seqs]
    # segments too short for a window keep no label: they are left out of the regimes
    out, it = [], iter(labels)
    for s in segments:
        out.append(next(it) if s.shape[1] // w >= 2 else None)
    return out


def runs(labels):
    """``[(state, start, stop, at_edge)]`` of constant label (window indices)."""
    change = np.flatnonzero(np.diff(labels)) + 1
    edges = np.r_[0, change, len(labels)]
    return [(int(labels[a]), int(a), int(b), a == 0 or b == len(labels))
            for a, b in zip(edges[:-1], edges[1:])]


def frame_s(dwell, regime):
    """Welch frame (s) for a regime's CSD: half its median dwell, within
    [:data:`CSD_FRAME_S`, :data:`MAX_FRAME_S`] (long quiet spells give a finer grid and
    less leakage)."""
    return float(np.clip(0.5 * np.median(dwell[regime]), CSD_FRAME_S, MAX_FRAME_S))


def regime_csds(segments, labels, sfreq, frame_s=CSD_FRAME_S):
    """Welch CSD per regime from frames of ``frame_s`` that lie (mostly) inside one regime.

    Returns
    -------
    freqs : ndarray (F,)
    csds : ndarray (3, F, C, C) complex
        Quiet, burst, and all frames (the same estimator on everything, to carry the fine
        detail of the full CSD over to the regimes).
    n_frames : list of int
        Frames averaged per regime (and in all).
    """
    import scipy.signal

    w = int(round(WIN_S * sfreq))
    nperseg = int(round(frame_s * sfreq))
    # short frames overlap more: bursts hold few of them
    hop = max(nperseg // (4 if frame_s <= CSD_FRAME_S else 2), 1)
    n_ch = segments[0].shape[0]
    acc = np.zeros((3, nperseg // 2 + 1, n_ch, n_ch), complex)
    counts = [0, 0, 0]
    freqs = np.fft.rfftfreq(nperseg, 1.0 / sfreq)
    for seg, lab in zip(segments, labels):
        if lab is None or seg.shape[1] < nperseg:
            continue
        per_sample = np.repeat(lab, w).astype(float)
        per_sample = np.r_[per_sample, np.full(seg.shape[1] - len(per_sample), lab[-1])]
        _, _, z = scipy.signal.spectrogram(
            seg, fs=sfreq, window="hann", nperseg=nperseg, noverlap=nperseg - hop,
            detrend="constant", scaling="density", mode="complex")
        starts = np.arange(z.shape[2]) * hop
        share = _window_sums(per_sample, starts, nperseg) / nperseg
        # quiet frames keep GUARD_S from bursts (their shoulders fall below the threshold
        # but would still lift the quiet spectrum)
        g = int(round(GUARD_S * sfreq))
        padded = np.r_[np.zeros(g), per_sample, np.zeros(g)]
        near = _window_sums(padded, starts, nperseg + 2 * g) / nperseg
        z = np.transpose(z, (2, 1, 0))                  # (K, F, C)
        for state, sel in ((QUIET, near <= MAX_QUIET_SHARE), (BURST, share >= MIN_PURITY),
                           (2, share >= 0)):
            if np.any(sel):
                zs = np.transpose(z[sel], (1, 2, 0))         # (F, C, K)
                acc[state] += zs @ np.conj(np.transpose(zs, (0, 2, 1)))
                counts[state] += int(np.count_nonzero(sel))
    csds = acc / np.maximum(np.asarray(counts), 1)[:, None, None, None]
    csds[:, 1:] *= 2.0
    if nperseg % 2 == 0:
        csds[:, -1] /= 2.0
    return freqs, csds, counts


def _window_sums(x, starts, length):
    """``x[s:s + length].sum()`` for each start ``s`` (cumulative sums: O(n))."""
    c = np.r_[0.0, np.cumsum(x)]
    return c[starts + length] - c[starts]


def dwell_quantiles(labels):
    """Recorded dwell times (s) of each regime as quantiles, (2, N_DWELL_QUANTILES), and the
    number of runs per regime. Runs cut by a segment edge are left out when enough whole
    runs remain (they are censored: shorter than the real dwell)."""
    per = {QUIET: [], BURST: []}
    cut = {QUIET: [], BURST: []}
    for lab in labels:
        if lab is None:
            continue
        for state, a, b, at_edge in runs(lab):
            (cut if at_edge else per)[state].append((b - a) * WIN_S)
    q = np.zeros((2, N_DWELL_QUANTILES))
    counts = []
    for state in (QUIET, BURST):
        d = per[state] if len(per[state]) >= MIN_RUNS else per[state] + cut[state]
        counts.append(len(d))
        if d:
            q[state] = np.quantile(d, np.linspace(0, 1, N_DWELL_QUANTILES))
    return q, counts


def burst_fraction(dwell):
    """Long-run share of time in the burst regime implied by the dwell quantiles (what
    :func:`weights` produces; the window count can differ by the censored edge runs)."""
    mean = np.trapezoid(dwell, np.linspace(0, 1, dwell.shape[1]), axis=1)
    return float(mean[BURST] / max(mean.sum(), 1e-12))


def weights(state, n_times, sfreq, rng):
    """Burst weight ``w(t)`` in [0, 1], (n_times,): the semi-Markov regime path.

    Each burst rises and falls as a raised-cosine power profile ``sin^POWER`` spanning
    its dwell plus :data:`FADE_S` on either side (the labelled dwell is the part above the
    detection threshold), so regimes cross-fade and never meet at a seam."""
    n = int(n_times)
    dwell = np.asarray(state["regime_dwell_s"], float)
    grid = np.linspace(0, 1, dwell.shape[1])
    fade = max(int(round(FADE_S * sfreq)), 1)
    pad = int(np.ceil(dwell[BURST, -1] * sfreq)) + 2 * fade
    total = n + 2 * pad
    out = np.zeros(total)
    current = int(rng.random() < float(state["regime_fraction"]))
    # enter in the middle of a dwell (stationary start, approximately)
    t = -int(rng.random() * _draw(dwell[current], grid, rng) * sfreq)
    while t < total:
        d = max(int(round(_draw(dwell[current], grid, rng) * sfreq)), 1)
        if current == BURST:
            length = d + 2 * fade
            a = t - fade
            shape = np.sin(np.pi * (np.arange(length) + 0.5) / length) ** POWER
            lo, hi = max(a, 0), min(a + length, total)
            if hi > lo:
                out[lo:hi] = np.maximum(out[lo:hi], shape[lo - a:hi - a])
        t, current = t + d, 1 - current
    return out[pad:pad + n]


def mean_weight(state, sfreq, seconds=4000.0):
    """Long-run mean of :func:`weights` at ``sfreq`` (one fixed-seed draw): the burst
    share of the power mix."""
    n = int(seconds * sfreq)
    return float(weights(state, n, sfreq, np.random.default_rng(0)).mean())


def _draw(quantiles, grid, rng):
    return float(np.interp(rng.random(), grid, quantiles))


def fit(segments, sfreq, split_hz, freqs, csd, min_frames):
    """Quiet and burst CSDs (on the model grid ``freqs``), dwell times and window labels.

    Parameters
    ----------
    segments : list of ndarray (n_ch, n)
        Clean data, mains and narrow lines already notched out.
    freqs, csd : the activity's full (smoothed, line-free) CSD.
    min_frames : int
        Fewest Welch frames per regime.

    Returns
    -------
    state : dict
        ``regime_*`` fields; empty when the recording does not hold two regimes.
    labels : list | None
        Per segment, the regime of each :data:`WIN_S` window (None: one regime).
    """
    from noise_profiles.envelope import highpass

    labels = detect(segments, sfreq, split_hz)
    if labels is None:
        return {}, None
    n_win = [sum(int(np.sum(lab == r)) for lab in labels if lab is not None)
             for r in (QUIET, BURST)]
    dwell, n_runs = dwell_quantiles(labels)
    if (min(n_win) < MIN_WINDOWS or min(n_runs) < MIN_RUNS
            or min(np.median(dwell, axis=1)) < MIN_MEDIAN_DWELL_S):
        return {}, None
    fraction = mean_weight(dict(regime_dwell_s=dwell, regime_fraction=burst_fraction(dwell)),
                           sfreq)
    # only the band above split_hz switches: high-passed first, so the short frames'
    # leakage of the (much larger) baseline wander stays out
    high = [highpass(s, sfreq, split_hz) for s in segments]
    per, n_frames = [None] * 3, [0] * 3
    lengths = {r: frame_s(dwell, r) for r in (QUIET, BURST)}
    for length in sorted(set(lengths.values())):
        f, raw, k = regime_csds(high, labels, sfreq, length)
        # quiet: also the same estimator on all frames (for the detail transfer)
        for r in ([QUIET, 2] if lengths[QUIET] == length else []) + (
                [BURST] if lengths[BURST] == length else []):
            per[r], n_frames[r] = _interp_csd(freqs, f, raw[r]), k[r]
    if min(n_frames) < min_frames:
        return {}, None
    # the regime CSDs come from short (coarse) frames of notched data. Per channel and
    # frequency: the quiet CSD takes the fine detail of the full (line-free) CSD relative
    # to the same coarse estimator on all frames; the burst CSD is then scaled so that the
    # time-weighted mix matches the full CSD (the sin^4 burst profile of the weights need
    # not hold exactly the recorded burst energy)
    full = np.real(np.einsum("fii->fi", csd))
    diag = [np.maximum(np.real(np.einsum("fii->fi", c)), 1e-300) for c in per]
    d_q = np.clip(np.sqrt(full / diag[2]), 0.01, 100.0)
    rest = full - (1 - fraction) * d_q ** 2 * diag[0]
    d_b = np.sqrt(np.clip(rest / (fraction * diag[1]), 0.01, 100.0))
    scaled = np.stack([c * d[:, :, None] * d[:, None, :]
                       for c, d in ((per[QUIET], d_q), (per[BURST], d_b))])
    return dict(regime_enabled=1, regime_fraction=float(fraction), regime_dwell_s=dwell,
                regime_freqs=freqs, regime_csd=scaled), labels


def _interp_csd(freqs, f, csd):
    """Linear interpolation of a CSD onto ``freqs`` (element-wise: stays Hermitian PSD)."""
    flat = csd.reshape(len(f), -1)
    out = np.empty((len(freqs), flat.shape[1]), complex)
    for j in range(flat.shape[1]):
        out[:, j] = (np.interp(freqs, f, flat[:, j].real)
                     + 1j * np.interp(freqs, f, flat[:, j].imag))
    return out.reshape((len(freqs),) + csd.shape[1:])
