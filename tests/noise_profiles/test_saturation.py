"""Amplifier rails: found as pile-ups at the ends of the amplitude distribution, clipped at."""

from __future__ import annotations

import numpy as np
from scipy import stats

from noise_profiles import fit, noise_from_ecg, saturation
from noise_profiles.cli import main
from noise_profiles.recordings import read_recording
from noise_profiles.sessions import make_raw
from noise_profiles.simulate import activity_noise

from np_sessions import CH, SFREQ


def _clipped(x, lo, hi, seed=0, jitter=0.004):
    """``x`` clipped at ``lo``/``hi`` with a saturated ADC's jitter on the rails."""
    rng = np.random.default_rng(seed)
    y = np.clip(x, lo, hi)
    at = (y <= lo) | (y >= hi)
    return np.where(at, y + jitter * (hi - lo) * rng.uniform(-1, 1, y.shape), y)


def test_rails_found_where_the_samples_pile_up():
    rng = np.random.default_rng(1)
    g = rng.standard_normal((3, 60000))
    assert not saturation.rails(g)[1].any()                    # a Gaussian tail thins out
    y = _clipped(g, -1.6, 2.0)
    y[1] = np.clip(g[1], None, 1.8)                            # channel 1: a high rail only
    y[2, ::997] += 3.0                                         # spikes poke beyond the rail
    levels, found = saturation.rails(y)
    assert found[0].all() and found[2].all()
    assert list(found[1]) == [False, True]
    np.testing.assert_allclose(levels[0], [-1.6, 2.0], atol=0.03)
    assert abs(levels[2, 1] - 2.0) < 0.03                      # not the spikes' 5.0


def test_rail_events_give_way_to_clipping():
    state = dict(rail_on=np.array([[1.0, 1.0], [0.0, 0.0]]), rail_v=np.ones((2, 2)))
    ev = [dict(kind="rail", mask=np.array([True, False])),
          dict(kind="rail", mask=np.array([False, True])),
          dict(kind="flat", mask=np.array([True, False]))]
    kept = saturation.not_at_rails(ev, state)
    assert [e["kind"] for e in kept] == ["rail", "flat"] and kept[0]["mask"][1]


def test_profile_clips_like_the_recording(tmp_path, capsys):
    """A clipped session: the synthetic noise stays inside the rails and comes back as
    platykurtic as the recording (unclipped synthesis: Gaussian, kurtosis ~3)."""
    x = activity_noise("walking", 3, int(240 * SFREQ), SFREQ, random_state=4)
    x = x / x.std(axis=1, keepdims=True) * 1e-3                 # 1 mV RMS
    y = _clipped(x, -1.4e-3, 1.6e-3, seed=2)
    h = y.shape[1] // 2
    prof = fit(make_raw(y[:, :h], SFREQ, "walking", CH, CH))
    state = prof.models_["walking"]
    assert state["rail_on"].all()
    syn = np.concatenate([prof.sample(h, SFREQ, random_state=s) for s in range(3)], axis=1)
    mean = y[:, :h].mean(axis=1, keepdims=True)
    assert np.all(syn >= -1.4e-3 - mean - 1e-5) and np.all(syn <= 1.6e-3 - mean + 1e-5)
    k_rec = stats.kurtosis(y[:, h:], axis=1, fisher=False)
    k_syn = stats.kurtosis(syn, axis=1, fisher=False)
    assert np.all(k_rec < 2.8)
    # the Gaussian part is fitted on the clipped recording, so less of it reaches the
    # rails than of the original: kurtosis comes back 0-13 % high (unclipped: ~35 %)
    assert np.all(np.abs(k_syn - k_rec) / k_rec < 0.15)
    prof.models_["walking"] = dict(state, rail_on=np.zeros((3, 2)))
    free = np.concatenate([prof.sample(h, SFREQ, random_state=s) for s in range(3)], axis=1)
    k_free = stats.kurtosis(free, axis=1, fisher=False)
    assert np.all(np.abs(k_syn - k_rec) < 0.5 * np.abs(k_free - k_rec))
    # `profile show` names the rails of each channel, in mV about the noise's mean
    prof.models_["walking"] = state
    prof.save(tmp_path / "clipped.yaml")
    capsys.readouterr()
    assert main(["profile", "show", str(tmp_path / "clipped.yaml")]) == 0
    row = capsys.readouterr().out.splitlines()[-1]
    low, high = 1e3 * (-1.4e-3 - mean[0, 0]), 1e3 * (1.6e-3 - mean[0, 0])
    assert f"{CH[0]} {low:+.2f}/{high:+.2f}" in row


