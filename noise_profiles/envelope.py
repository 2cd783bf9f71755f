"""Non-stationarity: a slow common amplitude envelope ``g(t)`` (Priestley-type model).

Noise is modelled as ``n(t) = g(t) s(t)`` for the band above ``split_hz`` (bursts and quiet
spells of EMG and motion), ``s`` stationary with the fitted CSD and ``E[g^2] = 1``.
``log g`` is read from the 1-s RMS (mean removed, as NSTDB's ``nst`` does), one value a
second, common to all channels (a common scalar keeps the coherence intact).

A stationary Gaussian signal's 1-s RMS already fluctuates (few degrees of freedom per
window); that part is measured on a stationary surrogate and taken out of the variance
of ``log g``, so synthesis does not count it twice. New envelopes are a Gaussian AR(2)
process (Yule-Walker, per segment) on the normal scores of ``log g``, mapped through
the recorded quantiles: the 1-s RMS distribution and its autocorrelation come back.
"""

from __future__ import annotations

import numpy as np
import scipy.signal
import scipy.special
from scipy import stats

N_QUANTILES = 65
MIN_WINDOWS = 4
ENV_WIN_S = 0.25
AR_ORDER = 4


def highpass(x, sfreq, split_hz, order=4):
    """Zero-phase Butterworth high-pass along the last axis."""
    if split_hz <= 0:
        return x
    sos = scipy.signal.butter(order, split_hz, "highpass", fs=sfreq, output="sos")
    padlen = min(x.shape[-1] - 1, 3 * (2 * len(sos) + 1))
    return scipy.signal.sosfiltfilt(sos, x, axis=-1, padlen=padlen)


def window_power(x, sfreq, win_s=ENV_WIN_S):
    """Power (variance, mean removed) of consecutive ``win_s`` windows: ``(n_ch, n_windows)``."""
    w = int(round(win_s * sfreq))
    n_win = x.shape[1] // w
    if n_win == 0:
        return np.empty(0), np.empty((x.shape[0], 0))
    frames = x[:, : n_win * w].reshape(x.shape[0], n_win, w)
    power = frames.var(axis=2)                           # mean removed per window
    return power, frames


def log_envelope(segments, sfreq, split_hz, win_s=ENV_WIN_S):
    """Per-segment sequences of common log-RMS (natural log) of the high band.

    Each channel's power is divided by its mean before channels are averaged, so a loud
    channel does not set the envelope alone.
    """
    seqs, powers = [], []
    for seg in segments:
        if seg.shape[1] < 2 * int(win_s * sfreq):
            continue
        p, _ = window_power(highpass(seg, sfreq, split_hz), sfreq, win_s)
        powers.append(p)
    if not powers:
        return []
    mean_p = np.maximum(np.concatenate(powers, axis=1).mean(axis=1, keepdims=True), 1e-300)
    for p in powers:
        seqs.append(0.5 * np.log(np.maximum((p / mean_p).mean(axis=0), 1e-300)))
    return seqs


