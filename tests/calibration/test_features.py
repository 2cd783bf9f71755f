"""Record features: values against hand-computed references, single-lead and lead subsets."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.features import extract_features, feature_names
from shirtecg_common.errors import UserError

SF = 250.0


def _col(names, name):
    return names.index(name)


def test_band_powers_of_sines():
    """A 10 Hz sine of amplitude a has power a²/2, all of it in the 5–15 Hz band; mains found."""
    t = np.arange(int(8 * SF)) / SF
    a, m = 0.8, 0.05
    x = (a * np.sin(2 * np.pi * 10 * t) + m * np.sin(2 * np.pi * 50 * t))[None, None]
    f, names = extract_features(x, SF, ["II"], mains_hz=50.0)
    assert f[0, _col(names, "II:bp_5-15")] == pytest.approx(np.log10(a**2 / 2), abs=0.02)
    assert f[0, _col(names, "II:bp_mains")] == pytest.approx(np.log10(m**2 / 2), abs=0.02)
    assert f[0, _col(names, "II:bp_0.7-5")] < np.log10(a**2 / 2) - 3
    # 1-s RMS of the sum is constant: sqrt(a²/2 + m²/2).
    rms = np.log10(np.sqrt(a**2 / 2 + m**2 / 2))
    for q in ("p10", "p50", "p90"):
        assert f[0, _col(names, f"II:rms1s_{q}")] == pytest.approx(rms, abs=0.01)


def test_qrs_amplitude_and_kurtosis_of_spike_train():
    """Narrow 1.5 mV spikes at 1 Hz: QRS peak-to-peak ≈ spike size; strongly positive kurtosis."""
    n = int(10 * SF)
    x = np.zeros(n)
    k = np.arange(-5, 6)
    for c in range(100, n - 100, int(SF)):
        x[c + k] += 1.5 * np.exp(-0.5 * (k / 2.0) ** 2)
    f, names = extract_features(x[None, None], SF, ["V2"])
    qrs = 10 ** f[0, _col(names, "V2:qrs_amp")]
    assert 0.8 < qrs < 1.6  # band-limited to 40 Hz, so a bit below the raw 1.5 mV
    assert f[0, _col(names, "V2:kurtosis")] > np.log1p(5)


def test_lead_subset_and_correlation():
    """Three leads → per-lead features plus three correlations; identical leads correlate 1."""
    rng = np.random.default_rng(0)
    base = rng.standard_normal((4, 1, int(6 * SF)))
    other = rng.standard_normal((4, 1, int(6 * SF)))
    x = np.concatenate([base, -base, other], axis=1)
    f, names = extract_features(x, SF, ["I", "aVR", "V1"])
    assert names == feature_names(["I", "aVR", "V1"], sfreq=SF)
    assert f.shape == (4, len(names))
    assert np.allclose(f[:, _col(names, "corr:I-aVR")], -1.0, atol=1e-6)
    assert np.all(np.abs(f[:, _col(names, "corr:I-V1")]) < 0.2)


def test_records_of_different_lengths():
    """A list of records of different lengths gives one row each, in order."""
    rng = np.random.default_rng(1)
    recs = [rng.standard_normal((1, int(s * SF))) * g for s, g in ((5, 1.0), (7, 2.0), (5, 4.0))]
    f, names = extract_features(recs, SF, ["II"])
    p50 = f[:, _col(names, "II:rms1s_p50")]
    assert np.all(np.diff(p50) > 0.2)  # gains 1, 2, 4 in order


def test_bad_records():
    """Too short, NaN, or a lead-count mismatch: errors that say what is wrong."""
    with pytest.raises(UserError, match="at least 4 s"):
        extract_features(np.zeros((1, 1, 100)), SF, ["II"])
    x = np.zeros((1, 1, int(5 * SF)))
    x[0, 0, 3] = np.nan
    with pytest.raises(UserError, match="NaN"):
        extract_features(x, SF, ["II"])
    with pytest.raises(UserError, match="lead names"):
        extract_features(np.zeros((1, 2, int(5 * SF))), SF, ["II"])
