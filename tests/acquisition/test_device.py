"""device.yaml: schema checks, per-channel scale, calibration, reconciling with the info frame."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from acquisition.device import DeviceConfig, load_device, reconcile_info
from shirtecg_common.errors import ConfigError

GOOD = """\
name: shirt-proto
format: shirt-v1
sfreq: 500
channels:
  - {name: I, lead: I}
  - {name: II, lead: II}
  - {name: X1, lead: null}
scale: {gain: 6, vref: 2.4}
baud: 921600
usb: {vid: "0403", pid: "6015", serial_number: "A1B2"}
"""


def _write(tmp_path, text, name="device.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_load_good_device(tmp_path):
    """All fields load; V/count = vref / gain / (2**23 - 1) for each channel."""
    dev = load_device(_write(tmp_path, GOOD))
    assert dev.name == "shirt-proto" and dev.format == "shirt-v1" and dev.sfreq == 500.0
    assert dev.ch_names == ["I", "II", "X1"] and dev.leads == ["I", "II", None]
    assert dev.baud == 921600 and dev.adc_bits == 24 and dev.usb["serial_number"] == "A1B2"
    np.testing.assert_allclose(dev.volts_per_count, [2.4 / 6 / 8388607] * 3)
    assert dev.calibration is None


@pytest.mark.parametrize("edit, match", [
    (("baud: 921600", "baud: 921600\ncolour: red"), r"unknown key 'colour'.*allowed keys: name"),
    (("- {name: II, lead: II}", "- {name: II, lead: II, gain: 3}"),
     r"channels\[1\]: unknown key 'gain'; allowed keys: name, lead"),
    (("sfreq: 500\n", ""), r"missing required key 'sfreq'"),
    (("format: shirt-v1", "format: edf"), r"format 'edf'.*shirt-v1, openbci-cyton, ascii"),
    (("lead: null", "lead: V7"), r"lead 'V7' is not a lead name"),
    (("scale: {gain: 6, vref: 2.4}", "scale: {gain: 6}"), r"scale: missing required key 'vref'"),
    (("scale: {gain: 6, vref: 2.4}", "scale: {volts_per_count: [1e-7, 2e-7]}"),
     r"one or 3 \(one per channel\)"),
    (("sfreq: 500", "sfreq: -1"), r"sfreq must be a positive number"),
    (("usb: {vid:", "usb: {product: x, vid:"), r"usb: unknown key 'product'"),
    (("- {name: X1, lead: null}", "- {name: I, lead: null}"), r"duplicate channel name 'I'"),
])
def test_bad_device_errors_name_key_and_file(tmp_path, edit, match):
    """Each error names the key, its location (file and channel) and what is accepted."""
    path = _write(tmp_path, GOOD.replace(*edit))
    with pytest.raises(ConfigError, match=match) as err:
        load_device(path)
    assert str(path) in str(err.value)


def test_calibrated_scale_wins_and_round_trips(tmp_path):
    """Measured volts_per_count win over gain/vref; save → load keeps everything."""
    dev = load_device(_write(tmp_path, GOOD))
    dev.calibration = {"volts_per_count": [5e-8, 4.9e-8, 4.8e-8], "offset_counts": [10, -3, 0],
                       "gain_rel_uncertainty": [1e-3] * 3, "highpass_hz": 0.05,
                       "lowpass_hz": 150.0,
                       "reference": {"kind": "square", "amplitude_mv": 1.0, "freq_hz": 1.0,
                                     "session": "cal_raw.fif"}}
    np.testing.assert_allclose(dev.volts_per_count, [5e-8, 4.9e-8, 4.8e-8])
    np.testing.assert_allclose(dev.nominal_volts_per_count, [2.4 / 6 / 8388607] * 3)
    out = tmp_path / "saved.yaml"
    dev.save(out)
    again = load_device(out)
    assert again.to_dict() == dev.to_dict()
    np.testing.assert_allclose(again.offset_counts, [10, -3, 0])
    assert yaml.safe_load(out.read_text())["calibration"]["reference"]["kind"] == "square"


def test_bad_calibration_is_rejected_on_save(tmp_path):
    """save() validates: a wrong number of calibrated values is an error, nothing written."""
    dev = load_device(_write(tmp_path, GOOD))
    dev.calibration = {"volts_per_count": [1e-7, 1e-7]}
    with pytest.raises(ConfigError, match="calibration: volts_per_count"):
        dev.save(tmp_path / "bad.yaml")
    assert not (tmp_path / "bad.yaml").exists()


def test_per_channel_volts_per_count_and_adc_bits(tmp_path):
    """scale may give volts per count directly (one value or one per channel)."""
    text = GOOD.replace("scale: {gain: 6, vref: 2.4}", "scale: {volts_per_count: 1.0e-6}")
    dev = load_device(_write(tmp_path, text.replace("baud: 921600", "adc_bits: 12")))
    np.testing.assert_allclose(dev.volts_per_count, [1e-6] * 3)
    assert dev.adc_bits == 12


def test_reconcile_info_frame_wins_and_reports():
    """The device's info frame wins; every disagreement is listed."""
    dev = DeviceConfig.from_dict(yaml.safe_load(GOOD))
    same = {"device": "shirt-proto", "firmware": "1.0", "sfreq": 500,
            "channels": ["I", "II", "X1"], "gain": 6, "vref": 2.4}
    merged, mismatches = reconcile_info(dev, same)
    assert mismatches == [] and merged.to_dict() == dev.to_dict()
    other = dict(same, sfreq=1000, gain=12, channels=["I", "II", "V1"])
    merged, mismatches = reconcile_info(dev, other)
    assert merged.sfreq == 1000.0 and merged.ch_names == ["I", "II", "V1"]
    np.testing.assert_allclose(merged.volts_per_count, 2.4 / 12 / 8388607)
    assert len(mismatches) == 3
    assert any("sfreq" in m and "1000" in m for m in mismatches)
    built, _ = reconcile_info(None, other)
    assert built.leads == ["I", "II", "V1"] and built.format == "shirt-v1"


def test_adc_signed_false_sets_the_unipolar_full_scale(tmp_path):
    """adc_signed: false — gain/vref span all 2**bits codes; saved and reloaded as written."""
    text = GOOD.replace("baud: 921600", "adc_bits: 12\nadc_signed: false")
    dev = load_device(_write(tmp_path, text))
    assert dev.adc_signed is False
    np.testing.assert_allclose(dev.nominal_volts_per_count, [2.4 / 6 / 4095] * 3)
    dev.save(tmp_path / "again.yaml")
    assert load_device(tmp_path / "again.yaml").adc_signed is False
    assert load_device(_write(tmp_path, GOOD, "signed.yaml")).adc_signed is True
    with pytest.raises(ConfigError, match="adc_signed must be true or false"):
        load_device(_write(tmp_path, GOOD.replace("baud: 921600", "adc_signed: 0"), "b.yaml"))
