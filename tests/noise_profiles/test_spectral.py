"""Spectral model pieces against independent references (scipy.signal.csd, numpy)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from noise_profiles import spectral, var_model


def test_welch_csd_matches_scipy_csd():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5000))
    x[1] += 0.7 * x[0]
    x[2] = scipy.signal.lfilter([1, 0.5], [1], x[2])
    freqs, csd, n = spectral.welch_csd([x], 250.0, 512)
    for i in range(3):
        for j in range(3):
            # scipy: csd(a, b) = E[conj(A) B], so S_ij = E[X_i X_j*] = csd(x_j, x_i)
            f, ref = scipy.signal.csd(x[j], x[i], fs=250.0, nperseg=512)
            np.testing.assert_allclose(csd[:, i, j], ref, rtol=1e-8, atol=1e-12)
    assert n == len(range(0, 5000 - 511, 256))


def test_segments_never_joined():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((1, 300)), rng.standard_normal((1, 700))
    _, _, n = spectral.welch_csd([a, b], 100.0, 256)
    assert n == 1 + 4      # frames inside each piece; joined, 1000 samples would give 6


def test_factor_and_synthesis_reproduce_csd():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 200_000))
    x[1] += 0.8 * x[0]
    x[2] = scipy.signal.lfilter(*scipy.signal.butter(2, 20, fs=250.0), x[2] + 0.5 * x[0])
    freqs, csd, _ = spectral.welch_csd([x], 250.0, 1024)
    csd[:, :, 2] = csd[:, :, 0]          # make it rank-deficient: eigen fallback needed
    csd[:, 2, :] = csd[:, 0, :]
    factor, n_eigen = spectral.factor_csd(csd)
    assert n_eigen > 0
    np.testing.assert_allclose(factor @ np.conj(np.transpose(factor, (0, 2, 1))), csd,
                               atol=1e-10 * np.abs(csd).max())
    freqs, csd, _ = spectral.welch_csd([x], 250.0, 1024)
    factor, _ = spectral.factor_csd(csd)
    y, _ = spectral.synthesize(freqs, csd, factor, 100_000, 250.0, np.random.default_rng(0))
    f, c2, _ = spectral.welch_csd([y], 250.0, 1024)
    sel = (f > 1) & (f < 100)
    p_ref, p_syn = np.einsum("fii->fi", csd).real, np.einsum("fii->fi", c2).real
    lsd = np.sqrt(np.mean((10 * np.log10(p_syn[sel] / p_ref[sel])) ** 2, axis=0))
    assert np.all(lsd < 0.8)
    assert np.mean(np.abs(_coh01(c2)[sel] - _coh01(csd)[sel])) < 0.05
    np.testing.assert_allclose(y.var(axis=1), x.var(axis=1), rtol=0.05)


def _coh01(c):
    return np.abs(c[:, 0, 1]) ** 2 / (c[:, 0, 0].real * c[:, 1, 1].real)


def test_var_yule_walker_recovers_known_var():
    rng = np.random.default_rng(3)
    A1 = np.array([[0.5, 0.2], [-0.1, 0.4]])
    A2 = np.array([[-0.3, 0.0], [0.1, 0.2]])
    n = 100_000
    x = np.zeros((n, 2))
    e = rng.standard_normal((n, 2)) @ np.array([[1.0, 0.0], [0.5, 0.8]]).T
    for t in range(2, n):
        x[t] = A1 @ x[t - 1] + A2 @ x[t - 2] + e[t]
    coefs, sigma = var_model.fit_var([x.T[:, : n // 2], x.T[:, n // 2:]], 8, "bic")
    assert coefs.shape == (2, 2, 2)                    # BIC picks the true order
    np.testing.assert_allclose(coefs[0], A1, atol=0.02)
    np.testing.assert_allclose(coefs[1], A2, atol=0.02)
    np.testing.assert_allclose(sigma, [[1.0, 0.5], [0.5, 0.89]], atol=0.03)


def test_quasi_periodic_line_found_and_resynthesized():
    from noise_profiles import lines

    fs, n = 250.0, 250 * 240
    rng = np.random.default_rng(4)
    t = np.arange(n) / fs
    x = 0.3 * rng.standard_normal((2, n))
    x += np.array([[1.0], [-0.5]]) * np.sin(2 * np.pi * 1.8 * t)      # step-locked motion
    freqs, csd, k = spectral.welch_csd([x], fs, 4000)
    clean, f, w, a = lines.extract(freqs, csd, k)
    assert len(f) == 1 and abs(f[0] - 1.8) < 0.05
    np.testing.assert_allclose(np.abs(a[0]), [1.0, 0.5], rtol=0.05)
    assert abs(np.angle(a[0, 1] / a[0, 0])) == pytest.approx(np.pi, abs=0.05)   # opposite sign
    near = np.abs(freqs - 1.8) < 0.1
    assert np.real(clean[near, 0, 0]).max() < 3 * np.median(np.real(clean[:, 0, 0]))
    y = lines.synthesize(f, w, a, n, fs, np.random.default_rng(0))
    np.testing.assert_allclose(y.std(axis=1), [1 / np.sqrt(2), 0.5 / np.sqrt(2)], rtol=0.05)
    from scipy import stats
    assert stats.kurtosis(y[0], fisher=False) < 2.0          # a sinusoid, not Gaussian noise


def test_gappy_csd_matches_welch_and_theory():
    # lag products over present samples only: no gap, it agrees with Welch; with a 2 %
    # packet loss every 0.6 s, it still follows the analytic AR(1) spectrum
    rng = np.random.default_rng(7)
    fs, n = 250.0, 250 * 600
    x = scipy.signal.lfilter([1], [1, -0.95], rng.standard_normal((2, n)))
    x[1] = 0.5 * x[1] + 0.5 * x[0]
    f, c, _ = spectral.welch_csd([x], fs, 2048)
    fg, cg, _ = spectral.gappy_csd([x], fs, 2048)
    sel = (f > 0.5) & (f < 60)
    assert np.mean(np.abs(10 * np.log10(cg[sel, 0, 0].real / c[sel, 0, 0].real))) < 0.4
    assert np.mean(np.abs(cg[sel, 0, 1] - c[sel, 0, 1])) < 0.1 * np.mean(np.abs(c[sel, 0, 1]))
    for s0 in range(100, n - 10, 150):
        x[:, s0:s0 + 3] = np.nan
    fg, cg, _ = spectral.gappy_csd([x], fs, 2048)
    theory = 2 / fs / np.abs(1 - 0.95 * np.exp(-2j * np.pi * fg / fs)) ** 2
    assert np.mean(np.abs(10 * np.log10(cg[sel, 0, 0].real / theory[sel]))) < 0.5


def _steep_process(n, fs, rng):
    """Baseline-wander-like noise (4th-order low-pass at 0.4 Hz, 80 dB above a white
    floor): its spectrum falls by ~24 dB/octave where short Welch frames leak. Returns the
    signal (2, n) and its exact PSD on a frequency grid as a function."""
    b, a = scipy.signal.butter(4, 0.4, fs=fs)
    common = scipy.signal.lfilter(b, a, rng.standard_normal(n))
    x = np.stack([common + 1e-4 * rng.standard_normal(n),
                  0.5 * common + 1e-4 * rng.standard_normal(n)])

    def psd(f):
        _, h = scipy.signal.freqz(b, a, worN=f, fs=fs)
        g = np.abs(h) ** 2 * 2.0 / fs                    # one-sided density of unit white
        return np.stack([g + 1e-8 * 2.0 / fs, 0.25 * g + 1e-8 * 2.0 / fs], axis=1)
    return x, psd


def test_undo_leakage_recovers_steep_spectrum_and_keeps_coupling():
    fs, nperseg = 50.0, 200                              # 4-s frames, as a 20-s demo pass
    rng = np.random.default_rng(5)
    x, true_psd = _steep_process(int(1200 * fs), fs, rng)
    freqs, raw, n_frames = spectral.welch_csd([x], fs, nperseg)
    half = spectral.smooth_half_widths(freqs, 0.05, 3)
    smooth = spectral.smooth_csd(freqs, raw, 0.05, 3)
    fixed, gain = spectral.undo_leakage(freqs, smooth, fs, half, n_frames)
    truth = true_psd(freqs)
    steep = (freqs >= 0.75) & (freqs <= 1.5)       # 5-30 dB below the corner's level
    flat = (freqs >= 8.0) & (freqs <= fs / 2 - 1)  # the white floor: nothing to undo
    err_before = 10 * np.log10(np.real(np.einsum("fii->fi", smooth))[steep] / truth[steep])
    err_after = 10 * np.log10(np.real(np.einsum("fii->fi", fixed))[steep] / truth[steep])
    assert np.mean(err_before) > 4.0               # the estimator's own bias, several dB
    assert abs(np.mean(err_after)) < 1.5
    assert np.all(np.abs(10 * np.log10(gain[flat])) < 0.3)
    coh = lambda c: c[:, 0, 1] / np.sqrt(c[:, 0, 0].real * c[:, 1, 1].real)  # noqa: E731
    np.testing.assert_allclose(coh(fixed)[1:], coh(smooth)[1:], atol=1e-9)


def test_smooth_coherency_cuts_few_frame_scatter_keeps_psd():
    fs, nperseg = 100.0, 100
    rng = np.random.default_rng(6)
    n = nperseg * 5                                       # 9 half-overlapping frames
    src = rng.standard_normal((2, n))
    x = np.stack([src[0], 0.6 * src[0] + 0.8 * src[1]])   # coherency 0.6 at every frequency
    freqs, csd, n_frames = spectral.welch_csd([x], fs, nperseg)
    out = spectral.smooth_coherency(csd, 7)
    np.testing.assert_allclose(np.einsum("fii->fi", out).real, np.einsum("fii->fi", csd).real)
    g = lambda c: c[1:-1, 0, 1] / np.sqrt(c[1:-1, 0, 0].real * c[1:-1, 1, 1].real)  # noqa
    err_raw, err_smooth = np.abs(g(csd) - 0.6), np.abs(g(out) - 0.6)
    assert np.mean(err_smooth) < 0.6 * np.mean(err_raw)
    assert np.all(np.linalg.eigvalsh(out)[:, 0] >= -1e-12 * np.abs(out).max())


def test_psd_smoothed_less_than_coherency_on_a_steep_spectrum():
    """Few frames: the coherency is averaged over min_bins, each PSD over fewer bins, as a
    3-bin average of a steep spectrum reads its louder side."""
    fs, nperseg = 50.0, 200
    rng = np.random.default_rng(7)
    x, true_psd = _steep_process(int(1200 * fs), fs, rng)
    freqs, raw, _ = spectral.welch_csd([x], fs, nperseg)
    wide = spectral.smooth_csd(freqs, raw, 0.05, 3)
    split = spectral.smooth_csd(freqs, raw, 0.05, 3, psd_min_bins=1)
    coh = lambda c: c[:, 0, 1] / np.sqrt(c[:, 0, 0].real * c[:, 1, 1].real)  # noqa: E731
    np.testing.assert_allclose(coh(split), coh(wide), atol=1e-9)
    np.testing.assert_allclose(np.einsum("fii->fi", split)[1:].real,
                               np.einsum("fii->fi", spectral.smooth_csd(freqs, raw, 0.05, 1)
                                         )[1:].real, rtol=1e-9)
    steep = (freqs >= 0.5) & (freqs <= 1.5)
    truth = true_psd(freqs)[steep]
    bias = lambda c: np.mean(10 * np.log10(np.einsum("fii->fi", c)[steep].real / truth))  # noqa
    assert bias(wide) > bias(split) + 1.0
