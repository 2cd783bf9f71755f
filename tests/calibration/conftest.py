"""Fixtures of the calibration tests: reference test-signal recordings and session files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import signal

VPC = 2.4 / 6 / (2**23 - 1)  # the shirt's nominal scale (ADS1298 gain 6, vref 2.4 V)


def square_recording(seconds=12.0, sfreq=500.0, freq_hz=1.0, amplitude_mv=1.0, vpc=VPC,
                     highpass_hz=None, lowpass_hz=None, noise_uv=10.0, drift_uv=200.0,
                     n_glitches=5, offset_counts=1234.0, phase=0.237, seed=0, oversample=16):
    """Counts of a square wave through an analog first-order band-pass, written independently
    of the package: the analog filter is discretized (bilinear) on a 16× finer grid, started
    in steady state, then sampled; noise, a slow sine drift and big one-sample glitches added.
    """
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sfreq))
    fs = sfreq * oversample
    pre = int(round((10.0 / highpass_hz if highpass_hz else 0.0) * fs))
    t = np.arange(-pre, n * oversample) / fs
    sq = np.where(((t * freq_hz + phase) % 1.0) < 0.5, 0.5, -0.5) * amplitude_mv
    num, den = np.array([1.0]), np.array([1.0])
    if highpass_hz:
        num, den = np.polymul(num, [1.0, 0.0]), np.polymul(den, [1.0, 2 * np.pi * highpass_hz])
    if lowpass_hz:
        num = np.polymul(num, [2 * np.pi * lowpass_hz])
        den = np.polymul(den, [1.0, 2 * np.pi * lowpass_hz])
    if highpass_hz or lowpass_hz:
        b, a = signal.bilinear(num, den, fs)
        sq = signal.lfilter(b, a, sq)
    mv = sq[pre:][::oversample]
    tt = np.arange(n) / sfreq
    mv = mv + drift_uv * 1e-3 * np.sin(2 * np.pi * 0.05 * tt + 1.0)
    mv = mv + rng.normal(0.0, noise_uv * 1e-3, n)
    counts = mv * 1e-3 / vpc + offset_counts
    where = rng.choice(n, n_glitches, replace=False)
    counts[where] += rng.choice([-1.0, 1.0], n_glitches) * 50 * amplitude_mv * 1e-3 / vpc
    return counts


def write_session(path, volts, sfreq, *, vpc, ch_names, leads, annotations=()):
    """Write a FIF session following the contract (volts, description JSON, annotations)."""
    import mne

    info = mne.create_info(list(ch_names), sfreq, ch_types="ecg")
    raw = mne.io.RawArray(np.asarray(volts, float), info, verbose="error")
    meta = {
        "device": "test-shirt", "firmware": "0", "format": "shirt-v1", "sfreq": sfreq,
        "volts_per_count": [float(v) for v in np.broadcast_to(vpc, (len(ch_names),))],
        "channels": [{"name": c, "lead": lead} for c, lead in zip(ch_names, leads)],
        "counts": {k: 0 for k in ("frames", "crc_errors", "resyncs", "junk_bytes",
                                  "lost_samples", "reconnects")},
        "gaps": [], "protocol": [], "schema": "shirtecg-session/1",
    }
    raw.info["description"] = json.dumps(meta)
    if annotations:
        raw.set_annotations(mne.Annotations(*zip(*annotations)))
    raw.save(path, overwrite=True, verbose="error")
    return path


@pytest.fixture
def make_square():
    """The :func:`square_recording` generator."""
    return square_recording
