"""Multichannel spectral model: cross-spectral density, its factor, and synthesis.

The CSD is a Welch average of ``scipy.signal.spectrogram`` frames taken inside each clean
segment (never across a gap), on a fine grid (``df <= 0.05 Hz`` when the segments are
long enough), then smoothed over frequency with a constant-relative bandwidth: bins stay
fine where baseline wander lives and average many bins where EMG lives. Synthesis draws
complex Gaussian spectra ``X_k = sqrt(N fs / 2) L(f_k) z_k`` with ``S = L L^H`` and
inverse-FFTs them in one piece, so there are no seams at any length
(``science_anchors.md`` §2.3).
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.signal

from shirtecg_common.errors import UserError

CHUNK = 1 << 15


MIN_FRAMES = 8
MIN_NPERSEG_S = 1.0
LEAKAGE_REFINE = 4          # undo_leakage works on a grid this much finer than the model's
LEAKAGE_STEPS = 8
LEAKAGE_STEP_LN = np.log(2.0)   # per step at most x2 / x0.5
LEAKAGE_MIN_GAIN = 0.05         # -13 dB at most


def choose_nperseg(segments, sfreq, nperseg_s, coverage=0.5):
    """Welch window length in samples.

    ``nperseg_s`` seconds, shortened so that short recordings still give about
    :data:`MIN_FRAMES` half-overlapping frames (but not below 1 s), and so that segments
    at least that long hold ``coverage`` of the data (a link that drops many packets
    leaves short stretches between gaps: the resolution then follows what is there).
    """
    lengths = np.sort([seg.shape[1] for seg in segments])[::-1]
    total = lengths.sum()
    covered = lengths[np.searchsorted(np.cumsum(lengths), coverage * total)]
    n = min(int(round(nperseg_s * sfreq)), int(2 * total / (MIN_FRAMES + 1)), covered)
    n = max(n, min(int(MIN_NPERSEG_S * sfreq), covered))
    return max(min(n, lengths[0]), 16)


def welch_csd(segments, sfreq, nperseg):
    """One-sided CSD ``S[f, i, j] = E[X_i X_j^*]`` (V²/Hz) averaged over segment frames.

    Returns
    -------
    freqs : ndarray (n_freqs,)
    csd : ndarray (n_freqs, n_ch, n_ch) complex128
    n_frames : int
    """
    n_ch = segments[0].shape[0]
    n_freqs = nperseg // 2 + 1
    acc = np.zeros((n_freqs, n_ch, n_ch), np.complex128)
    n_frames = 0
    for seg in segments:
        if seg.shape[1] < nperseg:
            continue
        # mode="complex" gives the scaled one-sided STFT: |X|^2 = density before doubling
        freqs, _, z = scipy.signal.spectrogram(
            seg, fs=sfreq, window="hann", nperseg=nperseg, noverlap=nperseg // 2,
            detrend="constant", scaling="density", mode="complex")
        z = np.transpose(z, (1, 0, 2))          # (F, C, K)
        acc += z @ np.conj(np.transpose(z, (0, 2, 1)))
        n_frames += z.shape[2]
    if n_frames == 0:
        raise UserError(f"no segment is at least {nperseg} samples long")
    csd = acc / n_frames
    csd[1:] *= 2.0                              # one-sided: double all but DC (and Nyquist)
    if nperseg % 2 == 0:
        csd[-1] /= 2.0
    return np.fft.rfftfreq(nperseg, 1.0 / sfreq), csd, n_frames


def gappy_csd(blocks, sfreq, nfft):
    """One-sided CSD from the lag products of present samples (Blackman-Tukey).

    For data cut by many short gaps, Welch frames cannot be long; but the cross-covariance
    ``R_ij(k) = E[x_i(t+k) x_j(t)]`` can be averaged over every pair of samples that are
    both present, whatever lies between them (nothing is filled in). A Parzen lag window of
    ``nfft / 2`` lags gives a resolution of about ``4 sfreq / nfft``.

    Returns
    -------
    freqs, csd, n_equivalent : like :func:`welch_csd`; ``n_equivalent`` is the number of
    independent lag windows the data hold (for smoothing and detection thresholds).
    """
    max_lag = nfft // 2
    n_ch = blocks[0].shape[0]
    sums = np.zeros((n_ch, n_ch, 2 * max_lag + 1))
    counts = np.zeros(2 * max_lag + 1)
    n_valid = 0
    for block in blocks:
        mask = np.all(np.isfinite(block), axis=0).astype(float)
        z = np.where(mask > 0, block, 0.0)
        z = (z - (z.sum(axis=1, keepdims=True) / max(mask.sum(), 1)) * mask) * mask
        n = block.shape[1]
        L = scipy.fft.next_fast_len(n + max_lag + 1, real=True)
        Z = scipy.fft.rfft(z, L, axis=1)
        W = scipy.fft.rfft(mask, L)
        lags = np.r_[np.arange(L - max_lag, L), np.arange(max_lag + 1)]   # -M..M
        counts += scipy.fft.irfft(W * np.conj(W), L)[lags]
        for i in range(n_ch):
            sums[i] += scipy.fft.irfft(Z[i][None, :] * np.conj(Z), L, axis=1)[:, lags]
        n_valid += int(mask.sum())
    R = sums / np.maximum(counts, 1.0)[None, None, :]                   # (C, C, 2M+1)
    lag_window = scipy.signal.windows.parzen(2 * max_lag + 1)
    circ = np.zeros((n_ch, n_ch, nfft))
    circ[:, :, : max_lag + 1] = (R * lag_window)[:, :, max_lag:]
    circ[:, :, nfft - max_lag:] = (R * lag_window)[:, :, :max_lag]
    csd = np.transpose(np.fft.rfft(circ, axis=2), (2, 0, 1)) / sfreq
    csd[1:] *= 2.0
    if nfft % 2 == 0:
        csd[-1] /= 2.0
    csd = 0.5 * (csd + np.conj(np.transpose(csd, (0, 2, 1))))
    # conservative: the gap pattern adds variance the chi-square count would not show
    return np.fft.rfftfreq(nfft, 1.0 / sfreq), csd, max(int(n_valid / (4 * max_lag)), 1)


def smooth_half_widths(freqs, rel_bandwidth, min_bins=1):
    """Half width (bins) of :func:`smooth_csd`'s window at each frequency."""
    df = freqs[1] - freqs[0]
    return np.maximum(np.round(0.5 * rel_bandwidth * freqs / df), min_bins // 2).astype(int)


def _box(x, half):
    """Mean of ``x`` (along axis 0) over ``[k - half[k], k + half[k]]``, clipped at the ends."""
    idx = np.arange(len(x))
    lo = np.clip(idx - half, 0, len(x) - 1)
    hi = np.clip(idx + half, 0, len(x) - 1)
    cum = np.concatenate([np.zeros((1,) + x.shape[1:], x.dtype), np.cumsum(x, axis=0)])
    return (cum[hi + 1] - cum[lo]) / (hi - lo + 1).reshape((-1,) + (1,) * (x.ndim - 1))


def smooth_csd(freqs, csd, rel_bandwidth, min_bins=1, psd_min_bins=None):
    """Average the CSD over a window of ``max(min_bins, rel_bandwidth * f / df)`` bins.

    With ``psd_min_bins`` the channels' PSDs are averaged over
    ``max(psd_min_bins, rel_bandwidth * f / df)`` bins instead and only the coherency over
    the wider window: the coherency needs the averages (its scatter goes as
    ``1 / sqrt(averages)``), while averaging a steep PSD over a few coarse bins reads its
    louder side (20-s passes, 4-s frames, 3 bins: 0.5-1.5 Hz of sitting came out
    1-2.5 dB above the fitted data's own level, 0.3-1.9 dB with 1 bin).
    """
    if rel_bandwidth <= 0:
        return csd
    out = _box(csd, smooth_half_widths(freqs, rel_bandwidth, min_bins))
    out[0] = csd[0]
    if psd_min_bins is not None and psd_min_bins < min_bins:
        psd = np.real(np.einsum("fii->fi", _box(
            csd, smooth_half_widths(freqs, rel_bandwidth, psd_min_bins))))
        psd[0] = np.real(np.diagonal(csd[0]))
        d = np.sqrt(psd / np.maximum(np.real(np.einsum("fii->fi", out)), 1e-300))
        out = out * d[:, :, None] * d[:, None, :]
    return out


def smooth_coherency(csd, n_bins):
    """Average the coherency ``S_ij / sqrt(S_ii S_jj)`` over ``n_bins`` neighbouring bins,
    keep each bin's PSD: fewer frames, same scatter of the channel coupling (a bin's
    coherency error goes as ``1 / sqrt(frames)``; the coupling varies slowly with
    frequency, the level need not). Stays positive semi-definite (a mean of such
    matrices, rescaled)."""
    half = max(int(n_bins) // 2, 0)
    if half == 0:
        return csd
    d = np.maximum(np.real(np.einsum("fii->fi", csd)), 1e-300)
    s = np.sqrt(d)
    g = _box(csd / (s[:, :, None] * s[:, None, :]), np.full(len(csd), half))
    return g * s[:, :, None] * s[:, None, :]


def frame_expectation(freqs, psd, sfreq, frame_s):
    """Expected Hann-window Welch PSD with frames of ``frame_s`` for a process of PSD
    ``psd`` (F, C) given on the grid ``freqs = rfftfreq(n, 1 / sfreq)``: the PSD smoothed
    by the window's spectral kernel, computed as the autocovariance times the window's
    normalized autocorrelation."""
    n = int(round(sfreq / (freqs[1] - freqs[0])))
    m = min(int(round(frame_s * sfreq)), n)           # frame length in grid samples
    w = np.hanning(m + 1)[:m]                          # periodic Hann, as scipy's "hann"
    lag = scipy.signal.fftconvolve(w, w[::-1])[m - 1:] / np.sum(w * w)   # O(m log m)
    lagwin = np.zeros(n)
    lagwin[:m] = lag
    lagwin[n - m + 1:] = lag[1:][::-1]
    acov = np.fft.irfft(psd, n, axis=0)
    return np.maximum(np.fft.rfft(acov * lagwin[:, None], axis=0).real, 0.0)


def undo_leakage(freqs, csd, sfreq, half, n_frames, refine=None, steps=None):
    """Scale each channel of a smoothed Welch CSD so that its PSD is the one whose
    expected estimate (Hann frames of ``1 / df``, then the frequency smoothing ``half``
    of :func:`smooth_csd`) is the measured one; coherency is kept.

    Both steps of the estimator average a PSD over a window (the frame's spectral
    kernel, about ±2 bins plus sidelobes; the smoothing's ``2 half + 1`` bins). Where the
    spectrum falls steeply (baseline wander above its corner) the average reads the louder
    neighbouring bins: with 4-s frames and the smoothing's 3 bins, 0.7-1.5 Hz came out
    +7 dB above the truth (leakage +3 dB, smoothing the rest), and synthesized noise
    carried that bias on top of the leakage its own estimate shows. Richardson-Lucy steps
    on a ``refine`` times finer grid (the kernel is known), the correction clipped to
    [0.5, 2] per step: where the spectrum is flat nothing changes.

    Returns
    -------
    csd : ndarray like ``csd``
    gain : ndarray (F, C)
        Power correction applied per channel.
    """
    refine = LEAKAGE_REFINE if refine is None else int(refine)
    steps = LEAKAGE_STEPS if steps is None else int(steps)
    n = 2 * (len(freqs) - 1)
    measured = np.maximum(np.real(np.einsum("fii->fi", csd)), 1e-300)
    fine = np.fft.rfftfreq(refine * n, 1.0 / sfreq)

    def up(x):
        return np.stack([np.interp(fine, freqs, c) for c in x.T], axis=1)

    def forward(q):
        seen = frame_expectation(fine, q, sfreq, n / sfreq)[::refine]
        return _box(seen, half)

    # a mismatch within the estimate's own scatter (sd of log power: 1 / sqrt(averages))
    # is noise, not bias: only the part beyond it is corrected, and a few steps only (more
    # would fit that noise and dig the dips between peaks ever deeper)
    tol = 1.0 / np.sqrt(max(int(n_frames), 1) * (2 * half + 1))[:, None]
    q = up(measured)
    for _ in range(steps):
        log_r = np.log(measured / np.maximum(forward(q), 1e-300))
        log_r = np.sign(log_r) * np.maximum(np.abs(log_r) - tol, 0.0)
        q = q * up(np.exp(np.clip(log_r, -LEAKAGE_STEP_LN, LEAKAGE_STEP_LN)))
    # power of the finer grid gathered back onto each model bin
    true = _box(q, np.full(len(fine), refine // 2))[::refine]
    gain = np.clip(true / measured, LEAKAGE_MIN_GAIN, 1.0 / LEAKAGE_MIN_GAIN)
    gain[0] = 1.0
    d = np.sqrt(gain)
    return csd * d[:, :, None] * d[:, None, :], gain


def factor_csd(csd):
    """Per-frequency factor ``L`` with ``L L^H = S``: Cholesky, eigen where rank-deficient.

    Returns
    -------
    factor : ndarray (n_freqs, n_ch, n_ch) complex128
    n_eigen : int
        How many frequencies needed the eigen fallback.
    """
    csd = 0.5 * (csd + np.conj(np.transpose(csd, (0, 2, 1))))   # exact Hermitian
    evals, evecs = np.linalg.eigh(csd)
    scale = np.maximum(evals[:, -1:], np.finfo(float).tiny)
    deficient = np.any(evals <= 1e-9 * scale, axis=1)
    factor = np.empty_like(csd)
    ok = ~deficient
    if np.any(ok):
        try:
            factor[ok] = np.linalg.cholesky(csd[ok])
        except np.linalg.LinAlgError:
            deficient[:] = True
    if np.any(deficient):
        lam = np.sqrt(np.clip(evals[deficient], 0.0, None))
        factor[deficient] = evecs[deficient] * lam[:, None, :]
    return factor, int(np.count_nonzero(deficient))


def check_rate(sfreq, model_sfreq, allow_empty_band):
    """Refuse rates whose Nyquist lies above the recording's, unless opted in."""
    if not np.isfinite(sfreq) or sfreq <= 0:
        raise UserError(f"sfreq must be a positive number of Hz, got {sfreq}")
    if sfreq > model_sfreq * (1 + 1e-9) and not allow_empty_band:
        raise UserError(
            f"sfreq {sfreq:g} Hz has its Nyquist ({sfreq / 2:g} Hz) above the recording's "
            f"({model_sfreq / 2:g} Hz): the profile knows nothing there. Use sfreq <= "
            f"{model_sfreq:g} Hz, or pass allow_empty_band=True to leave "
            f"{model_sfreq / 2:g}-{sfreq / 2:g} Hz empty (--allow-empty-band on the command line)"
        )


def synthesize(freqs, csd, factor, n_times, sfreq, rng, split_hz=None, cache=None):
    """Gaussian noise with CSD ``csd`` (given on ``freqs``), ``(n_ch, n_times)`` float64.

    The signal is drawn in one inverse FFT of length ``next_fast_len(n_times)`` and cut to
    ``n_times`` (no seams). Target bins coarser than the model grid get the model CSD
    averaged over the bin and factored there (kept in ``cache``, a dict, when given:
    records of one length reuse it); finer bins reuse the nearest factor. Frequencies above
    the model grid stay empty.

    Returns
    -------
    parts : tuple of ndarray (n_ch, n_times)
        With ``split_hz`` a number: the parts below and above it, from one draw; a
        sequence of edges: one part per band; None: ``(x, None)``.
    """
    n_ch = csd.shape[1]
    n_fft = scipy.fft.next_fast_len(max(int(n_times), 2), real=True)
    fk = np.fft.rfftfreq(n_fft, 1.0 / sfreq)
    df_model = freqs[1] - freqs[0]
    df_target = sfreq / n_fft
    k_in = np.flatnonzero((fk > 0) & (fk <= freqs[-1] + 0.5 * df_model))
    X = np.zeros((len(fk), n_ch), np.complex128)
    if len(k_in):
        if df_target > df_model:
            key = (n_fft, float(sfreq))
            lk = cache.get(key) if cache is not None else None
            if lk is None:
                lk = _bin_average_factor(freqs, csd, fk[k_in], df_target)
                if cache is not None:
                    if len(cache) >= 8:
                        cache.pop(next(iter(cache)))
                    cache[key] = lk
        else:
            lk = None
            nearest = np.clip(np.round(fk[k_in] / df_model).astype(int), 0, len(freqs) - 1)
        z = (rng.standard_normal((len(k_in), n_ch)) +
             1j * rng.standard_normal((len(k_in), n_ch))) * np.sqrt(0.5)
        gain = np.sqrt(n_fft * sfreq / 2.0)
        for a in range(0, len(k_in), CHUNK):       # bounded memory for long records
            b = min(a + CHUNK, len(k_in))
            L = lk[a:b] if lk is not None else factor[nearest[a:b]]
            X[k_in[a:b]] = np.einsum("kij,kj->ki", L, z[a:b]) * gain
    if split_hz is None:
        x = scipy.fft.irfft(X, n=n_fft, axis=0)[: int(n_times)]
        return np.ascontiguousarray(x.T), None
    bounds = [0.0, *np.atleast_1d(split_hz), np.inf]
    parts = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        sel = (fk >= lo) & (fk < hi)
        part = scipy.fft.irfft(np.where(sel[:, None], X, 0), n=n_fft, axis=0)[: int(n_times)]
        parts.append(np.ascontiguousarray(part.T))
    return tuple(parts) if np.ndim(split_hz) else (parts[0], parts[1])


def _bin_average_factor(freqs, csd, fk, width):
    """Factor of the model CSD averaged over ``[fk - width/2, fk + width/2]``."""
    df = freqs[1] - freqs[0]
    cum = np.concatenate([np.zeros((1,) + csd.shape[1:], csd.dtype), np.cumsum(csd, axis=0)])
    lo = np.clip(np.round((fk - width / 2) / df + 0.5).astype(int), 0, len(freqs))
    hi = np.clip(np.round((fk + width / 2) / df + 0.5).astype(int), 0, len(freqs))
    hi = np.maximum(hi, lo + 1)
    hi = np.minimum(hi, len(freqs))
    lo = np.minimum(lo, hi - 1)
    avg = (cum[hi] - cum[lo]) / (hi - lo)[:, None, None]
    return factor_csd(avg)[0]