def fit(segments, sfreq, split_hz, surrogate, win_s=ENV_WIN_S):
    """Fit the envelope model.

    Parameters
    ----------
    segments : list of ndarray (n_ch, n)
        Clean data segments.
    surrogate : ndarray (n_ch, n)
        Stationary Gaussian noise drawn from the fitted CSD (the natural RMS fluctuation).

    Returns
    -------
    state : dict
        ``env_quantiles`` (N_QUANTILES,), ``env_ar`` (AR_ORDER,), ``env_sigma_ln``,
        ``env_natural_sigma_ln``, ``env_enabled`` (0/1).
    """
    seqs = log_envelope(segments, sfreq, split_hz, win_s)
    n_win = sum(len(s) for s in seqs)
    empty = dict(env_quantiles=np.zeros(N_QUANTILES), env_ar=np.zeros(AR_ORDER),
                 env_sigma_ln=0.0, env_natural_sigma_ln=0.0, env_enabled=0)
    if n_win < MIN_WINDOWS:
        return empty
    e = np.concatenate([s - np.median(np.concatenate(seqs)) for s in seqs])
    nat = log_envelope([surrogate], sfreq, split_hz, win_s)
    var0 = float(np.var(nat[0])) if nat and len(nat[0]) > 2 else 0.0
    var_e = float(np.var(e))
    if var_e <= var0 or var_e <= 0:
        out = dict(empty)
        out.update(env_sigma_ln=np.sqrt(var_e), env_natural_sigma_ln=np.sqrt(var0))
        return out
    shrunk = (e - e.mean()) * np.sqrt((var_e - var0) / var_e)
    quantiles = np.quantile(shrunk, np.linspace(0, 1, N_QUANTILES))
    ar = np.zeros(AR_ORDER)
    if n_win >= 4 * AR_ORDER + 4:
        from noise_profiles.var_model import autocovariance, yule_walker_var

        scores = [_normal_scores(s)[None, :] for s in seqs if len(s) > AR_ORDER + 1]
        coefs, _ = yule_walker_var(autocovariance(scores, AR_ORDER)[0], AR_ORDER)
        ar = _stable(coefs[:, 0, 0])
    return dict(env_quantiles=quantiles, env_ar=ar, env_sigma_ln=np.sqrt(var_e),
                env_natural_sigma_ln=np.sqrt(var0), env_enabled=1)


def _normal_scores(seq):
    r = stats.rankdata(seq)
    return scipy.special.ndtri((r - 0.5) / len(seq))


def _stable(rho):
    roots = np.roots(np.r_[1.0, -rho])
    if np.all(np.abs(roots) < 0.995):
        return rho
    return np.zeros_like(rho)


def synthesize(state, n_times, sfreq, rng, win_s=ENV_WIN_S):
    """Envelope ``g`` (n_times,) with ``E[g^2] = 1`` (ones when disabled)."""
    if not int(state["env_enabled"]):
        return np.ones(int(n_times))
    n_win = int(np.ceil(n_times / (win_s * sfreq))) + 2
    ar = np.asarray(state["env_ar"], float)
    burn = 200
    z = scipy.signal.lfilter([1.0], np.r_[1.0, -ar], rng.standard_normal(n_win + burn))[burn:]
    z /= max(np.sqrt(_ar_variance(ar)), 1e-12)
    q = np.asarray(state["env_quantiles"], float)
    u = scipy.special.ndtr(z)
    e = np.interp(u, np.linspace(0, 1, len(q)), q)
    # E[g^2] = 1 over the quantile distribution (not the finite draw: no per-call rescale)
    centers = (np.arange(n_win) - 0.5) * win_s * sfreq
    g = np.exp(np.interp(np.arange(int(n_times)), centers, e))
    return g / np.sqrt(_mean_square(q, ar))


_MEAN_SQUARE = {}


def _mean_square(q, ar, n_win=4000, sub=16):
    """E[g^2] of the interpolated envelope (interpolation between the per-window values
    lowers it below the quantiles' own mean square), from one long fixed-seed draw."""
    key = (q.tobytes(), ar.tobytes())
    if key not in _MEAN_SQUARE:
        rng = np.random.default_rng(0)
        z = scipy.signal.lfilter([1.0], np.r_[1.0, -ar], rng.standard_normal(n_win + 200))[200:]
        z /= max(np.sqrt(_ar_variance(ar)), 1e-12)
        e = np.interp(scipy.special.ndtr(z), np.linspace(0, 1, len(q)), q)
        fine = np.interp(np.arange(n_win * sub) / sub, np.arange(n_win), e)
        _MEAN_SQUARE[key] = float(np.mean(np.exp(2 * fine)))
    return _MEAN_SQUARE[key]


def _ar_variance(ar):
    """Variance of a unit-innovation AR process (from its impulse response)."""
    if not np.any(ar):
        return 1.0
    h = scipy.signal.lfilter([1.0], np.r_[1.0, -ar], np.r_[1.0, np.zeros(4000)])
    return float(np.sum(h ** 2))