def test_real_dry_running_kurtosis(shared_data):
    """Dry electrodes, running: 10 % of the samples at the AD8232's rails."""
    raw = read_recording(shared_data / "wearable_motion_artifacts" / "03" / "03_02_beh.csv")
    x = noise_from_ecg(raw)[0].get_data()
    h = x.shape[1] // 2
    prof = fit(make_raw(x[:, :h], 500.0, "running"))
    assert prof.models_["running"]["rail_on"].any()
    k_ref = stats.kurtosis(x[0, h:], fisher=False)
    k = [stats.kurtosis(prof.sample(x.shape[1] - h, 500.0, random_state=s)[0], fisher=False)
         for s in range(4)]
    prof.models_["running"] = dict(prof.models_["running"], rail_on=np.zeros((1, 2)))
    k_free = [stats.kurtosis(prof.sample(x.shape[1] - h, 500.0, random_state=s)[0],
                             fisher=False) for s in range(4)]
    assert abs(np.mean(k) - k_ref) / k_ref < 0.15
    assert abs(np.mean(k) - k_ref) < abs(np.mean(k_free) - k_ref)
def test_railed_marks_runs_on_the_rails():
    import scipy.signal

    rng = np.random.default_rng(3)
    g = scipy.signal.sosfiltfilt(scipy.signal.butter(2, 0.02, output="sos"),
                                 rng.standard_normal((2, 20000)), axis=1)
    g /= g.std(axis=1, keepdims=True)
    y = _clipped(g, -1.5, 1.7, seed=3)
    y[1] = g[1]                                                # no rail on channel 1
    y[0, 100:102] = 1.7                                        # two samples: no run
    y[0, 99], y[0, 102] = 0.0, 0.0
    side = saturation.railed(y)
    assert not side[1].any() and not side[0, 100:102].any()
    assert np.all(side[0][g[0] >= 1.75] == 1) and np.all(side[0][g[0] <= -1.55] == -1)
    assert np.all(side[0][np.abs(g[0]) < 1.3] == 0)


def _railed_ecg(seed, wander_mv, band_hz, lo=-2.5, hi=2.5, seconds=60.0, sfreq=500.0):
    """Beats (R 1.5 mV) on a wander of ``wander_mv`` RMS in ``band_hz`` plus 20-uV noise,
    clipped at the rails with an ADC's jitter on them: (recording, noise, R samples)."""
    import scipy.signal

    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sfreq)) / sfreq
    tb = np.cumsum(rng.uniform(0.75, 0.85, int(seconds * 1.4))) - 0.3
    tb = tb[(tb > 0.3) & (tb < seconds - 0.3)]
    ecg = np.zeros_like(t)
    for a, mu, s in ((1.5, 0.0, 0.008), (-0.4, 0.03, 0.008), (0.3, 0.25, 0.04)):
        ecg += a * np.exp(-0.5 * ((t[:, None] - tb[None, :] - mu) / s) ** 2).sum(axis=1)
    sos = scipy.signal.butter(2, band_hz, "bandpass" if np.ndim(band_hz) else "lowpass",
                              fs=sfreq, output="sos")
    w = scipy.signal.sosfilt(sos, rng.standard_normal(len(t)))
    noise = wander_mv * w / w.std() + 0.02 * rng.standard_normal(len(t))
    return _clipped(ecg + noise, lo, hi, seed), noise, np.round(tb * sfreq).astype(int)


def test_noise_from_ecg_keeps_the_noises_rails(monkeypatch):
    """Motion swings that pin the amplifier: both rails stay in the noise estimate, at
    their level, and in each half wherever the noise itself reached them (the clipping
    model finds them); with the templates subtracted from the railed samples (no rails
    seen on the input) they smear."""
    y, noise, _ = _railed_ecg(1, 1.1, (0.3, 2.0))
    assert saturation.rails(y)[1].all()
    res, _ = noise_from_ecg(y, sfreq=500.0)
    h = len(res) // 2
    levels, found = saturation.rails(res)
    assert found.all()
    np.testing.assert_allclose(levels[0], [-2.5, 2.5], atol=0.03)
    own = _clipped(noise, -2.5, 2.5, seed=9)            # the noise's own rails, half by half
    for part in (slice(0, h), slice(h, None)):
        want = saturation.rails(own[part])[1]
        assert want.any() and np.all(saturation.rails(res[part])[1][want])
    monkeypatch.setattr(saturation, "railed", lambda x, k=3: np.zeros(x.shape, np.int8))
    assert not saturation.rails(noise_from_ecg(y, sfreq=500.0)[0])[1].any()


def test_clipped_qrs_leaves_no_spike():
    """A slow wander lifts some beats' R (1.5 mV) onto the high rail while the noise stays
    off it: there the estimate is the noise (within 0.2 mV), not the rail minus a
    template flattened by the clipped beats."""
    y, noise, r = _railed_ecg(1, 0.5, 0.3, lo=-1.6, hi=1.6, seconds=40.0)
    res, _ = noise_from_ecg(y, sfreq=500.0)
    win = r[:, None] + np.arange(-15, 15)[None, :]
    clipped = (y[r] > 1.55) & np.all(noise[win] < 1.4, axis=1)
    assert np.count_nonzero(clipped) >= 10
    assert np.abs(res - noise)[win[clipped]].max() < 0.2
