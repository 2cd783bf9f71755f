"""Helpers of the noise_profiles tests: short emulator-like noise sessions."""

from __future__ import annotations

from noise_profiles.sessions import make_raw
from noise_profiles.simulate import activity_noise

SFREQ = 250.0
CH = ["I", "II", "V1"]


def session_pair(activity, seconds=120, seed=0, n_ch=3):
    """One recording of ``seconds``, cut into a fitting half and a held-out half (Raw)."""
    x = activity_noise(activity, n_ch, int(seconds * SFREQ), SFREQ, random_state=seed)
    h = x.shape[1] // 2
    return (make_raw(x[:, :h], SFREQ, activity, CH[:n_ch], CH[:n_ch]),
            make_raw(x[:, h:], SFREQ, activity, CH[:n_ch], CH[:n_ch]))

