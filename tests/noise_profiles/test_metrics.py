"""Log-spectral distance: octave smoothing, the estimator's own floor, real mismatches."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from scipy.special import polygamma

from noise_profiles import metrics

SFREQ = 500.0
DB = 10 / np.log(10)


def test_smooth_octaves_matches_a_plain_loop():
    freqs = np.fft.rfftfreq(1000, 1 / SFREQ)
    # 12 decades from baseline wander to the EMG floor: small bins must keep their digits
    psd = np.random.default_rng(0).exponential(size=(2, freqs.size)) * np.logspace(
        0, -12, freqs.size)
    got = metrics.smooth_octaves(freqs, psd, 1 / 6)
    want = np.empty_like(psd)
    for k, f in enumerate(freqs):
        inside = (freqs >= f * 2 ** (-1 / 12) - 1e-12) & (freqs <= f * 2 ** (1 / 12) + 1e-12)
        inside[k] = True
        want[:, k] = psd[:, inside].mean(axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert np.array_equal(got[:, freqs < 8], psd[:, freqs < 8])     # narrower than a bin
    assert np.all((got[:, freqs > 100] != psd[:, freqs > 100]))


def _lsd_pair(seconds, seed, smoothing_oct, gain=1.0):
    """Median LSD between two independent recordings of one stationary coloured noise."""
    rng = np.random.default_rng(seed)
    b, a = scipy.signal.butter(2, [1.0, 100.0], "bandpass", fs=SFREQ)
    n = int(seconds * SFREQ)
    x = scipy.signal.lfilter(b, a, rng.standard_normal((4, 2 * n + 2000)))[:, 2000:]
    f, p_ref, _ = metrics.spectra([x[:, :n]], SFREQ, 2.0)
    _, p_syn, _ = metrics.spectra([x[:, n:] * np.sqrt(gain)], SFREQ, 2.0)
    return np.median(metrics.log_spectral_distance(f, p_ref, p_syn, smoothing_oct=smoothing_oct))


def test_per_bin_lsd_of_a_stationary_process_is_the_welch_scatter():
    # 30 s, 2-s Hann frames, half overlap: K = 29 frames, ~K / (1 + 2 * 0.167**2) independent
    k = 29
    k_eff = k / (1 + 2 * 0.167 ** 2 * (k - 1) / k)
    expected = DB * np.sqrt(2 * polygamma(1, k_eff))          # var of log chi2(2K)/2K
    raw = np.mean([_lsd_pair(30, s, None) for s in range(3)])
    assert raw == pytest.approx(expected, rel=0.1) and raw > 1.0
    smoothed = np.mean([_lsd_pair(30, s, 1 / 6) for s in range(3)])
    assert smoothed < 0.5 * raw and smoothed < 0.7


def test_smoothing_keeps_a_broadband_mismatch():
    # a 3-dB level error is a model error: it must come out whole, smoothed or not
    err = _lsd_pair(30, 5, 1 / 6, gain=2.0)
    assert err == pytest.approx(10 * np.log10(2.0), abs=0.15)
    assert _lsd_pair(30, 5, None, gain=2.0) == pytest.approx(
        np.hypot(10 * np.log10(2.0), _lsd_pair(30, 5, None)), rel=0.05)


def test_smoothing_keeps_a_band_limited_mismatch():
    freqs = np.fft.rfftfreq(1000, 1 / SFREQ)
    ref = 1.0 / (1 + (freqs / 30) ** 2)[None]
    syn = ref * np.where((freqs > 40) & (freqs < 80), 4.0, 1.0)[None]      # +6 dB, 40-80 Hz
    sel = (freqs >= 0.5) & (freqs <= 150)
    exact = np.sqrt(np.mean(np.where((freqs[sel] > 40) & (freqs[sel] < 80), 6.02, 0.0) ** 2))
    raw = metrics.log_spectral_distance(freqs, ref, syn, smoothing_oct=None)[0]
    smoothed = metrics.log_spectral_distance(freqs, ref, syn)[0]
    assert raw == pytest.approx(exact, rel=1e-3)
    assert smoothed == pytest.approx(exact, rel=0.1)           # edges blur, the error stays
    assert metrics.log_spectral_distance(freqs, ref, ref)[0] == 0.0
