"""NoiseProfile: estimator conventions, sampling, rates, seams, repetition, banks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from noise_profiles import NoiseBank, NoiseProfile, fit, validate
from noise_profiles.sessions import make_raw
from shirtecg_common.errors import UserError

from np_sessions import SFREQ


def test_estimator_conventions(walking_profile):
    prof, train, _ = walking_profile
    est = NoiseProfile(smoothing=0.1)
    assert est.get_params()["smoothing"] == 0.1
    assert not hasattr(est, "models_")
    with pytest.raises(NotFittedError):
        est.sample(100, SFREQ)
    assert est.fit(train) is est                       # fit returns self
    fitted = [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]
    assert {"activities_", "ch_names_", "ch_leads_", "sfreq_", "units_", "models_",
            "provenance_"} <= set(fitted)
    assert est.units_ == "V" and est.sfreq_ == SFREQ and est.ch_leads_ == ["I", "II", "V1"]
    c = clone(est)
    assert c.get_params() == est.get_params() and not hasattr(c, "models_")


def test_gap_is_skipped_and_activities_split(two_activity_fif):
    prof = fit(two_activity_fif[0])
    assert prof.activities_ == ["rest", "walking"]
    assert prof.provenance_[0]["sha256"] and len(prof.provenance_[0]["sha256"]) == 64
    # the 0.5-s gap is gone from the fitted duration, and nothing is NaN
    assert prof.models_["rest"]["duration_s"] == pytest.approx(39.5, abs=0.01)
    x = prof.sample(1000, SFREQ, activity="rest", random_state=0)
    assert np.all(np.isfinite(x))
    with pytest.raises(UserError, match="several activities"):
        prof.sample(100, SFREQ)
    with pytest.raises(UserError, match="'running' is not in this profile"):
        prof.sample(100, SFREQ, activity="running")
    with pytest.raises(UserError, match="'running' has no usable data"):
        fit(two_activity_fif[0], activities=["running"])


def test_sample_shapes_rates_and_nyquist(walking_profile):
    prof = walking_profile[0]
    x = prof.sample(1234, SFREQ, random_state=0)
    assert x.shape == (3, 1234) and x.dtype == np.float32
    assert np.array_equal(x, prof.sample(1234, SFREQ, random_state=0))
    assert not np.array_equal(x, prof.sample(1234, SFREQ, random_state=1))
    # a lower rate keeps the power below its Nyquist
    lo = prof.sample(int(100 * 60), 100.0, random_state=2).astype(float)
    hi = prof.sample(int(SFREQ * 60), SFREQ, random_state=3).astype(float)
    f, p_lo = scipy.signal.welch(lo, 100.0, nperseg=400)
    f2, p_hi = scipy.signal.welch(hi, SFREQ, nperseg=1000)
    band = (f > 2) & (f < 40)
    band2 = (f2 > 2) & (f2 < 40)
    ratio_db = 10 * np.log10(p_lo[:, band].mean(1) / p_hi[:, band2].mean(1))
    assert np.all(np.abs(ratio_db) < 1.5)
    with pytest.raises(UserError, match="Nyquist"):
        prof.sample(100, 2 * SFREQ)
    up = prof.sample(int(2 * SFREQ * 20), 2 * SFREQ, random_state=0, allow_empty_band=True)
    f3, p_up = scipy.signal.welch(up.astype(float), 2 * SFREQ, nperseg=1000)
    empty = p_up[:, f3 > SFREQ / 2 + 2].mean()
    assert empty < 1e-6 * p_up[:, (f3 > 5) & (f3 < 40)].mean()


def test_no_seams_and_no_repetition(walking_profile):
    prof, train, _ = walking_profile
    x = prof.sample(int(SFREQ * 300), SFREQ, random_state=4).astype(float)   # 5 min
    d = np.abs(np.diff(x, axis=1))
    robust = np.median(d, axis=1, keepdims=True)
    assert np.max(d / robust) < 60            # no jump where blocks would meet
    rec = train.get_data()[0]
    syn = x[0, : len(rec) * 2]
    # no stretch of the recording comes back: normalized cross-correlation stays small
    xc = scipy.signal.correlate(syn - syn.mean(), rec - rec.mean(), mode="valid", method="fft")
    norm = np.sqrt(np.sum((rec - rec.mean()) ** 2) *
                   np.convolve((syn - syn.mean()) ** 2, np.ones(len(rec)), "valid"))
    assert np.max(np.abs(xc / norm)) < 0.3
    # and the synthesis does not repeat itself
    h = x[0, : int(SFREQ * 200)]
    ac = scipy.signal.correlate(h - h.mean(), h - h.mean(), method="fft")[len(h) - 1:]
    ac /= ac[0]
    assert np.max(np.abs(ac[int(SFREQ * 30):])) < 0.3


def test_noise_bank_crops(walking_profile):
    prof = walking_profile[0]
    bank = prof.noise_bank(SFREQ, seconds=20, random_state=0)
    assert isinstance(bank, NoiseBank)
    assert bank.data.shape == (3, int(20 * SFREQ)) and bank.data.dtype == np.float32
    assert bank.ch_names == ["I", "II", "V1"] and bank.activity == "walking"
    rng = np.random.default_rng(0)
    a, b = bank.crop(500, rng), bank.crop(500, rng)
    assert a.shape == (3, 500) and not np.array_equal(a, b)
    with pytest.raises(UserError, match="cannot crop"):
        bank.crop(int(30 * SFREQ), rng)


def test_events_detected_and_reinjected():
    rng = np.random.default_rng(0)
    n = int(120 * SFREQ)
    x = scipy.signal.lfilter([1], [1, -0.9], rng.standard_normal((2, n))) * 1e-5
    x[0, int(60 * SFREQ):] += 2e-4 * np.exp(-np.arange(n - int(60 * SFREQ)) / (0.8 * SFREQ))
    flat_starts = np.arange(5, 115, 20) * int(SFREQ)        # 6 dropouts of 0.4 s
    for s in flat_starts:
        x[0, s:s + int(0.4 * SFREQ)] = x[0, s - 1]
    rail = x.max() * 3
    for s in flat_starts + int(8 * SFREQ):                   # 6 railings of 0.2 s
        x[1, s:s + int(0.2 * SFREQ)] = rail
    prof = fit(make_raw(x, SFREQ, "sitting"))
    s = prof.models_["sitting"]
    kinds = list(s["event_kind"])
    assert kinds.count(0) == 6 and kinds.count(1) == 6 and kinds.count(2) == 1
    assert np.allclose(s["event_duration_s"][s["event_kind"] == 0], 0.4, atol=0.01)
    step = s["event_value"][s["event_kind"] == 2][0]
    assert step[0] == pytest.approx(2e-4, rel=0.15)
    assert s["event_rate_per_s"] == pytest.approx(13 / 120, rel=1e-6)
    y = prof.sample(int(600 * SFREQ), SFREQ, random_state=0).astype(float)
    runs = np.diff(np.flatnonzero(np.diff(y[1]) != 0))
    assert np.sum(runs >= 0.15 * SFREQ) >= 5                 # rails came back
    no_ev = NoiseProfile(events=False).fit(make_raw(x, SFREQ, "sitting"))
    assert len(no_ev.models_["sitting"]["event_kind"]) == 0


def test_var_model_samples(walking_profile):
    _, train, test = walking_profile
    prof = fit(train, model="var", var_max_order=12)
    s = prof.models_["walking"]
    assert s["var_coefs_high"].shape[1:] == (3, 3) and 1 <= s["var_coefs_high"].shape[0] <= 12
    x = prof.sample(int(SFREQ * 30), SFREQ, random_state=0)
    ref = test.get_data()
    ratio = x.std(axis=1) / ref.std(axis=1)
    assert np.all((ratio > 0.6) & (ratio < 1.6))


def test_step_waveform_keeps_its_harmonic_phases():
    # a step-locked artefact: fundamental + 2nd harmonic with a fixed relative phase
    # (a skewed, non-sinusoidal waveform), slowly wandering step rate, plus noise
    rng = np.random.default_rng(5)
    n = int(240 * SFREQ)
    t = np.arange(n) / SFREQ
    wander = np.cumsum(scipy.signal.lfilter([0.002], [1, -0.998], rng.standard_normal(n)))
    phi = 2 * np.pi * 1.8 * t + 0.02 * wander
    art = np.cos(phi) + 0.6 * np.cos(2 * phi + 1.0)
    x = 1e-4 * (np.stack([art, -0.5 * art]) + 0.05 * rng.standard_normal((2, n)))
    prof = fit(make_raw(x, SFREQ, "walking"))
    s = prof.models_["walking"]
    fam, h = s["qp_family"], s["qp_harmonic"]
    i1 = np.flatnonzero((np.abs(s["qp_freqs_hz"] - 1.8) < 0.05))[0]
    i2 = np.flatnonzero((np.abs(s["qp_freqs_hz"] - 3.6) < 0.1))[0]
    assert fam[i1] == fam[i2] and h[i1] == 1 and h[i2] == 2
    # relative phase of harmonic 2 against twice the fundamental's: the recorded 1.0 rad
    a = s["qp_amplitudes"]
    rel = np.angle(a[i2, 0] / a[i1, 0] ** 2 * abs(a[i1, 0]) ** 2)
    assert abs(np.angle(np.exp(1j * (rel - 1.0)))) < 0.2
    # and the synthesized waveform keeps the skew that independent phases would lose
    y = prof.sample(n, SFREQ, random_state=0).astype(float)
    from scipy import stats
    assert stats.skew(y[0]) == pytest.approx(stats.skew(x[0]), abs=0.15)


def test_fragmented_session_still_fits():
    # a link that drops a packet every ~0.6 s: short stretches between BAD_acq_gap marks
    import mne

    rng = np.random.default_rng(6)
    n = int(60 * SFREQ)
    x = scipy.signal.lfilter([1], [1, -0.95], rng.standard_normal((2, n))) * 1e-5
    starts = np.arange(100, n - 10, 150)
    for s0 in starts:
        x[:, s0:s0 + 3] = np.nan
    raw = make_raw(x, SFREQ, None)
    raw.set_annotations(mne.Annotations(
        [0.0, *(starts / SFREQ)], [n / SFREQ, *([3 / SFREQ] * len(starts))],
        ["sitting", *(["BAD_acq_gap"] * len(starts))]))
    prof = fit(raw)
    s = prof.models_["sitting"]
    assert s["freqs"][1] <= 0.1          # lag products over the gaps keep a fine grid
    assert s["duration_s"] == pytest.approx((n - 3 * len(starts)) / SFREQ, abs=0.05)
    y = prof.sample(int(20 * SFREQ), SFREQ, random_state=0).astype(float)
    finite = x[:, np.all(np.isfinite(x), axis=0)]
    np.testing.assert_allclose(y.std(axis=1), finite.std(axis=1), rtol=0.35)
    rep = validate(prof, raw)
    assert rep.summary["sitting"]["window_s"] < 1.0     # shortened to the stretches
