"""Quiet and burst regimes: a separate spectrum while the wearer moves.

A burst of muscle (EMG) or motion noise does not just scale each band: the spectral
shape and the channel coupling change with it (the EMG rises above the white floor, the
motion pattern of the electrodes takes over the 1-5 Hz band). Scaling envelopes cannot
reproduce that, so when the recording holds two regimes the modulated band (above
``split_hz``) is modelled as stationary quiet noise plus bursts on top:

``high(t) = q(t) + sqrt(u(t)) e(t)``

with ``q`` and ``e`` independent stationary Gaussian noises (CSDs ``S_quiet`` and the
burst excess ``S_excess``) and ``u`` the burst weight: a semi-Markov path of recorded
bursts, each with its recorded length, shape (flat-topped raised cosine) and loudness
(:mod:`noise_profiles.bursts`), so the bursts come back as peaky inside a window as
recorded, and the weight never jumps (no seams). ``S_quiet`` comes from short Welch frames
clear of every burst (labels plus guard, and outside every fitted burst profile), with
the fine detail of the full CSD carried over by the ratio of the full CSD to what the same
short-frame estimator would read on it; ``S_excess`` from the burst frames, scaled so that
the long-run mix ``S_quiet + mean(u) S_excess`` equals the full CSD. Stored as
``regime_csd = [S_quiet, S_quiet + S_excess]`` (the CSD at the peak of a unit burst);
schema /2 profiles, without the burst table, cross-fade the two as before.

Regimes are found on the common log-RMS of the band above :data:`DETECT_LO_HZ`
(:data:`WIN_S` windows) with a two-component Gaussian mixture (scikit-learn); the model is
used only when the mixture is clearly bimodal (Ashman's D >= :data:`MIN_SEPARATION`) and
each regime has enough windows and runs, and both regimes last at least
:data:`MIN_MEDIAN_DWELL_S` (median): the step-locked EMG of walking switches every step
and stays with the envelope model.
"""

from __future__ import annotations

import numpy as np

from noise_profiles.bursts import (BURST, FADE_S, FINE_PER_WIN, MIN_RUNS, QUIET,  # noqa: F401
                                   WIN_S, burst_fraction, burst_table, mean_weight, path,
                                   runs, weights)
from noise_profiles.spectral import frame_expectation, smooth_coherency

DETECT_LO_HZ = 15.0       # regimes are detected above it; bursts below follow the motion band
MOTION_LO_HZ = 5.0        # the motion band's burst profiles are read in [5, 15) Hz
MIN_SEPARATION = 2.0      # Ashman's D: 2 separates two Gaussians cleanly
MIN_WINDOWS = 16          # per regime
#: a regime must last at least this long (median dwell): faster switching (e.g. the
#: step-locked EMG of walking) is a periodic modulation, not a change of regime
MIN_MEDIAN_DWELL_S = 2 * WIN_S
CSD_FRAME_S = 0.5         # short frames fit inside bursts; the fine grid comes from the full CSD
MAX_FRAME_S = 4.0
FRAME_CHUNK = 512         # frames transformed at once (bounded memory)
GUARD_S = WIN_S
MAX_QUIET_SHARE = 0.05    # labelled burst share allowed in (and GUARD_S around) a quiet frame
QUIET_WEIGHT = 1e-3       # a quiet frame's mean fitted burst weight is at most this
BURST_WEIGHT = 0.25       # a burst frame's at least this
N_DWELL_QUANTILES = 33
EXCESS = 2                # burst CSD minus quiet CSD (what a burst adds)
MIN_REGIME_FRAMES = 8     # fewest Welch frames per regime (coupling smoothed up to min_frames)
DECONV_STEPS = 40         # Richardson-Lucy steps undoing the quiet frames' leakage


