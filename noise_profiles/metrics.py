"""Distances between recorded and synthesized noise (``science_anchors.md`` §2.5).

Every function takes lists of segments ``(n_ch, n)`` (a reference set and a synthetic
set) so nothing is computed across a gap.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from noise_profiles.spectral import welch_csd

BANDS_HZ = (("<0.7", 0.0, 0.7), ("0.7-5", 0.7, 5.0), ("5-15", 5.0, 15.0),
            ("15-40", 15.0, 40.0), ("40-150", 40.0, 150.0))
LSD_BAND_HZ = (0.5, 150.0)
#: width (octaves) of the power averaging before the log-spectral distance
LSD_SMOOTHING_OCT = 1 / 6
#: width (octaves) of the bands whose cross- and auto-spectra are averaged for the coherence
COHERENCE_SMOOTHING_OCT = LSD_SMOOTHING_OCT


def spectra(segments, sfreq, nperseg_s=2.0, smoothing_oct=COHERENCE_SMOOTHING_OCT):
    """Welch CSD of a set of segments: ``freqs``, ``psd`` (C, F) per Welch bin and the
    magnitude-squared ``coherence`` (pairs, F) of :func:`band_coherence` (``smoothing_oct``
    ``None``: per Welch bin). Pairs in ``numpy.triu_indices(C, 1)`` order."""
    nperseg = max(min(int(nperseg_s * sfreq), max(s.shape[1] for s in segments)), 16)
    freqs, csd, _ = welch_csd(segments, sfreq, nperseg)
    psd = np.real(np.einsum("fii->if", csd))
    return freqs, psd, band_coherence(freqs, csd, smoothing_oct)


def band_coherence(freqs, csd, smoothing_oct=COHERENCE_SMOOTHING_OCT):
    """``|S_ij|^2 / (S_ii S_jj)`` per channel pair from a CSD ``(F, C, C)`` whose cross-
    and auto-spectra are first averaged over ``smoothing_oct``-octave bands
    (:func:`smooth_octaves`, the LSD's bands; ``None``: per bin).

    Averaging the spectra, not the coherence values, gives the estimate more averages: the
    per-bin coherence of ~20 two-second frames is biased up by about ``(1 - γ²) / K`` and
    scatters so that two 20-s recordings of one stationary coupled process differ by 0.06
    on average (0.017 band-averaged), and the demo's two recorded passes by 0.12-0.21, so
    the per-bin error measured the estimator more than the model. As in the LSD, below
    ~8 Hz a 1/6 octave is narrower than a 0.5-Hz bin and the bins stay as they are. A
    cross-spectrum whose phase turns within a band (a delay between channels) loses
    coherence in the average, for recorded and synthesized noise alike.
    """
    n_ch = csd.shape[1]
    iu = np.triu_indices(n_ch, 1)
    cross = csd[:, iu[0], iu[1]].T                      # (pairs, F) complex
    auto = np.real(np.einsum("fii->if", csd))
    if smoothing_oct:
        cross = smooth_octaves(freqs, cross, smoothing_oct)
        auto = smooth_octaves(freqs, auto, smoothing_oct)
    denom = np.maximum(auto[iu[0]] * auto[iu[1]], 1e-300)
    return np.abs(cross) ** 2 / denom


def log_spectral_distance(freqs, psd_ref, psd_syn, band=LSD_BAND_HZ,
                          smoothing_oct=LSD_SMOOTHING_OCT):
    """``sqrt(mean_f (10 log10(P_syn / P_ref))^2)`` per channel (dB) over ``band``.

    Both PSDs are first power-averaged over ``smoothing_oct``-octave bands
    (:func:`smooth_octaves`; ``None``: per Welch bin) because a 30-s recording gives each
    2-s Welch bin only ~28 averages, whose scatter alone puts two estimates of the same
    stationary noise ~1.2 dB apart (0.55 dB after 1/6-octave smoothing), so the raw
    per-bin LSD mostly measured the estimator, not the model. Below ~8 Hz a 1/6 octave is
    narrower than a 0.5-Hz bin and the bins stay as they are.
    """
    if smoothing_oct:
        psd_ref = smooth_octaves(freqs, psd_ref, smoothing_oct)
        psd_syn = smooth_octaves(freqs, psd_syn, smoothing_oct)
    sel = (freqs >= band[0]) & (freqs <= min(band[1], freqs[-1]))
    ratio = 10 * np.log10(np.maximum(psd_syn[:, sel], 1e-300) / np.maximum(psd_ref[:, sel], 1e-300))
    return np.sqrt(np.mean(ratio ** 2, axis=1))


def smooth_octaves(freqs, psd, octaves):
    """Mean of ``psd`` (C, F), real or complex, over the bins within ``f·2^(±octaves/2)``
    of every bin ``f`` (the bin itself at least). Direct band sums (``reduceat``), not
    differences of a cumulative sum, which lose the small high-frequency powers next to
    the large baseline-wander ones."""
    freqs = np.asarray(freqs, float)
    tol = 1e-9 * (freqs[1] - freqs[0]) if len(freqs) > 1 else 0.0
    edge = 2.0 ** (octaves / 2.0)
    lo = np.searchsorted(freqs, freqs / edge - tol, "left")
    hi = np.searchsorted(freqs, freqs * edge + tol, "right")
    padded = np.concatenate([psd, np.zeros((psd.shape[0], 1))], axis=1)   # hi may be F
    sums = np.add.reduceat(padded, np.stack([lo, hi], axis=1).ravel(), axis=1)[:, 0::2]
    return sums / (hi - lo)


def band_power_ratios_db(freqs, psd_ref, psd_syn, mains_hz=None):
    """``10 log10(P_syn / P_ref)`` per band and channel: dict band -> (C,)."""
    df = freqs[1] - freqs[0]
    bands = list(BANDS_HZ)
    if mains_hz:
        bands.append(("mains", mains_hz - 1.0, mains_hz + 1.0))
    out = {}
    for name, lo, hi in bands:
        sel = (freqs >= lo) & (freqs < hi)
        if not np.any(sel) or lo >= freqs[-1]:
            continue
        p_ref = psd_ref[:, sel].sum(axis=1) * df
        p_syn = psd_syn[:, sel].sum(axis=1) * df
        out[name] = 10 * np.log10(np.maximum(p_syn, 1e-300) / np.maximum(p_ref, 1e-300))
    return out


def coherence_error(freqs, coh_ref, coh_syn, band=LSD_BAND_HZ):
    """Mean absolute magnitude-squared coherence error per channel pair over ``band``.

    ``coh_ref`` / ``coh_syn`` come from :func:`spectra` (cross- and auto-spectra averaged
    over 1/6-octave bands before the ratio, see :func:`band_coherence`)."""
    if coh_ref.shape[0] == 0:
        return np.zeros(0)
    sel = (freqs >= band[0]) & (freqs <= min(band[1], freqs[-1]))
    return np.mean(np.abs(coh_syn[:, sel] - coh_ref[:, sel]), axis=1)


def correlation_error(segments_ref, segments_syn):
    """Frobenius norm of the zero-lag correlation-matrix difference / sqrt(C(C-1))."""
    def corr(segs):
        x = np.concatenate([s - s.mean(axis=1, keepdims=True) for s in segs], axis=1)
        return np.corrcoef(x)

    c = segments_ref[0].shape[0]
    if c < 2:
        return 0.0
    d = corr(segments_ref) - corr(segments_syn)
    return float(np.sqrt(np.sum(d ** 2) / (c * (c - 1))))


def kurtosis(segments):
    """Pearson kurtosis (normal = 3) per channel of the pooled, per-segment-demeaned data."""
    x = np.concatenate([s - s.mean(axis=1, keepdims=True) for s in segments], axis=1)
    return stats.kurtosis(x, axis=1, fisher=False)


def rms_1s(segments, sfreq):
    """1-s RMS (mean removed per second, as NSTDB's ``nst``) per channel: (C, n_windows)."""
    w = int(round(sfreq))
    out = []
    for s in segments:
        n = s.shape[1] // w
        if n:
            out.append(s[:, : n * w].reshape(s.shape[0], n, w).std(axis=2))
    return np.concatenate(out, axis=1) if out else np.zeros((segments[0].shape[0], 0))


def rms_distribution_distance(rms_ref, rms_syn):
    """Per channel: two-sample KS statistic of 1-s RMS and the median log-RMS difference (dB)."""
    ks, med = [], []
    for a, b in zip(rms_ref, rms_syn):
        if len(a) < 2 or len(b) < 2:
            ks.append(np.nan)
            med.append(np.nan)
            continue
        ks.append(stats.ks_2samp(a, b).statistic)
        med.append(20 * np.log10(np.median(b) / max(np.median(a), 1e-300)))
    return np.asarray(ks), np.asarray(med)


def window_features(segments, sfreq, window_s):
    """Per non-overlapping window: log band powers, log RMS, kurtosis per channel and the
    channel-pair correlations. Returns features (n_windows, n_feat) and the segment-local
    window index (for block grouping)."""
    w = int(round(window_s * sfreq))
    freqs = np.fft.rfftfreq(w, 1.0 / sfreq)
    feats, index = [], []
    for s in segments:
        n = s.shape[1] // w
        if n == 0:
            continue
        frames = s[:, : n * w].reshape(s.shape[0], n, w).transpose(1, 0, 2)   # (n, C, w)
        frames = frames - frames.mean(axis=2, keepdims=True)
        power = np.abs(np.fft.rfft(frames * np.hanning(w), axis=2)) ** 2
        cols = []
        for _, lo, hi in BANDS_HZ[1:]:
            sel = (freqs >= lo) & (freqs < hi)
            if np.any(sel):
                cols.append(np.log(power[:, :, sel].sum(axis=2) + 1e-300))
        cols.append(np.log(frames.std(axis=2) + 1e-300))
        cols.append(stats.kurtosis(frames, axis=2, fisher=False))
        f = [np.concatenate(cols, axis=1)]
        if s.shape[0] > 1:
            iu = np.triu_indices(s.shape[0], 1)
            z = frames / np.maximum(frames.std(axis=2, keepdims=True), 1e-300)
            cc = np.einsum("nit,njt->nij", z, z) / w
            f.append(cc[:, iu[0], iu[1]])
        feats.append(np.concatenate(f, axis=1))
        index.append(np.arange(n))
    if not feats:
        return np.zeros((0, 1)), np.zeros(0, int)
    return np.concatenate(feats), np.concatenate(index)


def classifier_auc(feat_ref, idx_ref, feat_syn, idx_syn, block=5, random_state=0):
    """Cross-validated AUC of a classifier telling recorded from synthetic windows.

    Windows never overlap, and ``block`` consecutive windows form one group of a
    ``StratifiedGroupKFold`` split, so neighbouring (correlated) windows never sit on
    both sides. The AUC is computed within each test fold and averaged: pooling the
    decision values of different fold models is biased below 0.5 when folds are
    unbalanced (about 0.35 for two identical sources with 15 windows each), which would
    flatter the synthetic noise. 0.5 means indistinguishable.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.nan_to_num(np.concatenate([feat_ref, feat_syn]))
    y = np.r_[np.ones(len(feat_ref)), np.zeros(len(feat_syn))]
    g_ref, g_syn = _blocks(idx_ref, block), _blocks(idx_syn, block) + 1_000_000
    groups = np.r_[g_ref, g_syn]
    n_splits = min(5, len(np.unique(g_ref)), len(np.unique(g_syn)))
    if min(len(feat_ref), len(feat_syn)) < 4 or n_splits < 2:
        return float("nan")
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True,
                              random_state=int(random_state) % 2**31)
    aucs, weights = [], []
    for train, test in cv.split(X, y, groups):
        if len(np.unique(y[train])) < 2 or len(np.unique(y[test])) < 2:
            continue
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
        clf.fit(X[train], y[train])
        aucs.append(roc_auc_score(y[test], clf.decision_function(X[test])))
        weights.append(len(test))
    return float(np.average(aucs, weights=weights)) if aucs else float("nan")


def _blocks(idx, block):
    """Group id per window: new segment (index back to 0) or every ``block`` windows."""
    seg = np.cumsum(idx == 0)
    return seg * 100_000 + idx // block
