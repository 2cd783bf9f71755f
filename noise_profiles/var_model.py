"""Compact alternative to the CSD: a band-split vector autoregression (VAR).

``x_t = sum_k A_k x_{t-k} + u_t``, ``u ~ N(0, Sigma)``, fitted by multichannel Yule-Walker
equations on autocovariances summed inside each clean segment (so no lag ever spans a
gap; statsmodels' ``VAR`` takes only one contiguous series), order chosen by AIC or BIC.
One VAR cannot hold sub-Hz baseline wander and 100-Hz EMG at a modest order
(``science_anchors.md`` §2.1), so there are two: one on the high-passed signal at the
recording rate, one on the low band decimated to about 10 Hz. Synthesis goes through the
implied CSD ``S(f) = 2 dt H Sigma H^H`` and the same seamless FFT synthesis as the
spectral model.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.linalg
import scipy.signal

from noise_profiles.envelope import highpass

#: the low-band VAR serves frequencies below CROSSOVER * split_hz (the high-band VAR saw
#: high-passed data, attenuated up to about twice the cut-off)
CROSSOVER = 2.0


def autocovariance(segments, max_lag):
    """``R[k] = E[x_{t+k} x_t^T]`` for k = 0..max_lag, pooled over segments (biased)."""
    n_ch = segments[0].shape[0]
    acc = np.zeros((max_lag + 1, n_ch, n_ch))
    n_total = 0
    for seg in segments:
        n = seg.shape[1]
        if n <= max_lag + 1:
            continue
        seg = seg - seg.mean(axis=1, keepdims=True)
        nfft = scipy.fft.next_fast_len(n + max_lag + 1, real=True)
        X = scipy.fft.rfft(seg, nfft, axis=1)
        for i in range(n_ch):            # one row at a time: memory O(C n), not O(C² n)
            cc = scipy.fft.irfft(X[i][None, :] * np.conj(X), nfft, axis=1)
            acc[:, i, :] += cc[:, : max_lag + 1].T
        n_total += n
    if n_total == 0:
        raise ValueError(f"no segment longer than {max_lag + 1} samples")
    return acc / n_total, n_total


def yule_walker_var(R, order):
    """Solve the multichannel Yule-Walker equations: coefficients (p, C, C) and Sigma."""
    C = R.shape[1]

    def block(k):
        return R[k] if k >= 0 else R[-k].T

    G = np.block([[block(k - j) for k in range(order)] for j in range(order)])
    rhs = np.concatenate([R[k] for k in range(1, order + 1)], axis=1)     # (C, pC)
    A = scipy.linalg.solve(G.T, rhs.T, assume_a="sym").T                 # rhs = A G
    coefs = A.reshape(C, order, C).transpose(1, 0, 2)
    sigma = R[0] - sum(coefs[k] @ R[k + 1].T for k in range(order))
    return coefs, 0.5 * (sigma + sigma.T)


def fit_var(segments, max_order, ic="aic"):
    """Fit orders 1..max_order and keep the one with the lowest AIC or BIC."""
    R, n = autocovariance(segments, max_order)
    C = R.shape[1]
    best = None
    for p in range(1, max_order + 1):
        try:
            coefs, sigma = yule_walker_var(R, p)
            sign, logdet = np.linalg.slogdet(sigma)
        except np.linalg.LinAlgError:
            break
        if sign <= 0:
            break
        penalty = (2.0 if ic == "aic" else np.log(n)) * p * C * C / n
        crit = logdet + penalty
        if best is None or crit < best[0]:
            best = (crit, coefs, sigma)
    if best is None:
        raise ValueError("VAR fit failed: the autocovariance is singular")
    return best[1], best[2]


def var_csd(coefs, sigma, sfreq, freqs):
    """One-sided CSD of a VAR on ``freqs`` (V²/Hz), shape (F, C, C)."""
    p, C, _ = coefs.shape
    lags = np.arange(1, p + 1)
    e = np.exp(-2j * np.pi * np.outer(freqs, lags) / sfreq)              # (F, p)
    Af = np.eye(C)[None] - np.einsum("fk,kij->fij", e, coefs)
    H = np.linalg.inv(Af)
    return (2.0 / sfreq) * H @ sigma[None] @ np.conj(np.transpose(H, (0, 2, 1)))


def fit(segments, sfreq, split_hz, max_order, ic="aic", low_sfreq=10.0):
    """Fit the high-band and low-band VARs; returns the state dict."""
    factor = max(int(sfreq // low_sfreq), 1)
    lows, highs = [], []
    for seg in segments:
        highs.append(highpass(seg, sfreq, split_hz))
        if seg.shape[1] > 30 * factor:
            lows.append(scipy.signal.decimate(seg, factor, ftype="fir", axis=1,
                                              zero_phase=True) if factor > 1 else seg)
    coefs_h, sigma_h = fit_var(highs, max_order, ic)
    lows = [s for s in lows if s.shape[1] > 4 * 8 + 2] or None
    if lows:
        coefs_l, sigma_l = fit_var(lows, min(8, max(lows[0].shape[1] // 8, 1)), ic)
    else:
        C = segments[0].shape[0]
        coefs_l, sigma_l = np.zeros((1, C, C)), np.zeros((C, C))
    return dict(var_coefs_high=coefs_h, var_sigma_high=sigma_h, var_coefs_low=coefs_l,
                var_sigma_low=sigma_l, var_low_sfreq=sfreq / factor)


def implied_csd(state, sfreq, split_hz, df_hz=0.05):
    """Spectral-model view of the VARs: (freqs, csd) on a ``df_hz`` grid up to Nyquist."""
    freqs = np.arange(0.0, sfreq / 2 + 1e-9, df_hz)
    csd = var_csd(state["var_coefs_high"], state["var_sigma_high"], sfreq, freqs)
    low_fs = float(state["var_low_sfreq"])
    below = freqs < CROSSOVER * split_hz   # the high-pass of the high-band data ends there
    if np.any(below) and low_fs < sfreq:
        csd[below] = var_csd(state["var_coefs_low"], state["var_sigma_low"], low_fs,
                             freqs[below])
    # the high-band VAR was fitted on high-passed data: nothing of it below split_hz
    return freqs, csd
