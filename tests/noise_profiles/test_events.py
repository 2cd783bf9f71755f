"""Event detection (flat lines, railing, baseline steps) against signals with known events."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from acquisition.activity_noise import synthesize
from noise_profiles import events

SFREQ = 500.0


def _noise(n_ch, seconds, seed, clear=()):
    """AR(1) noise (1e-5 V innovations) plus motion bursts that come back to baseline,
    none within 1 s of the samples in ``clear`` (where the tests put steps)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SFREQ)
    x = scipy.signal.lfilter([1], [1, -0.9], rng.standard_normal((n_ch, n))) * 1e-5
    t = np.arange(int(0.4 * SFREQ)) / SFREQ
    burst = np.hanning(t.size) * np.sin(2 * np.pi * 3 * t)          # 0.4-s motion transient
    starts = rng.integers(0, n - t.size, (n_ch, int(seconds / 4)))
    for k in clear:
        starts[np.abs(starts + t.size // 2 - k) < SFREQ] = 0
    for c in range(n_ch):
        for t0 in starts[c]:
            x[c, t0:t0 + t.size] += rng.uniform(5e-4, 2e-3) * burst
        for t0 in rng.integers(0, n - 1, int(seconds / 4)):         # one-sample spikes
            x[c, t0] += rng.choice([-1, 1]) * 5e-4
    return x


def _add_step(x, c, t0, size, tau_s):
    x[c, t0:] += size * np.exp(-np.arange(x.shape[1] - t0) / (tau_s * SFREQ))


def _of(kind, evs):
    return sorted((e for e in evs if e["kind"] == kind), key=lambda e: e["start"])


def test_known_steps_found_with_size_and_decay_and_nothing_else():
    truth = [(0, 10_000, 4e-4, 2.0), (1, 25_000, -6e-4, 0.5), (2, 40_000, 1e-3, 5.0),
             (0, 52_000, -3e-4, 1.0)]
    x = _noise(3, 120, seed=1, clear=[t0 for _, t0, *_ in truth] + [33_000])
    for c, t0, size, tau in truth:
        _add_step(x, c, t0, size, tau)
    _add_step(x, 1, 33_000, 5e-4, 2.0)                 # the same step on two channels at once
    _add_step(x, 2, 33_001, 5e-4, 2.0)
    evs, exclude = events.detect(x, SFREQ)
    steps = _of("step", evs)
    assert not exclude.any() and len(evs) == len(steps) == 5
    single = [e for e in steps if e["mask"].sum() == 1]
    for e, (c, t0, size, tau) in zip(single, truth):
        assert abs(e["start"] - t0) <= 2 and np.flatnonzero(e["mask"]).tolist() == [c]
        assert e["value"][c] == pytest.approx(size, rel=0.15)
        assert e["decay_s"] == pytest.approx(tau, rel=0.35)
    both = [e for e in steps if e["mask"].sum() == 2][0]
    assert abs(both["start"] - 33_000) <= 2 and both["mask"].tolist() == [False, True, True]
    assert both["value"][1:] == pytest.approx([5e-4, 5e-4], rel=0.15)


def test_removing_detected_steps_gives_back_the_noise():
    clean = _noise(2, 60, seed=6, clear=[8_000, 20_000])
    x = clean.copy()
    _add_step(x, 0, 8_000, 1e-3, 1.5)
    _add_step(x, 1, 20_000, -8e-4, 0.8)
    evs, _ = events.detect(x, SFREQ)
    assert len(evs) == 2
    left = events.remove_steps(x, evs, SFREQ) - clean
    # what is left: the small error of the estimated size and time constant
    assert np.sqrt(np.mean(left ** 2)) < 0.1 * np.sqrt(np.mean((x - clean) ** 2))
    assert np.abs(left[:, -1000:]).max() < 1e-6       # decays are cut only after 40 tau


def test_bursts_and_spikes_alone_are_not_steps():
    evs, exclude = events.detect(_noise(3, 120, seed=2), SFREQ)
    assert evs == [] and not exclude.any()
    # the bursty emulator arm movement: hundreds of motion bursts, no baseline steps
    x = synthesize("arm_movement", 4, int(120 * SFREQ), SFREQ, 3)
    evs, _ = events.detect(x, SFREQ)
    assert len(_of("step", evs)) <= 1


def test_dropouts_and_railing_exact_extent_and_level():
    x = _noise(2, 60, seed=3)
    drops = [(0, 2_000, 100), (0, 9_000, 400), (1, 15_000, 60)]      # 0.2, 0.8, 0.12 s
    for c, a, k in drops:
        x[c, a:a + k] = x[c, a - 1]
    rail = x[1].max() + 1e-3
    for a in (5_000, 20_000):
        x[1, a:a + 15] = rail                                       # 30 ms at the rail
    x[0, 25_000:25_020] = x[0, 24_999]                              # 40 ms flat: too short
    evs, exclude = events.detect(x, SFREQ)
    flat, railed = _of("flat", evs), _of("rail", evs)
    got = sorted((int(np.flatnonzero(e["mask"])[0]), e["start"], e["stop"] - e["start"])
                 for e in flat)
    assert got == sorted((c, a - 1, k + 1) for c, a, k in drops)   # the held sample is in it
    assert [(e["start"], e["stop"]) for e in railed] == [(5_000, 5_015), (20_000, 20_015)]
    assert all(e["value"][1] == pytest.approx(rail - np.median(x[1])) for e in railed)
    want = np.zeros(x.shape[1], bool)
    for e in flat + railed:
        want[e["start"]:e["stop"]] = True
    assert np.array_equal(exclude, want) and exclude.sum() == 101 + 401 + 61 + 2 * 15


def test_quantized_signal_repeats_values_without_dropouts():
    # a coarse ADC repeats sample values all the time; only the real dropout is an event
    x = np.round(_noise(2, 60, seed=4) / 2e-6) * 2e-6
    x[1, 10_000:10_200] = x[1, 9_999]
    evs, _ = events.detect(x, SFREQ)
    assert [(e["kind"], e["start"], e["stop"]) for e in evs] == [("flat", 9_999, 10_200)]


def test_step_near_a_dropout_or_the_end_is_left_alone():
    x = _noise(1, 30, seed=5)
    _add_step(x, 0, 5_000, 8e-4, 2.0)
    x[0, 5_010:5_100] = x[0, 5_009]                  # dropout right after the step
    _add_step(x, 0, x.shape[1] - 40, 8e-4, 2.0)      # too close to the end to see it hold
    evs, _ = events.detect(x, SFREQ)
    assert [e["kind"] for e in evs] == ["flat"]


def _reference_steps(x, sfreq, exclude):
    """The step rules of ``events`` written as a plain loop over candidate samples."""
    w = max(int(events.STEP_WIN_S * sfreq), 2)
    hold_stop = int(events.STEP_HOLD_S * sfreq)
    out = []
    for c, xc in enumerate(x):
        d = np.diff(xc)
        sigma = 1.4826 * np.median(np.abs(d - np.median(d)))
        last = -10 * w
        for t in range(w, len(xc) - w + 1):
            if abs(d[t - 1]) <= events.STEP_K * sigma or exclude[t - w:t + w].any():
                continue
            pre, post = xc[t - w:t], xc[t:t + w]
            jump = np.median(post) - np.median(pre)
            mad = (np.median(np.abs(pre - np.median(pre)))
                   + np.median(np.abs(post - np.median(post)))) * 1.4826 / 2
            hold = xc[t + w:t + hold_stop]
            if (abs(jump) < 0.5 * abs(d[t - 1]) or abs(jump) < events.STEP_LEVEL_K * mad
                    or len(hold) < w or (np.median(hold) - np.median(pre)) / jump < 0.6
                    or t - last < w):
                continue
            out.append((c, t, jump))
            last = t
    return out


def test_vectorized_steps_match_a_plain_loop_on_bursty_noise():
    x = synthesize("arm_movement", 3, int(40 * SFREQ), SFREQ, 11)
    rng = np.random.default_rng(0)
    for t0 in rng.integers(1_000, x.shape[1] - 1_000, 8):
        c = int(rng.integers(3))
        _add_step(x, c, int(t0), rng.choice([-1, 1]) * 15 * np.std(np.diff(x[c])) * 10, 1.0)
    x[1, 7_000:7_300] = x[1, 6_999]
    evs, exclude = events.detect(x, SFREQ)
    got = sorted((int(np.flatnonzero(e["mask"])[k]), e["start"], e["value"][c])
                 for e in _of("step", evs) for k, c in enumerate(np.flatnonzero(e["mask"])))
    want = sorted(_reference_steps(x, SFREQ, exclude))
    assert len(want) >= 6
    assert [(c, t) for c, t, _ in got] == [(c, t) for c, t, _ in want]
    assert np.allclose([j for *_, j in got], [j for *_, j in want])
