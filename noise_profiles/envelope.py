"""Non-stationarity: slow amplitude envelopes ``g_b(t)``, one per frequency band.

Noise is modelled as ``n(t) = low(t) + sum_b g_b(t) s_b(t)``: ``low`` is the stationary
part below ``split_hz`` (baseline wander), ``s_b`` the stationary Gaussian part in band
``b`` (motion 1-5 Hz, mid 5-40 Hz, EMG above 40 Hz, see :data:`BAND_EDGES_HZ`) and
``E[g_b^2] = 1``. Bands get their own envelope because bursts of motion and of muscle
noise come and go separately; each envelope is common to all channels (a common scalar
keeps the coherence intact). ``log g_b`` is read from the RMS of consecutive
``ENV_WIN_S`` windows.

A stationary Gaussian signal's window RMS already fluctuates (few degrees of freedom per
window); that part is measured on a stationary surrogate and taken out of the variance of
``log g_b``, so synthesis does not count it twice. New envelopes are Gaussian AR
processes (Yule-Walker, per segment) on the normal scores of ``log g_b``, with
innovations correlated across bands as the recorded scores are, mapped through the
recorded quantiles: the RMS distributions and their autocorrelation come back.
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
#: upper edges of the modulated bands (the first band starts at ``split_hz``)
BAND_EDGES_HZ = (5.0, 40.0)
N_BANDS = len(BAND_EDGES_HZ) + 1


def band_edges(split_hz, sfreq):
    """``[(lo, hi), ...]`` of the modulated bands that exist below Nyquist."""
    edges = [split_hz] + [e for e in BAND_EDGES_HZ if split_hz < e < sfreq / 2] + [np.inf]
    return list(zip(edges[:-1], edges[1:]))


def bandpass(x, sfreq, lo, hi, order=4):
    """Zero-phase Butterworth band-pass (high-pass when ``hi`` is inf) along the last axis."""
    if hi >= sfreq / 2:
        if lo <= 0:
            return x
        sos = scipy.signal.butter(order, lo, "highpass", fs=sfreq, output="sos")
    else:
        sos = scipy.signal.butter(order, [lo, hi], "bandpass", fs=sfreq, output="sos")
    padlen = min(x.shape[-1] - 1, 3 * (2 * len(sos) + 1))
    return scipy.signal.sosfiltfilt(sos, x, axis=-1, padlen=padlen)


def highpass(x, sfreq, split_hz, order=4):
    """Zero-phase Butterworth high-pass along the last axis."""
    return bandpass(x, sfreq, split_hz, np.inf, order)


def log_envelope(segments, sfreq, lo, hi, win_s=ENV_WIN_S):
    """Per-segment sequences of the common log-RMS (natural log) in band ``[lo, hi)``.

    Each channel's power is divided by its mean before channels are averaged, so a loud
    channel does not set the envelope alone.
    """
    w = int(round(win_s * sfreq))
    powers = []
    for seg in segments:
        n_win = seg.shape[1] // w
        if n_win < 2:
            continue
        b = bandpass(seg, sfreq, lo, hi)[:, : n_win * w]
        powers.append(b.reshape(seg.shape[0], n_win, w).var(axis=2))
    if not powers:
        return []
    mean_p = np.maximum(np.concatenate(powers, axis=1).mean(axis=1, keepdims=True), 1e-300)
    return [0.5 * np.log(np.maximum((p / mean_p).mean(axis=0), 1e-300)) for p in powers]


def disabled(n_bands=N_BANDS):
    """State of a profile without envelopes."""
    return dict(env_quantiles=np.zeros((n_bands, N_QUANTILES)),
                env_ar=np.zeros((n_bands, AR_ORDER)), env_corr=np.eye(n_bands),
                env_sigma_ln=np.zeros(n_bands), env_natural_sigma_ln=np.zeros(n_bands),
                env_enabled=0)


def fit(segments, sfreq, split_hz, surrogate, win_s=ENV_WIN_S):
    """Fit one envelope per band.

    Parameters
    ----------
    segments : list of ndarray (n_ch, n)
        Clean data segments.
    surrogate : ndarray (n_ch, n)
        Stationary Gaussian noise drawn from the fitted CSD (the natural RMS fluctuation).

    Returns
    -------
    state : dict
        ``env_quantiles`` (B, N_QUANTILES), ``env_ar`` (B, AR_ORDER), ``env_corr`` (B, B),
        ``env_sigma_ln`` (B,), ``env_natural_sigma_ln`` (B,), ``env_enabled`` (0/1);
        bands beyond the recording's Nyquist keep a flat envelope.
    """
    out = disabled()
    scores_all = []
    for b, (lo, hi) in enumerate(band_edges(split_hz, sfreq)):
        seqs = log_envelope(segments, sfreq, lo, hi, win_s)
        if sum(len(s) for s in seqs) < MIN_WINDOWS:
            return disabled()
        e = np.concatenate(seqs)
        nat = log_envelope([surrogate], sfreq, lo, hi, win_s)
        var0 = float(np.var(nat[0])) if nat and len(nat[0]) > 2 else 0.0
        var_e = float(np.var(e))
        out["env_sigma_ln"][b], out["env_natural_sigma_ln"][b] = np.sqrt(var_e), np.sqrt(var0)
        scores = [_normal_scores(s) for s in seqs]
        scores_all.append(np.concatenate(scores))
        if var_e <= var0 or var_e <= 0:
            continue
        shrunk = (e - e.mean()) * np.sqrt((var_e - var0) / var_e)
        out["env_quantiles"][b] = np.quantile(shrunk, np.linspace(0, 1, N_QUANTILES))
        if len(e) >= 4 * AR_ORDER + 4:
            from noise_profiles.var_model import autocovariance, yule_walker_var

            long = [s[None, :] for s in scores if len(s) > AR_ORDER + 1]
            coefs, _ = yule_walker_var(autocovariance(long, AR_ORDER)[0], AR_ORDER)
            out["env_ar"][b] = _stable(coefs[:, 0, 0])
    k = len(scores_all)
    if k > 1:
        c = np.corrcoef(np.stack(scores_all))
        out["env_corr"][:k, :k] = _nearest_correlation(c)
    out["env_enabled"] = 1
    return out


def _nearest_correlation(c):
    w, v = np.linalg.eigh(0.5 * (c + c.T))
    c = (v * np.clip(w, 1e-6, None)) @ v.T
    d = np.sqrt(np.diag(c))
    return c / np.outer(d, d)


def _normal_scores(seq):
    r = stats.rankdata(seq)
    return scipy.special.ndtri((r - 0.5) / len(seq))


def _stable(rho):
    roots = np.roots(np.r_[1.0, -rho])
    if np.all(np.abs(roots) < 0.995):
        return rho
    return np.zeros_like(rho)


def synthesize(state, n_times, sfreq, rng, n_bands, win_s=ENV_WIN_S):
    """Envelopes ``(n_bands, n_times)``, each with ``E[g^2] = 1`` (ones when disabled)."""
    n = int(n_times)
    if not int(state["env_enabled"]):
        return np.ones((n_bands, n))
    n_win = int(np.ceil(n / (win_s * sfreq))) + 2
    burn = 200
    corr = np.asarray(state["env_corr"], float)[:n_bands, :n_bands]
    innov = np.linalg.cholesky(corr) @ rng.standard_normal((n_bands, n_win + burn))
    centers = (np.arange(n_win) - 0.5) * win_s * sfreq
    out = np.empty((n_bands, n))
    for b in range(n_bands):
        ar = np.asarray(state["env_ar"][b], float)
        q = np.asarray(state["env_quantiles"][b], float)
        z = scipy.signal.lfilter([1.0], np.r_[1.0, -ar], innov[b])[burn:]
        z /= max(np.sqrt(_ar_variance(ar)), 1e-12)
        e = np.interp(scipy.special.ndtr(z), np.linspace(0, 1, len(q)), q)
        g = np.exp(np.interp(np.arange(n), centers, e))
        out[b] = g / np.sqrt(_mean_square(q, ar))
    return out


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