def disabled(n_ch):
    """State of a profile without regimes (placeholders of the stored shapes)."""
    return dict(regime_enabled=0, regime_fraction=0.0,
                regime_dwell_s=np.zeros((2, N_DWELL_QUANTILES)), regime_bursts=np.zeros((0, 7)),
                regime_freqs=np.zeros(2), regime_csd=np.zeros((2, 2, n_ch, n_ch), complex))


def detect(segments, sfreq, split_hz):
    """Label each :data:`WIN_S` window of each segment quiet (0) or burst (1).

    Returns
    -------
    labels : list of ndarray (n_windows,) int, or None
        None when the recording does not hold two clearly separated regimes.
    """
    return _detect(segments, sfreq, split_hz)[0]


def _detect(segments, sfreq, split_hz):
    """:func:`detect`, plus the common relative power of the detection band in
    :data:`FINE_S` windows (one sequence per labelled segment, :data:`FINE_PER_WIN` per
    label window)."""
    from sklearn.mixture import GaussianMixture

    lo = max(split_hz, DETECT_LO_HZ)
    if lo >= 0.45 * sfreq:
        return None, None
    w = int(round(WIN_S * sfreq))
    usable = [s for s in segments if s.shape[1] // w >= 2]
    fine = _fine_power(usable, sfreq, lo, np.inf)
    seqs = [0.5 * np.log(np.maximum(p.reshape(-1, FINE_PER_WIN).mean(axis=1), 1e-300))
            for p in fine]
    if sum(len(s) for s in seqs) < 2 * MIN_WINDOWS:
        return None, None
    e = np.concatenate(seqs)[:, None]
    gm = GaussianMixture(2, covariance_type="full", n_init=2, random_state=0).fit(e)
    mu, var = gm.means_[:, 0], gm.covariances_[:, 0, 0]
    separation = np.sqrt(2.0) * abs(mu[1] - mu[0]) / np.sqrt(var[0] + var[1])
    if separation < MIN_SEPARATION:
        return None, None
    burst = int(np.argmax(mu))
    labels = [(gm.predict_proba(s[:, None])[:, burst] > 0.5).astype(int) for s in seqs]
    # segments too short for a window keep no label: they are left out of the regimes
    out, it = [], iter(labels)
    for s in segments:
        out.append(next(it) if s.shape[1] // w >= 2 else None)
    return out, fine


def _fine_power(segments, sfreq, lo, hi):
    """Per segment, the power in ``[lo, hi)`` in :data:`FINE_S` windows, each channel over
    its mean, averaged over channels (whole label windows only):
    (n_windows * FINE_PER_WIN,)."""
    from noise_profiles.envelope import bandpass

    w = int(round(WIN_S * sfreq))
    f = max(w // FINE_PER_WIN, 1)
    powers = []
    for seg in segments:
        n_win = seg.shape[1] // w
        b = bandpass(seg, sfreq, lo, hi)[:, : n_win * w].reshape(seg.shape[0], n_win, w)
        powers.append(b[:, :, : FINE_PER_WIN * f]
                      .reshape(seg.shape[0], n_win * FINE_PER_WIN, f).var(axis=2))
    mean_p = np.maximum(np.concatenate(powers, axis=1).mean(axis=1, keepdims=True), 1e-300)
    return [(p / mean_p).mean(axis=0) for p in powers]


def frame_s(dwell, regime):
    """Welch frame (s) for a regime's CSD: half its median dwell, within
    [:data:`CSD_FRAME_S`, :data:`MAX_FRAME_S`] (long quiet spells give a finer grid and
    less leakage)."""
    return float(np.clip(0.5 * np.median(dwell[regime]), CSD_FRAME_S, MAX_FRAME_S))


def regime_csds(segments, labels, weights, sfreq, frame_s=CSD_FRAME_S, which=(QUIET, BURST)):
    """Quiet and excess CSDs from Welch frames, sorted by the fitted burst weight.

    ``u_k`` is a frame's (Hann²-weighted) mean of the burst weight ``u`` fitted to the
    recording (:func:`burst_table`). Quiet frames lie outside every fitted burst profile
    (``u_k`` <= :data:`QUIET_WEIGHT`) and keep :data:`GUARD_S` from every labelled burst
    window: burst shoulders stay out of the quiet spectrum (which would otherwise come
    back at all times, on top of the synthesized shoulders). The excess is the mean burst
    frame (``u_k`` >= :data:`BURST_WEIGHT`) minus the quiet CSD, per unit of their mean
    ``u_k``.

    Parameters
    ----------
    labels : list of ndarray (n_windows,) | None
        Regime of each :data:`WIN_S` window per segment.
    weights : list of ndarray (n,) | None
        ``u(t)`` per segment (None: segment left out).

    Returns
    -------
    freqs : ndarray (F,)
    csds : ndarray (2, F, C, C) complex
        Quiet and excess (unit weight), positive semi-definite.
    n_frames : list of int
        Quiet and burst frames averaged.
    """
    import scipy.signal

    nperseg = int(round(frame_s * sfreq))
    # short frames overlap more: bursts hold few of them
    hop = max(nperseg // (4 if frame_s <= CSD_FRAME_S else 2), 1)
    n_ch = segments[0].shape[0]
    acc = np.zeros((2, nperseg // 2 + 1, n_ch, n_ch), complex)
    counts, u_sum = [0, 0], 0.0
    freqs = np.fft.rfftfreq(nperseg, 1.0 / sfreq)
    taper = scipy.signal.get_window("hann", nperseg) ** 2
    taper /= taper.sum()
    w, g = int(round(WIN_S * sfreq)), int(round(GUARD_S * sfreq))
    window = scipy.signal.get_window("hann", nperseg)
    scale = 1.0 / np.sqrt(sfreq * np.sum(window ** 2))      # |X|^2: density, one side
    for seg, lab, u in zip(segments, labels, weights):
        if u is None or lab is None or seg.shape[1] < nperseg:
            continue
        starts = np.arange((seg.shape[1] - nperseg) // hop + 1) * hop
        uk = scipy.signal.fftconvolve(u, taper[::-1], "valid")[starts]
        per_sample = np.repeat(lab, w).astype(float)
        per_sample = np.r_[np.zeros(g), per_sample,
                           np.full(seg.shape[1] - len(per_sample), lab[-1]), np.zeros(g)]
        near = _window_sums(per_sample, starts, nperseg + 2 * g)
        quiet = (uk <= QUIET_WEIGHT) & (near <= MAX_QUIET_SHARE * nperseg)
        for state, sel in ((QUIET, quiet), (BURST, uk >= BURST_WEIGHT)):
            if state in which and np.any(sel):
                # only the frames used are transformed (as scipy's spectrogram would:
                # Hann, mean removed, density scaling)
                chosen = starts[sel]
                for a in range(0, len(chosen), FRAME_CHUNK):
                    idx = chosen[a:a + FRAME_CHUNK, None] + np.arange(nperseg)
                    frames = seg[:, idx]                                     # (C, K, N)
                    frames = frames - frames.mean(axis=2, keepdims=True)
                    zs = np.transpose(np.fft.rfft(frames * window, axis=2) * scale,
                                      (2, 0, 1))                             # (F, C, K)
                    acc[state] += zs @ np.conj(np.transpose(zs, (0, 2, 1)))
                counts[state] += len(chosen)
        u_sum += float(np.sum(uk[uk >= BURST_WEIGHT]))
    csds = acc / np.maximum(np.asarray(counts), 1)[:, None, None, None]
    csds[:, 1:] *= 2.0
    if nperseg % 2 == 0:
        csds[:, -1] /= 2.0
    excess = (csds[BURST] - csds[QUIET]) * counts[BURST] / max(u_sum, 1e-12)
    return freqs, np.stack([csds[QUIET], _nearest_psd(excess)]), counts


def _nearest_psd(csd):
    """Hermitian part with negative eigenvalues set to zero, per frequency."""
    csd = 0.5 * (csd + np.conj(np.transpose(csd, (0, 2, 1))))
    w, v = np.linalg.eigh(csd)
    return (v * np.clip(w, 0.0, None)[:, None, :]) @ np.conj(np.transpose(v, (0, 2, 1)))


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


def fit(segments, sfreq, split_hz, freqs, csd, min_frames, response=None):
    """Quiet and burst CSDs (on the model grid ``freqs``), dwell times and window labels.

    Parameters
    ----------
    segments : list of ndarray (n_ch, n)
        Clean data, mains and narrow lines already notched out.
    freqs, csd : the activity's full (smoothed, line-free) CSD.
    min_frames : int
        Fewest Welch frames per regime.
    response : ndarray (F,) | None
        Power response on ``freqs`` of the notches applied to ``segments``
        (:func:`noise_profiles.lines.removal_response`); None: no notches.

    Returns
    -------
    state : dict
        ``regime_*`` fields; empty when the recording does not hold two regimes.
    labels : list | None
        Per segment, the regime of each :data:`WIN_S` window (None: one regime).
    """
    from noise_profiles.envelope import highpass, highpass_response

    labels, fine = _detect(segments, sfreq, split_hz)
    if labels is None:
        return {}, None
    n_win = [sum(int(np.sum(lab == r)) for lab in labels if lab is not None)
             for r in (QUIET, BURST)]
    dwell, n_runs = dwell_quantiles(labels)
    if (min(n_win) < MIN_WINDOWS or min(n_runs) < MIN_RUNS
            or min(np.median(dwell, axis=1)) < MIN_MEDIAN_DWELL_S):
        return {}, None
    # the motion band's bursts get their own profile (read where the motion artefact's
    # tail is above the floor and a FINE_S window still holds a few cycles)
    lo_m = max(split_hz, MOTION_LO_HZ)
    usable = [s for s, lab in zip(segments, labels) if lab is not None]
    fine_m = _fine_power(usable, sfreq, lo_m, DETECT_LO_HZ) if lo_m < DETECT_LO_HZ else None
    table, u_bands = burst_table(labels, fine, sfreq, [s.shape[1] for s in segments], fine_m)
    if u_bands is None:
        return {}, None
    u_rec = [None if u is None else u.max(axis=0) for u in u_bands]
    fraction, burst_share = mean_weight(
        dict(regime_dwell_s=dwell, regime_fraction=burst_fraction(dwell), regime_bursts=table),
        sfreq)
    # only the band above split_hz switches: high-passed first, so the short frames'
    # leakage of the (much larger) baseline wander stays out
    high = [highpass(s, sfreq, split_hz) for s in segments]
    per, n_frames, grid = [None] * 2, [0] * 2, [None] * 2
    lengths = {r: frame_s(dwell, r) for r in (QUIET, BURST)}
    for length in sorted(set(lengths.values())):
        # the excess needs the quiet CSD at the burst frames' length too
        need = [QUIET] + ([BURST] if lengths[BURST] == length else [])
        f, raw, k = regime_csds(high, labels, u_rec, sfreq, length, need)
        for r in (QUIET, BURST):
            if lengths[r] == length:
                # a short recording gives few frames: the coupling is averaged over
                # neighbouring bins until each value holds min_frames periodograms
                c = smooth_coherency(raw[r], int(np.ceil(min_frames / max(k[r], 1))) | 1)
                per[r], n_frames[r], grid[r] = _interp_csd(freqs, f, c), k[r], f
    if min(n_frames) < MIN_REGIME_FRAMES:
        return {}, None
    # the regime CSDs come from short (coarse) frames of high-passed, notched data. The
    # quiet CSD takes the fine detail of the full (line-free) CSD: per channel, the full
    # PSD over what the same short-frame estimator would give on it after the same
    # filters (its expectation, not an estimate from the same bursty frames: a few bursts
    # dominate any average over all frames, and their sampling error would move the
    # quiet level). The excess CSD is then scaled so that the long-run mix
    # S_quiet + mean(u) S_excess matches the full CSD
    full = np.real(np.einsum("fii->fi", csd))
    gain = highpass_response(freqs, sfreq, split_hz)
    if response is not None:
        gain = gain * response
    seen = frame_expectation(freqs, full * gain[:, None], sfreq, lengths[QUIET])
    # on the frames' coarse grid and back, as the quiet CSD was
    seen = _coarse(freqs, grid[QUIET], seen)
    diag = [np.maximum(np.real(np.einsum("fii->fi", c)), 1e-300) for c in per]
    q = _deconvolve(freqs, diag[QUIET] * full / np.maximum(seen, 1e-300), diag[QUIET], full,
                    gain, sfreq, lengths[QUIET], grid[QUIET])
    d_q = np.clip(np.sqrt(q / diag[QUIET]), 0.01, 100.0)
    quiet = per[QUIET] * d_q[:, :, None] * d_q[:, None, :]
    rest = full - d_q ** 2 * diag[QUIET]
    share = np.where(freqs < DETECT_LO_HZ, burst_share[1], burst_share[0])[:, None]
    d_e = np.sqrt(np.clip(rest / (share * diag[BURST]), 1e-4, 1e4))
    excess = per[BURST] * d_e[:, :, None] * d_e[:, None, :]
    # stored as the CSD at the peak of a unit-gain burst (quiet plus excess)
    return dict(regime_enabled=1, regime_fraction=float(fraction), regime_dwell_s=dwell,
                regime_bursts=table, regime_freqs=freqs,
                regime_csd=np.stack([quiet, quiet + excess])), labels


def _coarse(freqs, grid, psd):
    """``psd`` (F, C) on the frames' coarse ``grid`` and back (as the regime CSDs were)."""
    return np.stack([np.interp(freqs, grid, np.interp(grid, freqs, c)) for c in psd.T], axis=1)


def _deconvolve(freqs, start, measured, full, gain, sfreq, frame_s, grid):
    """Quiet PSD (F, C) whose short-frame Welch expectation (after the filters ``gain``)
    is the ``measured`` one: Richardson-Lucy steps from ``start``, at most ``full``.

    A short frame's spectral window is wide (0.9-s Hann: about ±2 Hz); where the quiet
    spectrum falls steeply (the motion band's low edge) its frames read the leakage of
    the louder neighbouring bins, and rescaling by what the same frames would read on the
    full spectrum (``start``) does not cancel it: quiet windows came out up to 2.5x too
    loud in 1-4 Hz (arm movement)."""
    q = np.minimum(start, full)
    for _ in range(DECONV_STEPS):
        seen = _coarse(freqs, grid, frame_expectation(freqs, q * gain[:, None], sfreq, frame_s))
        ratio = np.clip(measured / np.maximum(seen, 1e-300), 0.5, 2.0)
        q = np.minimum(q * ratio, full)
    return np.maximum(q, 1e-300)


def excess_csd(regime_csd):
    """What a unit-gain burst adds to the quiet CSD (nearest positive semi-definite)."""
    return _nearest_psd(np.asarray(regime_csd[BURST]) - np.asarray(regime_csd[QUIET]))


def _interp_csd(freqs, f, csd):
    """Linear interpolation of a CSD onto ``freqs`` (element-wise: stays Hermitian PSD)."""
    flat = csd.reshape(len(f), -1)
    out = np.empty((len(freqs), flat.shape[1]), complex)
    for j in range(flat.shape[1]):
        out[:, j] = (np.interp(freqs, f, flat[:, j].real)
                     + 1j * np.interp(freqs, f, flat[:, j].imag))
    return out.reshape((len(freqs),) + csd.shape[1:])
