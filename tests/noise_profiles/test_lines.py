"""Quasi-periodic lines: a sinusoid is kept as one, a broad low-frequency hump is not."""

from __future__ import annotations

import numpy as np
import scipy.ndimage
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


def _mains(seconds, seed, depth):
    """A 50-Hz line (three channels) whose level wanders by ``depth`` RMS, plus white noise."""
    fs, rng = 500.0, np.random.default_rng(seed)
    n = int(seconds * fs)
    sos = scipy.signal.butter(1, 0.1, fs=fs, output="sos")
    s = scipy.signal.sosfilt(sos, rng.standard_normal(n + 20000))[20000:]
    a = np.array([1.0, 0.5 + 0.5j, -0.7]) * 8e-6
    t = np.arange(n) / fs
    x = np.real(a[:, None] * np.exp(2j * np.pi * 50.0 * t)) * (1 + depth * s / s.std())
    return x + 3e-6 * rng.standard_normal((3, n)), a, fs


def test_mains_level_wander_is_measured_and_drawn():
    grid = np.fft.rfftfreq(lines.LEVEL_NFFT, 1.0 / lines.LEVEL_SFREQ)
    x, a, fs = _mains(300, 0, 0.2)
    psd = lines.fit_level_psd([x], fs, np.array([50.0]), a[None])
    var = np.sum(psd[1:]) * grid[1]
    assert 0.7 * 0.04 < var < 1.2 * 0.04            # the 0.2 RMS wander (0.8-Hz low-pass)
    m = lines.level(psd, int(600 * fs), fs, np.random.default_rng(1))
    assert abs(np.mean(m ** 2) - 1) < 0.05 and 0.14 < np.std(m) < 0.25
    # a steady line: the background's share is taken out, next to no wander is left
    x, a, fs = _mains(300, 1, 0.0)
    steady = lines.fit_level_psd([x], fs, np.array([50.0]), a[None])
    assert np.sum(steady[1:]) * grid[1] < 0.1 * var
    assert np.all(lines.level(np.zeros_like(psd), 10, fs, np.random.default_rng(0)) == 1)


def test_short_fit_keeps_the_step_rate():
    """20 s of walking-like noise, 4-s frames (0.25-Hz bins): the step fundamental's band
    reaches half its allowed width, so its ring must still hold bins (before: no ring, the
    step rate was lost and its harmonics were drawn without it); nothing is taken for a
    line inside DC's main lobe."""
    rng = np.random.default_rng(3)
    n = int(20 * FS)
    t = np.arange(n) / FS
    f_step = 1.8 * (1 + 0.03 * np.interp(t, np.arange(0, 21, 2.0), rng.standard_normal(11)))
    phase = 2 * np.pi * np.cumsum(f_step) / FS
    wave = sum(np.cos(h * phase + h) / h for h in (1, 2, 3))
    x = 300e-6 * wave * np.array([[1.0], [-0.7], [0.4]]) + _drift(20, 4)
    x += 2e-6 * rng.standard_normal(x.shape)
    f, csd, k = spectral.welch_csd([x], FS, int(4 * FS))
    _, fq, _, a = lines.extract(f, csd, k)
    fund = np.flatnonzero(np.abs(fq - 1.8) < 0.15)
    assert len(fund) == 1
    np.testing.assert_allclose(np.abs(a[fund[0]]), 300e-6 * np.array([1.0, 0.7, 0.4]),
                               rtol=0.2)
    assert not np.any(fq < 4 * (f[1] - f[0]))


def test_family_wander_read_on_its_harmonics():
    """A fundamental narrower than a bin reads as the width floor; harmonic h spreads h
    times wider, so the family's frequency wander follows the widest per-h reading."""
    fq, w = np.array([1.8, 3.6]), np.array([0.06, 0.24])
    a = np.array([[100e-6], [50e-6]], complex)
    y = lines.synthesize(fq, w, a, int(400 * FS), FS, np.random.default_rng(0),
                         np.array([0, 0]), np.array([1, 2]))
    sos = scipy.signal.butter(2, [1.4, 2.2], "bandpass", fs=FS, output="sos")
    z = scipy.signal.hilbert(scipy.signal.sosfiltfilt(sos, y[0]))
    inst_hz = np.diff(np.unwrap(np.angle(z)))[400:-400] * FS / (2 * np.pi)
    sd_hz = np.std(scipy.ndimage.uniform_filter1d(inst_hz, int(2 * FS)))
    assert 0.7 * (0.12 / 2.355) < sd_hz < 1.3 * (0.12 / 2.355)     # 0.24 / 2 per h


def test_line_on_the_wander_shoulder_keeps_its_own_pattern():
    """Respiration at 0.24 Hz on the shoulder of the baseline wander (the emulator's rest,
    session 21: electrodes against a shared reference, so the wander has a common part).
    The background under the line is interpolated between both sides of its ring. Read on
    its quiet upper side alone (the lower side stands 6 dB higher: taken for a neighbour),
    the wander's common part went into the line's channel pattern: weak channels came out
    up to 12 uV too loud (the classifier then told rest s21 apart at 0.60, now 0.50)."""
    from acquisition.activity_noise import ActivityNoise

    fs = 500.0
    gen = ActivityNoise("rest", 8, fs, random_state=21)
    x = gen.read(int(300 * fs))
    # the emulator's own respiration pattern is the truth: amplitude x (w_k - w_ref)
    truth = 25e-6 * (gen._w_resp[1:] - gen._w_resp[0])
    f, csd, k = spectral.welch_csd([x], fs, int(32 * fs))
    _, fq, _, a = lines.extract(f, csd, k, exclude_hz=(50.0, 100.0, 150.0, 200.0))
    i = int(np.argmin(np.abs(fq - 0.25)))
    assert abs(fq[i] - 0.24) < 0.03
    got = np.real(a[i] * np.exp(-1j * np.angle(a[i][0]))) * np.sign(truth[0])
    err = np.abs(got - truth)
    assert err.max() < 5e-6 and err.mean() < 2.5e-6           # CSD one-sided: 12 / 6 uV
