"""AdcGainCalibrator on square-wave recordings with noise, drift, glitches and filters."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from calibration.adc import AdcGainCalibrator
from shirtecg_common.errors import UserError
from tests.calibration.conftest import VPC


def test_gain_and_offset_dc_coupled(make_square):
    """DC-coupled channel with noise, drift and glitches: gain within 0.1 %, offset found."""
    x = np.vstack([make_square(seed=1), make_square(seed=2, offset_counts=-500.0,
                                                    vpc=VPC * 1.03)])
    cal = AdcGainCalibrator(amplitude_mv=1.0, freq_hz=1.0).fit(x, sfreq=500.0)
    err = cal.volts_per_count_ / np.array([VPC, VPC * 1.03]) - 1
    assert np.all(np.abs(err) < 1e-3), err
    assert np.all(cal.gain_rel_uncertainty_ < 5e-4)
    # The jackknife uncertainty is honest: the error is within a few standard errors.
    assert np.all(np.abs(err) < 5 * cal.gain_rel_uncertainty_ + 2e-4)
    # The offset includes the mean of the sine drift (0.2 mV · mean(sin)) in counts.
    t = np.arange(x.shape[1]) / 500.0
    drift = 0.2e-3 * np.mean(np.sin(2 * np.pi * 0.05 * t + 1.0))
    expected = np.array([1234.0 + drift / VPC, -500.0 + drift / (VPC * 1.03)])
    # 10 uV of noise is ~200 counts RMS here, so the offset is known to a few counts.
    assert np.all(np.abs(cal.offset_counts_ - expected) < 5 * cal.offset_uncertainty_counts_ + 1)
    assert np.all(cal.offset_uncertainty_counts_ * VPC < 2e-6)  # below 2 uV
    assert np.all(np.isnan(cal.highpass_hz_))  # no droop: DC-coupled
    assert np.all(cal.n_outliers_ >= 3)  # glitches rejected (some fall in the edge guard)
    assert_allclose(cal.freq_hz_, 1.0, rtol=1e-4)


@pytest.mark.parametrize("hp, lp", [(0.5, None), (0.05, 150.0), (None, 40.0)])
def test_frequency_response(make_square, hp, lp):
    """High-pass from the droop (±10 %), low-pass from the edges (±15 %), gain still ≤ 0.1 %."""
    x = make_square(highpass_hz=hp, lowpass_hz=lp, seed=3)
    cal = AdcGainCalibrator(amplitude_mv=1.0, freq_hz=1.0).fit(x[None], sfreq=500.0)
    assert abs(cal.volts_per_count_[0] / VPC - 1) < 1e-3
    if hp is None:
        assert np.isnan(cal.highpass_hz_[0])
    else:
        assert cal.highpass_hz_[0] == pytest.approx(hp, rel=0.10)
        # The jackknife standard error is small and consistent with the actual error.
        se = cal.highpass_uncertainty_hz_[0]
        assert 0 < se < 0.05 * hp
        assert abs(cal.highpass_hz_[0] - hp) < 5 * se + 0.01 * hp
    if lp is None:
        assert np.isnan(cal.lowpass_hz_[0])
    else:
        assert cal.lowpass_hz_[0] == pytest.approx(lp, rel=0.15)
        assert cal.rise_time_s_[0] == pytest.approx(np.log(9) / (2 * np.pi * lp), rel=0.15)


def test_lost_samples_and_transform(make_square):
    """NaN gaps are skipped; transform maps counts to mV with the fitted scale."""
    x = make_square(seed=4, freq_hz=2.0, amplitude_mv=0.5)
    x[3000:3400] = np.nan
    cal = AdcGainCalibrator(amplitude_mv=0.5, freq_hz=2.0).fit(x[None], sfreq=500.0)
    assert abs(cal.volts_per_count_[0] / VPC - 1) < 1e-3
    mv = cal.transform(np.array([[cal.offset_counts_[0], cal.offset_counts_[0] + 1e4]]))
    assert_allclose(mv[0], [0.0, 1e4 * VPC * 1e3], rtol=1e-3, atol=1e-6)


def test_no_square_wave_is_an_error():
    """Pure noise, or a square wave at another frequency, is a clear error."""
    rng = np.random.default_rng(0)
    with pytest.raises(UserError, match="no square wave"):
        AdcGainCalibrator(freq_hz=1.0).fit(rng.normal(0, 100, (1, 10000)), sfreq=500.0)


def test_wrong_frequency_is_an_error(make_square):
    """A 1 Hz test signal analysed as 3 Hz: error naming the measured spacing."""
    x = make_square(seed=5)
    with pytest.raises(UserError, match="no square wave found at 3 Hz"):
        AdcGainCalibrator(freq_hz=3.0).fit(x[None], sfreq=500.0)


def test_wrong_amplitude_is_an_error(make_square):
    """Amplitude 1 mV analysed as 2 mV: far from the nominal scale → error."""
    x = make_square(seed=6)
    with pytest.raises(UserError, match="--amplitude-mv"):
        AdcGainCalibrator(amplitude_mv=2.0, freq_hz=1.0).fit(
            x[None], sfreq=500.0, nominal_volts_per_count=VPC)
