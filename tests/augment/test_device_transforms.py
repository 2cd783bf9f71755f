"""Device signal path: quantization step, railing at full scale, resampling, frequency
response corners (−3 dB), output leads; numbers from explicit arguments or a device.yaml."""

import numpy as np
import pytest

import augment
from augment import leads
from augment.transforms import device
from tests.augment.ecg_fixtures import synthetic_ecg

SFREQ = 500.0
DEVICE_YAML = """\
name: shirt-proto
format: shirt-v1
sfreq: 250
channels:
  - {name: ch1, lead: I}
  - {name: ch2, lead: III}
  - {name: ch3, lead: V2}
scale: {gain: 6, vref: 2.4}
adc_bits: 16
calibration:
  highpass_hz: 0.5
  lowpass_hz: 40.0
"""


@pytest.fixture
def device_yaml(tmp_path):
    path = tmp_path / "device.yaml"
    path.write_text(DEVICE_YAML)
    return str(path)


def _gain_db_at(sos_out_impulse, sfreq, freqs):
    h = np.fft.rfft(sos_out_impulse)
    f = np.fft.rfftfreq(len(sos_out_impulse), 1 / sfreq)
    return np.interp(freqs, f, 20 * np.log10(np.abs(h)))


@pytest.mark.parametrize("zero_phase", [False, True])
def test_frequency_response_is_minus_3_db_at_the_corners(zero_phase):
    """The impulse response's magnitude is −3.01 dB at both corners, ~0 dB between them."""
    n = int(200 * SFREQ)  # 0.005 Hz resolution for the 0.5 Hz corner
    imp = np.zeros((1, 12, n), dtype=np.float32)
    imp[0, :, n // 2] = 1.0  # centred: zero-phase filters are two-sided
    imp = leads.derive(leads.independent(imp))
    order = 2 if zero_phase else 1
    t = device.FrequencyResponse(0.5, 40.0, highpass_order=order, lowpass_order=2,
                                 zero_phase=zero_phase)
    out = t(imp, SFREQ, random_state=0)[0, leads.LEADS_12.index("V4")].astype(np.float64)
    hp, lp, mid = _gain_db_at(out, SFREQ, [0.5, 40.0, 8.0])
    assert hp == pytest.approx(-3.01, abs=0.05)
    assert lp == pytest.approx(-3.01, abs=0.05)
    assert abs(mid) < 0.2  # passband: 1st-order sections per pass roll off gently


def test_frequency_response_from_device_file_and_no_startup_transient(device_yaml):
    """Corners come from calibration.highpass_hz/lowpass_hz; a DC offset does not ring."""
    t = device.FrequencyResponse(device=device_yaml)
    assert t.corners() == (0.5, 40.0)
    x = np.full((1, 12, 2000), 0.0, dtype=np.float32)
    x[:, :6] = leads.derive(np.full((1, 8, 2000), 3.0, dtype=np.float32))[:, :6]
    x = leads.derive(leads.independent(x))
    out = t(x, SFREQ, random_state=0)
    assert np.abs(out).max() < 1e-3  # settled state: a constant is simply removed


def test_quantization_step_is_exact(device_yaml):
    """Every output is a whole number of ADC steps, within half a step of the input."""
    x = synthetic_ecg(n_records=2, seconds=2.0)
    step_v = 2.4 / 6 / (2**15 - 1)  # 16-bit device, nominal scale
    for t in (device.Quantize(volts_per_count=step_v), device.Quantize(device=device_yaml)):
        assert t.step_mv() == pytest.approx(step_v * 1e3, rel=1e-12)
        out = leads.independent(t(x, SFREQ, random_state=0)).astype(np.float64)
        codes = out / (step_v * 1e3)
        np.testing.assert_allclose(codes, np.round(codes), atol=1e-3)
        assert np.abs(out - leads.independent(x)).max() <= step_v * 1e3 / 2 * (1 + 1e-3)
        assert len(np.unique(np.round(codes))) > 50
    default = device.Quantize()  # no device file: ADS1298 at gain 6
    assert default.step_mv() == pytest.approx(2.4 / 6 / (2**23 - 1) * 1e3)


def test_clipping_at_full_scale(device_yaml):
    """Independent leads rail at ±full scale exactly; what is inside is untouched."""
    x = synthetic_ecg(n_records=1, seconds=2.0) * 3.0
    t = device.Clip(full_scale_mv=1.0)
    out8 = leads.independent(t(x, SFREQ, random_state=0))
    x8 = leads.independent(x)
    assert out8.max() == pytest.approx(1.0) and x8.max() > 1.5
    inside = np.abs(x8) < 1.0
    np.testing.assert_array_equal(out8[inside], x8[inside])
    np.testing.assert_array_equal(np.abs(out8[~inside]), 1.0)
    full_scale = device.Clip(device=device_yaml).limit_mv()
    assert full_scale == pytest.approx(2.4 / 6 / (2**15 - 1) * 2**15 * 1e3)


def test_clip_with_dc_offset_rails_earlier_on_one_side():
    """A +offset makes the positive side rail at full scale − offset; output has no offset."""
    x8 = np.zeros((1, 8, 1000), dtype=np.float32)
    x8[0, :, :] = np.linspace(-2, 2, 1000, dtype=np.float32)
    t = device.Clip(full_scale_mv=2.5, min_offset_mv=1.0, max_offset_mv=1.0)
    out = leads.independent(t(leads.derive(x8), SFREQ, random_state=1))
    offsets = np.array(t.last_parameters[0]["offset_mv"])
    for j, off in enumerate(offsets):
        assert out[0, j].max() == pytest.approx(min(2.0, 2.5 - off), abs=1e-5)
        assert out[0, j].min() == pytest.approx(max(-2.0, -2.5 - off), abs=1e-5)


def test_resampling_rate_and_content(device_yaml):
    """500 → 250 Hz halves T, the pipeline reports 250 Hz, a 10 Hz tone stays at 10 Hz."""
    t_s = np.arange(5000) / SFREQ
    x8 = np.repeat(np.sin(2 * np.pi * 10 * t_s)[None, None], 8, axis=1).astype(np.float32)
    pipe = augment.Pipeline([device.Resample(device=device_yaml)])
    out = pipe(leads.derive(x8), SFREQ, random_state=0)
    assert out.shape == (1, 12, 2500) and out.dtype == np.float32
    assert pipe.output_sfreq(SFREQ) == 250.0
    spec = np.abs(np.fft.rfft(out[0, 0]))
    assert np.fft.rfftfreq(2500, 1 / 250.0)[np.argmax(spec)] == pytest.approx(10.0)
    np.testing.assert_allclose(out[0, 0, 100:-100], np.sin(2 * np.pi * 10 * t_s[::2])[100:-100],
                               atol=2e-3)
    assert device.Resample(target_sfreq=360.0).ratio(500.0) == (18, 25)
    with pytest.raises(ValueError, match="p must be 1.0"):
        device.Resample(target_sfreq=250.0, p=0.5)(leads.derive(x8), SFREQ)


def test_keep_device_leads_is_the_output_stage(device_yaml):
    """The device's channels (I, III, V2) come out, derived exactly; the pipeline names them."""
    x = synthetic_ecg(n_records=2, seconds=1.0)
    pipe = augment.Pipeline([device.Quantize(device=device_yaml),
                             device.KeepDeviceLeads(device=device_yaml)])
    out = pipe(x, SFREQ, random_state=0)
    assert pipe.output_leads == ("I", "III", "V2")
    assert out.shape == (2, 3, x.shape[-1])
    np.testing.assert_allclose(out[:, 1], x[:, 1] - x[:, 0], atol=0.0123)  # 2 ADC steps
    with pytest.raises(ValueError, match="last step"):
        augment.Pipeline([device.KeepDeviceLeads(leads=["I"]), device.Quantize()])(x, SFREQ)


def test_missing_device_numbers_say_what_to_pass(tmp_path):
    """A device file without calibration corners or with an unknown lead gives a clear error."""
    path = tmp_path / "dev.yaml"
    path.write_text(DEVICE_YAML.replace("lead: V2", "lead: null"))
    x = synthetic_ecg(n_records=1, seconds=1.0)
    with pytest.raises(ValueError, match="leads must be names"):
        device.KeepDeviceLeads(device=str(path))(x, SFREQ)
    with pytest.raises(ValueError, match="must be a positive number"):
        device.Quantize(volts_per_count=-1.0)(x, SFREQ)
