"""Non-stationarity: slow amplitude envelopes ``g_b(t)``, one per frequency band.

Noise is modelled as ``n(t) = d(t) + g_w(t) w(t) + sum_b g_b(t) s_b(t)``: ``d`` is the
stationary drift below :data:`LOW_ENV_HZ`, ``w`` the baseline wander from there up to
``split_hz``, ``s_b`` the stationary Gaussian part in band ``b`` (motion 1-5 Hz, mid
5-40 Hz, EMG above 40 Hz, see :data:`BAND_EDGES_HZ`) and ``E[g^2] = 1``. Bands get their
own envelope because bursts of motion and of muscle noise come and go separately, and a
moving electrode's baseline swings come and go with the movement, not steadily (30 s of
the wearable textile arm-movement and walking recordings: the log power below 1 Hz of
2-s windows spreads by 1.3-2.2 nepers, a steady wander's by 1.1-1.2); each envelope is
common to all channels (a common scalar keeps the coherence intact). ``log g_b`` is read from the RMS of
consecutive ``ENV_WIN_S`` windows, ``log g_w`` from :data:`LOW_WIN_S` windows (a
0.25-s window holds no cycle of the wander).

A stationary Gaussian signal's window RMS already fluctuates (few degrees of freedom per
window); that part is measured on a stationary surrogate and taken out of the variance of
``log g_b``, so synthesis does not count it twice. New envelopes are Gaussian AR
processes with the measured autocorrelation (up to 32 s, so long quiet spells between
rare bursts survive) on the normal scores of ``log g_b``, with
innovations correlated across bands as the recorded scores are, mapped through the
recorded quantiles: the RMS distributions and their autocorrelation come back.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.signal
import scipy.special
from scipy import stats

from noise_profiles.sessions import runs_of

N_QUANTILES = 65
MIN_WINDOWS = 4
ENV_WIN_S = 0.25
#: envelope window per band: the motion band needs longer windows to hold a few cycles
BAND_WIN_S = (0.25, 0.25, 0.25, 0.25)
ACF_LAGS = 128
#: steps of an envelope's latent AR path dropped before use (its start-up)
BURN = 200
#: with regimes, the envelope is read on quiet windows this many windows clear of bursts
QUIET_GUARD_WINDOWS = 1            # autocorrelation of the latent process kept up to 128 windows (32 s)
#: the baseline-wander band below ``split_hz`` gets its own envelope from this frequency
#: up (slower drift stays stationary), read on windows of :data:`LOW_WIN_S`
LOW_ENV_HZ = 0.1
LOW_WIN_S = 2.0
#: upper edges of the modulated bands (the first band starts at ``split_hz``)
BAND_EDGES_HZ = (5.0, 15.0, 40.0)
N_BANDS = len(BAND_EDGES_HZ) + 1


def band_edges(split_hz, sfreq):
    """``[(lo, hi), ...]`` of the modulated bands that exist below Nyquist."""
    edges = [split_hz] + [e for e in BAND_EDGES_HZ if split_hz < e < sfreq / 2] + [np.inf]
    return list(zip(edges[:-1], edges[1:]))


def bandpass(x, sfreq, lo, hi, order=4, padlen=None):
    """Zero-phase Butterworth band-pass (high-pass when ``hi`` is inf) along the last axis
    (``padlen``: samples of odd extension at both ends; default a few filter orders)."""
    if hi >= sfreq / 2:
        if lo <= 0:
            return x
        sos = scipy.signal.butter(order, lo, "highpass", fs=sfreq, output="sos")
    else:
        sos = scipy.signal.butter(order, [lo, hi], "bandpass", fs=sfreq, output="sos")
    padlen = 3 * (2 * len(sos) + 1) if padlen is None else int(padlen)
    return scipy.signal.sosfiltfilt(sos, x, axis=-1, padlen=min(x.shape[-1] - 1, padlen))


def highpass(x, sfreq, split_hz, order=4):
    """Zero-phase Butterworth high-pass along the last axis."""
    return bandpass(x, sfreq, split_hz, np.inf, order)


def highpass_response(freqs, sfreq, split_hz, order=4):
    """Power response of :func:`highpass` at ``freqs`` (zero-phase: ``|H|^4``)."""
    sos = scipy.signal.butter(order, split_hz, "highpass", fs=sfreq, output="sos")
    _, h = scipy.signal.sosfreqz(sos, worN=np.asarray(freqs, float), fs=sfreq)
    return np.abs(h) ** 4


def log_envelope(segments, sfreq, lo, hi, win_s=ENV_WIN_S, padlen=None):
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
        b = bandpass(seg, sfreq, lo, hi, padlen=padlen)[:, : n_win * w]
        powers.append(b.reshape(seg.shape[0], n_win, w).var(axis=2))
    if not powers:
        return []
    mean_p = np.maximum(np.concatenate(powers, axis=1).mean(axis=1, keepdims=True), 1e-300)
    return [0.5 * np.log(np.maximum((p / mean_p).mean(axis=0), 1e-300)) for p in powers]


def disabled(n_bands=N_BANDS):
    """State of a profile without envelopes."""
    return dict(env_quantiles=np.zeros((n_bands, N_QUANTILES)),
                env_acf=np.zeros((n_bands, ACF_LAGS)), env_corr=np.eye(n_bands),
                env_sigma_ln=np.zeros(n_bands), env_natural_sigma_ln=np.zeros(n_bands),
                env_enabled=0, **_low_disabled())


def _low_disabled():
    """A flat baseline-wander envelope (profiles without one, schema /4 and older)."""
    return dict(env_low_quantiles=np.zeros(N_QUANTILES), env_low_acf=np.zeros(ACF_LAGS),
                env_low_sigma_ln=np.zeros(2))


def fit(segments, sfreq, split_hz, surrogate, labels=None):
    """Fit one envelope per band.

    Parameters
    ----------
    segments : list of ndarray (n_ch, n)
        Clean data segments.
    surrogate : ndarray (n_ch, n)
        Stationary Gaussian noise drawn from the fitted CSD (the natural RMS fluctuation).
    labels : list of (ndarray of int | None) | None
        Regime of each ``ENV_WIN_S`` window per segment (:mod:`noise_profiles.regimes`):
        the envelope is then read on the quiet stretches only (bursts, their rise and fall
        and the switching are the regime model's).

    Returns
    -------
    state : dict
        ``env_quantiles`` (B, N_QUANTILES), ``env_acf`` (B, ACF_LAGS), ``env_corr`` (B, B),
        ``env_sigma_ln`` (B,), ``env_natural_sigma_ln`` (B,), ``env_enabled`` (0/1);
        bands beyond the recording's Nyquist keep a flat envelope. The baseline-wander
        envelope: ``env_low_quantiles`` (N_QUANTILES,), ``env_low_acf`` (ACF_LAGS,) on its
        :data:`LOW_WIN_S` grid, ``env_low_sigma_ln`` (2,): recorded and natural sigma
        (read on all windows: the regimes model only the bands above ``split_hz``).
    """
    out = disabled()
    scores_all = []
    for b, (lo, hi) in enumerate(band_edges(split_hz, sfreq)):
        win_s = BAND_WIN_S[b]
        seqs = log_envelope(segments, sfreq, lo, hi, win_s)
        if sum(len(s) for s in seqs) < MIN_WINDOWS:
            return disabled()
        if labels is not None:
            seqs = _quiet_runs(seqs, [lab for lab in labels if lab is not None])
            if sum(len(s) for s in seqs) < MIN_WINDOWS:
                return disabled()
        q, acf, sig = _fit_band(seqs, surrogate, sfreq, lo, hi, win_s)
        out["env_quantiles"][b], out["env_acf"][b] = q, acf
        out["env_sigma_ln"][b], out["env_natural_sigma_ln"][b] = sig
        # on the finest window grid, so bands with longer windows can be correlated
        rep = int(round(win_s / min(BAND_WIN_S)))
        scores_all.append([np.repeat(_normal_scores(sc), rep) for sc in seqs])
    k = len(scores_all)
    if k > 1:
        per_seg = zip(*scores_all)
        cols = [np.stack([b[: min(len(x) for x in seg)] for b in seg]) for seg in per_seg]
        c = np.corrcoef(np.concatenate(cols, axis=1))
        out["env_corr"][:k, :k] = _nearest_correlation(c)
    out["env_enabled"] = 1
    if LOW_ENV_HZ < split_hz:
        # the wander's filter rings for seconds: a long odd extension keeps the segment
        # edges from reading as loud windows; neighbouring 2-s windows of a band this
        # slow share their natural fluctuation, so its autocovariance is taken out too
        pad = int(round(3 * sfreq / LOW_ENV_HZ))
        seqs = log_envelope(segments, sfreq, LOW_ENV_HZ, split_hz, LOW_WIN_S, pad)
        if sum(len(s) for s in seqs) >= MIN_WINDOWS:
            q, acf, sig = _fit_band(seqs, surrogate, sfreq, LOW_ENV_HZ, split_hz, LOW_WIN_S,
                                    pad, natural_acf=True)
            out.update(env_low_quantiles=q, env_low_acf=acf, env_low_sigma_ln=np.asarray(sig))
    return out


def _fit_band(seqs, surrogate, sfreq, lo, hi, win_s, padlen=None, natural_acf=False):
    """Quantiles and autocorrelation of one band's log envelope, the natural (stationary
    Gaussian) part of its variance (with ``natural_acf``: of its autocovariance) taken
    out; flat (zeros) when nothing is left."""
    e = np.concatenate(seqs)
    nat = log_envelope([surrogate], sfreq, lo, hi, win_s, padlen)
    var0 = float(np.var(nat[0])) if nat and len(nat[0]) > 2 else 0.0
    var_e = float(np.var(e))
    sig = (np.sqrt(var_e), np.sqrt(var0))
    if var_e <= var0 or var_e <= 0:
        return np.zeros(N_QUANTILES), np.zeros(ACF_LAGS), sig
    shrunk = (e - e.mean()) * np.sqrt((var_e - var0) / var_e)
    acf = _acf(seqs, var_e - var0, nat if natural_acf and nat else None)
    return np.quantile(shrunk, np.linspace(0, 1, N_QUANTILES)), acf, sig


def _quiet_runs(seqs, labels, guard=QUIET_GUARD_WINDOWS):
    """The log-RMS sequences cut to their quiet stretches, ``guard`` windows clear of any
    burst window. The regime path (:func:`noise_profiles.regimes.weights`) already gives
    each burst its rise and fall; the within-burst variation would otherwise come back a
    second time, spread over the quiet spells as spurious bumps."""
    out = []
    for s, lb in zip(seqs, labels):
        busy = np.asarray(lb[: len(s)]) != 0
        near = np.convolve(busy, np.ones(2 * guard + 1), "same") > 0
        for a, b in runs_of(~near):
            if b - a >= 2:
                out.append(s[a:b])
    return out


def _nearest_correlation(c):
    w, v = np.linalg.eigh(0.5 * (c + c.T))
    c = (v * np.clip(w, 1e-6, None)) @ v.T
    d = np.sqrt(np.diag(c))
    return c / np.outer(d, d)


def _normal_scores(seq):
    r = stats.rankdata(seq)
    return scipy.special.ndtri((r - 0.5) / len(seq))


def _acf(seqs, signal_var, natural=None):
    """Autocorrelation (lags 0..ACF_LAGS-1) of the envelope itself: the log-RMS
    autocovariance at lags >= 1 divided by the variance left after the natural (white,
    window-to-window independent) fluctuation is taken out; Parzen-tapered so its
    spectrum is non-negative, zero where the data run out. ``natural``: the stationary
    surrogate's log-RMS sequences, whose autocovariance at lags >= 1 is taken out too
    (for windows too short to make the natural fluctuation white)."""
    from noise_profiles.var_model import autocovariance

    usable = [s[None, :] for s in seqs if len(s) > 2]
    max_lag = min(ACF_LAGS - 1, max(len(s[0]) for s in usable) // 3) if usable else 0
    out = np.zeros(ACF_LAGS)
    out[0] = 1.0
    if max_lag < 1 or signal_var <= 0:
        return out
    r = autocovariance(usable, max_lag)[0][:, 0, 0]
    if natural is not None:
        nat = [s[None, :] for s in natural if len(s) > max_lag + 1]
        if nat:
            r = r - autocovariance(nat, max_lag)[0][:, 0, 0]
    out[1: max_lag + 1] = np.clip(r[1:] / signal_var, -1.0, 1.0)
    out[: max_lag + 1] *= scipy.signal.windows.parzen(2 * max_lag + 3)[max_lag + 1:-1]
    return out


def _latent(acf, innov):
    """Gaussian process with autocorrelation ``acf`` from unit white ``innov`` (FFT filter)."""
    n = len(innov)
    L = len(acf)
    nfft = scipy.fft.next_fast_len(n + 2 * L)
    sym = np.zeros(nfft)
    sym[:L] = acf
    sym[nfft - L + 1:] = acf[1:][::-1]
    amp = np.sqrt(np.clip(np.real(np.fft.rfft(sym)), 0.0, None))
    # unit white noise filtered by sqrt(PSD): variance = acf[0] = 1 (circular, so the
    # zero padding of 2L keeps the wrap-around out of the first n samples)
    return np.fft.irfft(np.fft.rfft(innov, nfft) * amp, nfft)[:n]


def synthesize(state, n_times, sfreq, rng, n_bands):
    """Envelopes ``(n_bands, n_times)``, each with ``E[g^2] = 1`` (ones when disabled).

    Band ``b`` runs at one value per ``BAND_WIN_S[b]``; the latent processes of all bands
    share correlated innovations, step for step (per window index)."""
    n = int(n_times)
    if not int(state["env_enabled"]):
        return np.ones((n_bands, n))
    n_win_max = int(np.ceil(n / (min(BAND_WIN_S[:n_bands]) * sfreq))) + 2
    corr = np.asarray(state["env_corr"], float)[:n_bands, :n_bands]
    innov = np.linalg.cholesky(corr) @ rng.standard_normal((n_bands, n_win_max + BURN))
    out = np.empty((n_bands, n))
    for b in range(n_bands):
        win_s = BAND_WIN_S[b]
        n_win = int(np.ceil(n / (win_s * sfreq))) + 2
        out[b] = _draw(np.asarray(state["env_quantiles"][b], float),
                       np.asarray(state["env_acf"][b], float), innov[b, : n_win + BURN], n,
                       win_s, sfreq)
    return out


def _draw(q, acf, innov, n, win_s, sfreq):
    """One envelope ``(n,)`` with ``E[g^2] = 1``: the latent AR path driven by ``innov``
    (its first :data:`BURN` steps dropped), mapped through the quantiles ``q``, one value
    per ``win_s`` window, interpolated between window centres."""
    z = _latent(acf, innov)[BURN:]
    e = np.interp(scipy.special.ndtr(z), np.linspace(0, 1, len(q)), q)
    centers = (np.arange(len(z)) - 0.5) * win_s * sfreq
    g = np.exp(np.interp(np.arange(n), centers, e))
    return g / np.sqrt(_mean_square(q, acf))


def modulate_low(state, low, sfreq, rng):
    """The part of ``low`` (n_ch, n), the synthesized noise below ``split_hz``, above
    :data:`LOW_ENV_HZ` multiplied by the baseline-wander band's envelope (``E[g^2] = 1``);
    ``low`` itself when that envelope is flat or absent (older profiles)."""
    q = np.asarray(state.get("env_low_quantiles", np.zeros(1)), float)
    if not np.any(q != 0):
        return low
    n = low.shape[1]
    n_win = int(np.ceil(n / (LOW_WIN_S * sfreq))) + 2
    g = _draw(q, np.asarray(state["env_low_acf"], float), rng.standard_normal(n_win + BURN),
              n, LOW_WIN_S, sfreq)
    spec = np.fft.rfft(low, axis=1)
    f = np.fft.rfftfreq(n, 1.0 / sfreq)
    below = np.fft.irfft(np.where(f < LOW_ENV_HZ, spec, 0), n, axis=1)
    return below + g[None, :] * (low - below)


_MEAN_SQUARE = {}


def _mean_square(q, acf, n_win=4000, sub=16):
    """E[g^2] of the interpolated envelope (interpolation between the per-window values
    lowers it below the quantiles' own mean square), from one long fixed-seed draw."""
    key = (q.tobytes(), acf.tobytes())
    if key not in _MEAN_SQUARE:
        rng = np.random.default_rng(0)
        z = _latent(acf, rng.standard_normal(n_win))
        e = np.interp(scipy.special.ndtr(z), np.linspace(0, 1, len(q)), q)
        fine = np.interp(np.arange(n_win * sub) / sub, np.arange(n_win), e)
        _MEAN_SQUARE[key] = float(np.mean(np.exp(2 * fine)))
    return _MEAN_SQUARE[key]
