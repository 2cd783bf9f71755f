"""Synthetic activity noise: reproducible, seamless, and physically distinct per activity."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from acquisition.activity_noise import ACTIVITIES, ActivityNoise, synthesize, test_signal

SFREQ = 500.0


@pytest.fixture(scope="module")
def noise():
    """60 s of 4-channel noise per activity."""
    return {a: synthesize(a, 4, int(60 * SFREQ), SFREQ, random_state=3) for a in ACTIVITIES}


def _band_rms(x, lo, hi):
    f, p = signal.welch(x, SFREQ, nperseg=int(8 * SFREQ))
    sel = (f >= lo) & (f < hi)
    return np.sqrt(p[:, sel].sum(axis=1) * (f[1] - f[0]))


def test_shape_dtype_and_reproducible():
    """float64 volts (n_ch, n); same seed → same noise; another seed → different."""
    a = synthesize("walking", 3, 1000, SFREQ, random_state=1)
    assert a.shape == (3, 1000) and a.dtype == np.float64 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, synthesize("walking", 3, 1000, SFREQ, random_state=1))
    assert not np.allclose(a, synthesize("walking", 3, 1000, SFREQ, random_state=2))


@pytest.mark.parametrize("activity", ["arm_movement", "walking"])
def test_block_reads_are_seamless(activity):
    """Reading in odd-sized blocks gives exactly the one-shot output (no seams)."""
    gen = ActivityNoise(activity, 2, SFREQ, random_state=5)
    parts = [gen.read(n) for n in (1, 7, 499, 1001, 12, 980)]
    np.testing.assert_array_equal(np.concatenate(parts, axis=1),
                                  synthesize(activity, 2, 2500, SFREQ, random_state=5))


def test_levels_are_plausible(noise):
    """µV-to-mV levels: rest quietest, walking loudest; all far below the ADC range."""
    rms = {a: noise[a].std(axis=1).mean() for a in ACTIVITIES if a != "test_signal"}
    assert 10e-6 < rms["rest"] < rms["sitting"] < rms["arm_movement"] < rms["walking"] < 2e-3
    floor = _band_rms(noise["rest"], 200, 240).mean()  # white amplifier noise only up there
    assert 0.3e-6 < floor < 3e-6


def test_walking_has_step_frequency_and_harmonics(noise):
    """Electrode motion locked to ~1.8 steps/s: a spectral peak at f0 and one at 2·f0."""
    f, p = signal.welch(noise["walking"], SFREQ, nperseg=int(16 * SFREQ))
    p = p.mean(axis=0)
    band = (f > 1.4) & (f < 2.2)
    f0 = f[band][np.argmax(p[band])]
    assert 1.6 < f0 < 2.0
    k0, k2 = np.argmin(abs(f - f0)), np.argmin(abs(f - 2 * f0))
    near = (abs(f - 1.25 * f0) < 0.1)  # between harmonics
    assert p[k0] > 30 * p[near].mean() and p[k2] > 10 * p[near].mean()
    rest = _band_rms(noise["rest"], 0.7, 5).mean()
    assert _band_rms(noise["walking"], 0.7, 5).mean() > 10 * rest


def test_arm_movement_has_bursty_emg(noise):
    """20–150 Hz EMG comes in bursts: high envelope kurtosis, much more than at rest."""
    sos = signal.butter(4, [20, 150], "bandpass", fs=SFREQ, output="sos")
    emg = signal.sosfiltfilt(sos, noise["arm_movement"], axis=-1)
    emg_rest = signal.sosfiltfilt(sos, noise["rest"], axis=-1)
    assert np.std(emg) > 4 * np.std(emg_rest)
    env = np.sqrt(np.mean(emg[0].reshape(-1, 50) ** 2, axis=1))  # 0.1-s RMS
    from scipy.stats import kurtosis
    assert kurtosis(env) > 1.0          # bursts, not stationary noise
    assert np.percentile(env, 90) > 3 * np.percentile(env, 10)


def test_mains_and_shared_reference(noise):
    """A 50 Hz line and correlated channels (a shared reference electrode)."""
    f, p = signal.welch(noise["rest"], SFREQ, nperseg=int(4 * SFREQ))
    k = np.argmin(abs(f - 50))
    assert np.all(p[:, k] > 100 * np.median(p[:, (f > 60) & (f < 140)], axis=1))
    sos = signal.butter(2, 1.0, fs=SFREQ, output="sos")
    low = signal.sosfiltfilt(sos, noise["sitting"], axis=-1)
    c = np.corrcoef(low)
    assert np.mean(np.abs(c[np.triu_indices(4, 1)])) > 0.2


def test_test_signal_matches_reference_square_wave():
    """Levels ±A/2 and period 1/f, checked against a square wave written here."""
    n = int(4 * SFREQ)
    x = test_signal(2, n, SFREQ, amplitude_mv=2.0, freq_hz=2.0, random_state=0)
    t = np.arange(n) / SFREQ
    ref = np.where((t * 2.0 * 2) % 2 < 1, 1.0e-3, -1.0e-3)
    resid = x - ref[None, :]
    assert np.abs(np.median(resid, axis=1)).max() < 5e-6
    assert resid.std(axis=1).max() < 20e-6     # amplifier noise + mains only


def test_unknown_activity_is_an_error():
    """The message lists the activities."""
    with pytest.raises(ValueError, match="rest, sitting, walking, arm_movement"):
        synthesize("running", 1, 10, SFREQ)
