"""FrequencyResponse's high-frequency shelf (dry/textile electrode lead–lag network):
0 dB at low frequency, ``shelf_gain_db`` at high frequency, the analog shape near the corner,
and bit-identical output when the shelf is off."""

from pathlib import Path

import numpy as np
import pytest
from scipy.signal import butter, freqs, freqz

import augment
from augment import leads
from augment.transforms import device
from tests.augment.ecg_fixtures import synthetic_ecg

SFREQ = 20000.0  # far above the shelf, so the bilinear warping near the corner is negligible
SHELF_HZ = 20.0
MOTION_YAML = Path(__file__).resolve().parents[2] / "calibration" / "examples" / "wearable_motion.yaml"


def _impulse_response(t, n, centre):
    imp = np.zeros((1, 12, n), dtype=np.float32)
    imp[0, :, centre] = 1.0
    imp = leads.derive(leads.independent(imp))
    return t(imp, SFREQ, random_state=0)[0, leads.LEADS_12.index("V4")].astype(np.float64)


def _analog_db(f_hz, gain_db, passes):
    """|H(j2πf)| of (1 + s/ωz)/(1 + s/ωp) per pass, ωp = ωz·10^(gain/20/passes), cascaded."""
    g = 10.0 ** (gain_db / passes / 20.0)
    wz = 2 * np.pi * SHELF_HZ
    # g·(s + ωz) / (s + g·ωz): the same network written with a unit DC gain
    _, h = freqs([g, g * wz], [1.0, g * wz], worN=2 * np.pi * np.asarray(f_hz))
    return passes * 20 * np.log10(np.abs(h))


@pytest.mark.parametrize("zero_phase", [False, True])
@pytest.mark.parametrize("gain_db", [3.0, 6.0, 12.0])
def test_shelf_is_0_db_low_and_gain_db_high(gain_db, zero_phase):
    """freqz of the impulse response: 0 dB at 0.5 Hz, ``shelf_gain_db`` at 5 kHz (±0.1 dB),
    and the analog lead–lag magnitude around the corner (±0.05 dB)."""
    n = int(2 * SFREQ)
    # zero-phase filters are two-sided; a causal one starts settled on the first sample, so
    # the impulse comes after a few zeros (the window's phase does not change |H|)
    centre = n // 2 if zero_phase else 10
    order = 2 if zero_phase else 1
    t = device.FrequencyResponse(highpass_hz=None, lowpass_hz=None, highpass_order=order,
                                 zero_phase=zero_phase, shelf_hz=SHELF_HZ, shelf_gain_db=gain_db)
    h = _impulse_response(t, n, centre)
    probe = np.array([0.5, 5.0, SHELF_HZ, 2 * SHELF_HZ, 100.0, 5000.0])
    _, resp = freqz(h, worN=probe, fs=SFREQ)
    db = 20 * np.log10(np.abs(resp))
    assert db[0] == pytest.approx(0.0, abs=0.1)
    assert db[-1] == pytest.approx(gain_db, abs=0.1)
    np.testing.assert_allclose(db, _analog_db(probe, gain_db, 2 if zero_phase else 1), atol=0.05)


def test_shelf_reaches_exactly_gain_at_nyquist_at_a_device_rate():
    """At 500 Hz the response is exactly 0 dB at DC and ``shelf_gain_db`` at Nyquist."""
    t = device.FrequencyResponse(highpass_hz=None, lowpass_hz=None, shelf_hz=SHELF_HZ,
                                 shelf_gain_db=9.0)
    sos = t.sos(500.0)
    b, a = np.array([1.0]), np.array([1.0])
    for sec in sos:
        b, a = np.convolve(b, sec[:3]), np.convolve(a, sec[3:])
    _, resp = freqz(b, a, worN=[0.0, 250.0], fs=500.0)
    np.testing.assert_allclose(20 * np.log10(np.abs(resp)), [0.0, 9.0], atol=1e-9)


@pytest.mark.parametrize("zero_phase", [False, True])
def test_shelf_off_is_bit_identical(zero_phase):
    """No shelf (the default, gain 0 dB, or shelf_hz None) gives the same SOS and samples."""
    x = synthetic_ecg(n_records=2, seconds=2.0)
    order = 2 if zero_phase else 1
    kw = dict(highpass_hz=0.5, lowpass_hz=40.0, highpass_order=order, zero_phase=zero_phase)
    ref = device.FrequencyResponse(**kw)
    if not zero_phase:  # the historical design: plain Butterworth sections, nothing appended
        expected = np.concatenate([butter(1, 0.5, "highpass", fs=500.0, output="sos"),
                                   butter(2, 40.0, "lowpass", fs=500.0, output="sos")])
        np.testing.assert_array_equal(ref.sos(500.0), expected)
    out_ref = ref(x, 500.0, random_state=0)
    for extra in ({"shelf_hz": 20.0, "shelf_gain_db": 0.0}, {"shelf_hz": None, "shelf_gain_db": 6.0}):
        t = device.FrequencyResponse(**kw, **extra)
        np.testing.assert_array_equal(t.sos(500.0), ref.sos(500.0))
        np.testing.assert_array_equal(t(x, 500.0, random_state=0), out_ref)
    on = device.FrequencyResponse(**kw, shelf_hz=20.0, shelf_gain_db=6.0)
    assert len(on.sos(500.0)) == len(ref.sos(500.0)) + 1
    assert not np.array_equal(on(x, 500.0, random_state=0), out_ref)


@pytest.mark.parametrize("kw, match", [
    ({"shelf_hz": 20.0, "shelf_gain_db": -1.0}, "shelf_gain_db must be a number in 0…12"),
    ({"shelf_hz": 20.0, "shelf_gain_db": 12.5}, "shelf_gain_db must be a number in 0…12"),
    ({"shelf_hz": 20.0, "shelf_gain_db": "6"}, "shelf_gain_db"),
    ({"shelf_hz": 0.0, "shelf_gain_db": 6.0}, r"shelf_hz must be None or a frequency"),
    ({"shelf_hz": 250.0, "shelf_gain_db": 6.0}, r"Nyquist \(250.0 Hz\)"),
])
def test_shelf_parameters_are_validated(kw, match):
    x = synthetic_ecg(n_records=1, seconds=1.0)
    with pytest.raises(ValueError, match=match):
        device.FrequencyResponse(**kw)(x, 500.0, random_state=0)


def test_shelf_params_round_trip_and_example_pipeline_declares_it():
    """The parameters are sklearn params; the motion example tunes the shelf gain from 0 dB."""
    t = device.FrequencyResponse(shelf_hz=15.0, shelf_gain_db=4.0)
    assert t.get_params()["shelf_hz"] == 15.0
    assert t.set_params(shelf_gain_db=2.0).shelf_gain_db == 2.0
    pipe = augment.load_pipeline(str(MOTION_YAML))
    params = pipe.get_params()
    assert params["frequency_response__shelf_hz"] == 20.0
    assert params["frequency_response__shelf_gain_db"] == 0.0
    assert pipe.to_dict()["tunable"]["frequency_response__shelf_gain_db"] == [0.0, 12.0]
