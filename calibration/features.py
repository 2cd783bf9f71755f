"""Per-lead record features that describe how a recording looks to a classifier.

Computed the same way for device records and for augmented public records, on the device's
leads only, at one sampling rate. Per lead (names ``"<lead>:<feature>"``):

* ``bp_<band>``: log10 band power (mV²) from a Welch PSD (4-s Hann windows) in
  < 0.7, 0.7–5, 5–15, 15–40, 40–150 Hz (capped below Nyquist) and ``bp_mains`` (±1 Hz
  around the mains frequency);
* ``rms1s_p10/p50/p90``: log10 percentiles of the 1-s RMS (each second's mean removed),
  the non-stationarity of the noise;
* ``kurtosis``: excess kurtosis of the 0.7–40 Hz signal, as ``sign·log1p(|k|)``;
* ``qrs_amp``: log10 median QRS peak-to-peak (R peaks found on the 5–15 Hz band);

and per pair of leads ``corr:<a>-<b>``: the correlation of their 0.7–40 Hz signals.
"""

from __future__ import annotations

import numpy as np
from scipy import signal, stats

from shirtecg_common.errors import UserError

#: Frequency bands (Hz) of the band-power features; the upper edge is capped below Nyquist.
BANDS = (("lt0.7", 0.0, 0.7), ("0.7-5", 0.7, 5.0), ("5-15", 5.0, 15.0), ("15-40", 15.0, 40.0),
         ("40-150", 40.0, 150.0))
_EPS = 1e-12


def feature_names(leads, *, sfreq, mains_hz=50.0):
    """Names of the features :func:`extract_features` returns, in its column order."""
    per = [f"bp_{b}" for b, lo, hi in _bands(sfreq)]
    if _has_mains(mains_hz, sfreq):
        per.append("bp_mains")
    per += ["rms1s_p10", "rms1s_p50", "rms1s_p90", "kurtosis", "qrs_amp"]
    names = [f"{lead}:{f}" for lead in leads for f in per]
    names += [f"corr:{a}-{b}" for i, a in enumerate(leads) for b in leads[i + 1:]]
    return names


def _bands(sfreq):
    nyq = sfreq / 2
    return [(b, lo, min(hi, 0.95 * nyq)) for b, lo, hi in BANDS if lo < 0.95 * nyq]


def _has_mains(mains_hz, sfreq):
    return mains_hz is not None and mains_hz + 1 < sfreq / 2


def extract_features(records, sfreq, leads, *, mains_hz=50.0):
    """Feature matrix of a set of records.

    Parameters
    ----------
    records : ndarray (n, n_leads, n_times) | list of ndarray (n_leads, n_times_i)
        Signals in mV, finite, leads in the order of ``leads``. Records may differ in length
        (at least 4 s each).
    sfreq : float
        Sampling rate in Hz (the same for all).
    leads : sequence of str
        Lead names of the rows (used for the feature names).
    mains_hz : float | None
        Mains frequency (50 or 60); None leaves the mains feature out.

    Returns
    -------
    features : ndarray, shape (n, n_features)
    names : list of str
    """
    leads = list(leads)
    if isinstance(records, np.ndarray) and records.ndim == 3:
        groups = {records.shape[-1]: (np.arange(len(records)), records)}
    else:
        records = [np.asarray(r, dtype=np.float32) for r in records]
        by_len = {}
        for i, r in enumerate(records):
            if r.ndim != 2:
                raise ValueError(f"record {i} must be (n_leads, n_times), got shape {r.shape}")
            by_len.setdefault(r.shape[-1], []).append(i)
        groups = {n: (np.array(ix), np.stack([records[i] for i in ix])) for n, ix in by_len.items()}
    names = feature_names(leads, sfreq=sfreq, mains_hz=mains_hz)
    n_total = sum(len(ix) for ix, _ in groups.values())
    out = np.empty((n_total, len(names)))
    for n_times, (ix, x) in groups.items():
        if x.shape[1] != len(leads):
            raise UserError(f"records have {x.shape[1]} leads but {len(leads)} lead names "
                            f"({', '.join(leads)}) were given")
        if n_times < 4 * sfreq:
            raise UserError(f"records must be at least 4 s long for the features, got "
                            f"{n_times / sfreq:.2f} s")
        if not np.all(np.isfinite(x)):
            raise UserError("records hold NaN or infinite samples (cut out lost samples first)")
        out[ix] = _features_batch(np.asarray(x, dtype=np.float64), sfreq, mains_hz)
    return out, names


