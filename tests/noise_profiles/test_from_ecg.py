"""noise_from_ecg on real recordings: beats found, QRS energy removed, noise kept."""

from __future__ import annotations

import numpy as np
import pytest

from noise_profiles import noise_from_ecg
from noise_profiles.recordings import read_recording
from shirtecg_common.errors import UserError


def test_mitbih_100_beats_match_annotations(shared_data):
    import wfdb

    rec = wfdb.rdrecord(str(shared_data / "wfdb_python_samples" / "100"), sampto=360 * 60)
    ann = wfdb.rdann(str(shared_data / "wfdb_python_samples" / "100"), "atr", sampto=360 * 60)
    beats = ann.sample[np.isin(ann.symbol, list("NLRAVaJSFejE/fQ"))]
    noise, info = noise_from_ecg(rec.p_signal.T, sfreq=360.0)
    found = info["r_peaks"]
    tol = int(0.1 * 360)
    hits = sum(np.any(np.abs(found - b) <= tol) for b in beats)
    assert hits / len(beats) > 0.98                         # sensitivity
    assert len(found) <= len(beats) + 2                     # few false detections
    assert info["qrs_energy_ratio"] < 0.1                   # the QRS is gone
    assert noise.shape == rec.p_signal.T.shape
    # the slow noise (baseline wander) is kept: below 0.7 Hz the residual ≈ the input
    import scipy.signal
    sos = scipy.signal.butter(2, 0.7, fs=360.0, output="sos")
    lo_in = scipy.signal.sosfiltfilt(sos, rec.p_signal.T, axis=1)
    lo_out = scipy.signal.sosfiltfilt(sos, noise, axis=1)
    assert np.corrcoef(lo_in[0], lo_out[0])[0, 1] > 0.9


def test_wearable_textile_walk(shared_data):
    raw = read_recording(shared_data / "wearable_motion_artifacts" / "03" / "03_03_chodza.csv")
    noise, info = noise_from_ecg(raw)
    assert 50 < info["heart_rate_bpm"] < 160
    assert info["qrs_energy_ratio"] < 0.2
    assert noise.annotations.description[0] == "walking"
    assert np.all(np.isfinite(noise.get_data()))


def test_errors():
    with pytest.raises(UserError, match="sfreq"):
        noise_from_ecg(np.zeros(5000))
    with pytest.raises(UserError, match="fewer than 3 R peaks"):
        noise_from_ecg(np.zeros(5000), sfreq=500.0)
