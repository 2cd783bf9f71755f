"""Emulator-like activity noise for tests and benchmarks (no hardware needed).

Used when ``acquisition.activity_noise`` (the device emulator's noise) is not available:
baseline wander (respiration ~0.25 Hz plus slow drift), motion artefacts (0.5-5 Hz bursts
locked to steps for walking, arm swings for arm movement), EMG (20-150 Hz, bursty), mains,
front-end white noise, correlated across channels through shared electrode potentials.
Volts, ``(n_ch, n_times)``.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from shirtecg_common.random import check_random_state

#: (wander mV, motion mV, emg mV, burstiness) per activity
ACTIVITIES = {
    "rest": (0.05, 0.0, 0.005, 0.2),
    "sitting": (0.08, 0.02, 0.01, 0.4),
    "walking": (0.15, 0.12, 0.03, 0.8),
    "arm_movement": (0.12, 0.08, 0.06, 1.0),
}


def activity_noise(activity, n_channels, n_times, sfreq, random_state=None, mains_hz=50.0):
    """Synthetic multichannel noise of one activity, in volts."""
    rng = check_random_state(random_state)
    wander, motion, emg, burst = ACTIVITIES[activity]
    t = np.arange(n_times) / sfreq
    n_src = n_channels + 2                      # shared sources -> cross-channel coherence
    mix = rng.normal(0, 1, (n_channels, n_src)) * 0.5 + np.eye(n_channels, n_src)

    def band(lo, hi, n):
        sos = scipy.signal.butter(2, [lo, hi] if lo else hi, "bandpass" if lo else "lowpass",
                                  fs=sfreq, output="sos")
        return scipy.signal.sosfilt(sos, rng.standard_normal((n, n_times)), axis=1)

    def norm(x):
        return x / x.std(axis=1, keepdims=True)

    resp = np.sin(2 * np.pi * rng.uniform(0.2, 0.3) * t + rng.uniform(0, 6.3))
    bw = norm(band(0, 0.5, n_src)) * 0.7 + resp[None] * rng.normal(1, 0.3, (n_src, 1))
    env = np.exp(burst * norm(band(0, 0.3, 1))[0] * 0.3)
    steps = 0.5 * (1 + np.sin(2 * np.pi * 0.9 * t)) ** 2 if activity == "walking" else 1.0
    mot = norm(band(0.5, 5, n_src)) * env * steps
    e = norm(band(20, min(150, sfreq / 2.2), n_src)) * env
    src = wander * bw + motion * mot + emg * e
    x = mix @ src
    x += 0.004 * np.sin(2 * np.pi * mains_hz * t + rng.uniform(0, 6.3, (n_channels, 1)))
    x += 0.003 * rng.standard_normal((n_channels, n_times))
    return (x * 1e-3).astype(np.float64)