def _features_batch(x, sfreq, mains_hz):
    n, n_leads, n_times = x.shape
    nper = int(min(n_times, round(4 * sfreq)))
    f, psd = signal.welch(x, fs=sfreq, nperseg=nper, noverlap=nper // 2, detrend="constant",
                          axis=-1)
    df = f[1] - f[0]
    cols = []
    for _, lo, hi in _bands(sfreq):
        sel = (f >= lo) & (f < hi) if lo > 0 else (f > 0) & (f < hi)
        cols.append(np.log10(psd[..., sel].sum(-1) * df + _EPS))
    if _has_mains(mains_hz, sfreq):
        sel = np.abs(f - mains_hz) <= 1.0
        cols.append(np.log10(psd[..., sel].sum(-1) * df + _EPS))
    # 1-s RMS distribution.
    w = int(round(sfreq))
    n_win = n_times // w
    seg = x[..., :n_win * w].reshape(n, n_leads, n_win, w)
    rms = np.sqrt(np.mean((seg - seg.mean(-1, keepdims=True)) ** 2, axis=-1))
    for q in (10, 50, 90):
        cols.append(np.log10(np.percentile(rms, q, axis=-1) + _EPS))
    sos = signal.butter(2, [0.7, min(40.0, 0.45 * sfreq)], btype="band", fs=sfreq, output="sos")
    xb = signal.sosfiltfilt(sos, x, axis=-1)
    k = stats.kurtosis(xb, axis=-1, fisher=True)
    cols.append(np.sign(k) * np.log1p(np.abs(k)))
    cols.append(np.log10(_qrs_amplitude(x, xb, sfreq) + _EPS))
    per_lead = np.stack(cols, axis=-1)  # (n, n_leads, n_per)
    feats = [per_lead.reshape(n, -1)]
    if n_leads > 1:
        iu = np.triu_indices(n_leads, 1)
        z = xb - xb.mean(-1, keepdims=True)
        z /= np.sqrt((z ** 2).sum(-1, keepdims=True)) + _EPS
        corr = np.einsum("nit,njt->nij", z, z)
        feats.append(corr[:, iu[0], iu[1]])
    return np.concatenate(feats, axis=1)


def _qrs_amplitude(x, xb, sfreq):
    """Median QRS peak-to-peak per record and lead.

    R peaks: maxima of the 5–15 Hz envelope above 30 % of its 99th percentile, at least
    0.3 s apart; the amplitude is the peak-to-peak of the 0.7–40 Hz signal within ±60 ms.
    """
    n, n_leads, n_times = x.shape
    sos = signal.butter(2, [5.0, min(15.0, 0.45 * sfreq)], btype="band", fs=sfreq, output="sos")
    env = np.abs(signal.sosfiltfilt(sos, x, axis=-1))
    half = max(1, int(round(0.06 * sfreq)))
    out = np.empty((n, n_leads))
    for i in range(n):
        for j in range(n_leads):
            e = env[i, j]
            thr = 0.3 * np.percentile(e, 99)
            peaks, _ = signal.find_peaks(e, height=thr, distance=max(1, int(0.3 * sfreq)))
            peaks = peaks[(peaks >= half) & (peaks < n_times - half)]
            if len(peaks) == 0:
                out[i, j] = np.ptp(xb[i, j])
                continue
            win = xb[i, j][peaks[:, None] + np.arange(-half, half + 1)]
            out[i, j] = np.median(np.ptp(win, axis=1))
    return out
