"""Quasi-periodic lines: a sinusoid is kept as one, a broad low-frequency hump is not."""

from __future__ import annotations

import numpy as np
import scipy.signal

from noise_profiles import lines, spectral

FS = 100.0


def _drift(seconds, seed, line_v=0.0):
    """Gaussian drift below a 0.3 Hz corner on 3 channels (a broad hump near DC, as baseline
    wander is), plus optionally a steady 0.6 Hz sinusoid of ``line_v`` on all of them."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FS)
    sos = scipy.signal.butter(2, 0.3, fs=FS, output="sos")
    x = scipy.signal.sosfilt(sos, rng.standard_normal((3, n)), axis=1) * 50e-6
    x += 1e-6 * rng.standard_normal((3, n))
    t = np.arange(n) / FS
    x += line_v * np.sin(2 * np.pi * 0.6 * t + np.array([[0.0], [0.5], [1.0]]))
    return x


def _found(x):
    f, csd, k = spectral.welch_csd([x], FS, int(32 * FS))
    return lines.extract(f, csd, k)[1]


def test_broad_hump_is_not_a_line_but_a_sinusoid_is():
    assert len(_found(_drift(600, 0))) == 0
    got = _found(_drift(600, 0, line_v=30e-6))
    assert len(got) == 1 and abs(got[0] - 0.6) < 0.03


def test_feature_group_auc_names_the_giveaway():
    """Heavy-tailed synthetic noise (Student t, 3 dof) against Gaussian recorded noise of the
    same spectrum: kurtosis alone tells them apart best."""
    from noise_profiles.sessions import make_raw
    from noise_profiles.validation import feature_group_auc

    rng = np.random.default_rng(0)
    raw = make_raw(rng.standard_normal((1, int(60 * FS))) * 1e-5, FS, "rest", ["a"], [None])

    class Peaky:
        def sample(self, n_times, sfreq, activity=None, random_state=None):
            r = np.random.default_rng(random_state.integers(2**31))
            return (r.standard_t(3, (1, n_times)) / np.sqrt(3.0) * 1e-5).astype(np.float32)

    out = feature_group_auc(Peaky(), raw, "rest", random_state=1)
    assert out["all"] > 0.8 and out["kurtosis"][1] > 0.8
    assert out["kurtosis"][0] < out["all"]
    assert out["kurtosis"][1] > out["power 5-15 Hz"][1] + 0.1
