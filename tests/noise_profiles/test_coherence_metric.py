"""Coherence error: band-averaged spectra, the estimator's own floor, real coupling errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from noise_profiles import metrics

SFREQ = 500.0


def _coupled(seconds, seed, band_hz=(20.0, 60.0), weight=2.0, sign=1.0, delay_s=0.0,
             couple=True):
    """3 channels of 1-100 Hz noise; channels 0 and 1 share a source in ``band_hz``."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SFREQ)
    b, a = scipy.signal.butter(2, [1.0, 100.0], "bandpass", fs=SFREQ)
    x = scipy.signal.lfilter(b, a, rng.standard_normal((3, n + 2000)))[:, 2000:]
    if couple:
        bs, as_ = scipy.signal.butter(4, band_hz, "bandpass", fs=SFREQ)
        common = scipy.signal.lfilter(bs, as_, rng.standard_normal(n + 2000))[2000:]
        lag = round(delay_s * SFREQ)
        x[0] += weight * common
        x[1] += sign * weight * np.roll(common, lag)
    return x


def test_band_coherence_matches_scipy_per_bin_and_a_plain_loop():
    x = _coupled(20, 0)
    f, psd, coh = metrics.spectra([x], SFREQ, 2.0, smoothing_oct=None)
    _, want = scipy.signal.coherence(x[0], x[1], fs=SFREQ, nperseg=1000)
    np.testing.assert_allclose(coh[0], want, rtol=1e-9, atol=1e-12)   # pair (0, 1)
    # the 1/6-octave estimate: average S01, S00, S11 over each band, then the ratio
    _, s01 = scipy.signal.csd(x[0], x[1], fs=SFREQ, nperseg=1000)
    s00, s11 = psd[0], psd[1]
    want = np.empty(f.size)
    for k, fk in enumerate(f):
        inside = (f >= fk * 2 ** (-1 / 12) - 1e-12) & (f <= fk * 2 ** (1 / 12) + 1e-12)
        inside[k] = True
        want[k] = abs(s01[inside].mean()) ** 2 / (s00[inside].mean() * s11[inside].mean())
    got = metrics.spectra([x], SFREQ, 2.0)[2][0]
    np.testing.assert_allclose(got[1:], want[1:], rtol=1e-6)


def _floor(seconds, seed, smoothing_oct):
    x = _coupled(2 * seconds, seed)
    n = int(seconds * SFREQ)
    f, _, c_a = metrics.spectra([x[:, :n]], SFREQ, 2.0, smoothing_oct=smoothing_oct)
    _, _, c_b = metrics.spectra([x[:, n:]], SFREQ, 2.0, smoothing_oct=smoothing_oct)
    return metrics.coherence_error(f, c_a, c_b).mean()


def test_two_recordings_of_one_stationary_process_agree_after_band_averaging():
    # 20-s passes (the demo's), 2-s frames: 19 frames per bin, and per bin two estimates
    # of the same coupling differ by ~0.06; averaged over 1/6 octave by ~0.017
    per_bin = np.mean([_floor(20, s, None) for s in range(3)])
    banded = np.mean([_floor(20, s, 1 / 6) for s in range(3)])
    assert per_bin > 0.045
    assert banded < 0.4 * per_bin and banded < 0.025


@pytest.mark.parametrize("smoothing_oct", [None, 1 / 6])
def test_independent_channels_against_coupled_ones_give_the_whole_error(smoothing_oct):
    ref = _coupled(40, 1)
    syn = _coupled(40, 2, couple=False)
    f, _, c_ref = metrics.spectra([ref], SFREQ, 2.0, smoothing_oct=smoothing_oct)
    _, _, c_syn = metrics.spectra([syn], SFREQ, 2.0, smoothing_oct=smoothing_oct)
    err = metrics.coherence_error(f, c_ref, c_syn)
    # the true coherence of pair (0, 1): |S_common|^2 / (S_0 S_1), from the filters
    b, a = scipy.signal.butter(2, [1.0, 100.0], "bandpass", fs=SFREQ)
    bs, as_ = scipy.signal.butter(4, (20.0, 60.0), "bandpass", fs=SFREQ)
    _, h = scipy.signal.freqz(b, a, worN=f, fs=SFREQ)
    _, hs = scipy.signal.freqz(bs, as_, worN=f, fs=SFREQ)
    common, own = 4.0 * np.abs(hs) ** 2, np.abs(h) ** 2
    true = common ** 2 / np.maximum((common + own) ** 2, 1e-300)
    sel = (f >= 0.5) & (f <= 150)
    assert err[0] == pytest.approx(true[sel].mean(), abs=0.03)
    assert err[0] > 0.15 and np.all(err[1:] < 0.1)


def test_a_delay_between_channels_shows_once_spectra_are_band_averaged():
    # same coupling with a 100-ms lag: per bin the magnitude is (nearly) unchanged, but
    # the cross-spectrum's phase turns by a full cycle every 10 Hz, so it cancels in a band
    ref = _coupled(40, 3)
    syn = _coupled(40, 4, delay_s=0.1)
    errs = {}
    for so in (None, 1 / 6):
        f, _, c_ref = metrics.spectra([ref], SFREQ, 2.0, smoothing_oct=so)
        _, _, c_syn = metrics.spectra([syn], SFREQ, 2.0, smoothing_oct=so)
        errs[so] = metrics.coherence_error(f, c_ref, c_syn)[0]
    assert errs[None] < 0.07                         # ~ the per-bin floor (0.034)
    assert errs[1 / 6] > 0.08                        # floor 0.011


def test_a_wrong_sign_is_the_correlation_errors_to_find():
    # magnitude-squared coherence cannot see a sign; the zero-lag correlation can
    ref, syn = _coupled(40, 5), _coupled(40, 6, sign=-1.0)
    f, _, c_ref = metrics.spectra([ref], SFREQ, 2.0)
    _, _, c_syn = metrics.spectra([syn], SFREQ, 2.0)
    assert metrics.coherence_error(f, c_ref, c_syn)[0] < 0.03
    assert metrics.correlation_error([ref], [syn]) > 0.3
    assert metrics.correlation_error([ref], [_coupled(40, 7)]) < 0.1
