"""``shirtecg calibrate adc`` end to end on emulated test-signal sessions."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from shirtecg.cli import main
from tests.calibration.conftest import VPC, write_session

GAIN_ERRORS = np.array([0.012, -0.02, 0.004])


def _emulated_session(path, seconds=12.0, sfreq=500.0, amplitude_mv=1.0, freq_hz=1.0):
    """A session whose front end is off its nominal gain by GAIN_ERRORS: the emulator's test
    signal (acquisition.activity_noise) digitized with the true gain, stored with the nominal."""
    from acquisition.activity_noise import test_signal

    n = int(seconds * sfreq)
    rest = 2 * sfreq
    v = test_signal(3, n, sfreq, amplitude_mv=amplitude_mv, freq_hz=freq_hz, random_state=3)
    v = np.hstack([np.zeros((3, int(rest))), v])  # 2 s of another step first
    true_vpc = VPC * (1 + GAIN_ERRORS)
    counts = np.round(v / true_vpc[:, None]) + np.array([[40.0], [-25.0], [0.0]])
    write_session(path, counts * VPC, sfreq, vpc=VPC, ch_names=["I", "II", "V1"],
                  leads=["I", "II", "V1"],
                  annotations=[(0.0, 2.0, "rest"), (2.0, seconds, "test_signal")])
    return path


def _device_yaml(path):
    path.write_text(yaml.safe_dump({
        "name": "shirt-proto", "format": "shirt-v1", "sfreq": 500,
        "channels": [{"name": "I", "lead": "I"}, {"name": "II", "lead": "II"},
                     {"name": "V1", "lead": "V1"}],
        "scale": {"gain": 6, "vref": 2.4}, "baud": 921600}, sort_keys=False))
    return path


def test_cli_writes_device_calibration(tmp_path, capsys):
    """Gains within 0.1 % of the emulated truth land in device.yaml; other keys survive."""
    from acquisition.device import load_device

    session = _emulated_session(tmp_path / "cal_raw.fif")
    device = _device_yaml(tmp_path / "device.yaml")
    code = main(["calibrate", "adc", str(session), "--reference", "square", "--amplitude-mv",
                 "1", "--freq-hz", "1", "--device", str(device)])
    out = capsys.readouterr().out
    assert code == 0
    assert "uV/count" in out and "written to" in out
    dev = load_device(device)
    assert dev.baud == 921600
    err = dev.volts_per_count / (VPC * (1 + GAIN_ERRORS)) - 1
    assert np.all(np.abs(err) < 1e-3), err
    np.testing.assert_allclose(dev.calibration["offset_counts"], [40, -25, 0], atol=2.0)
    assert dev.calibration["reference"]["amplitude_mv"] == 1.0
    assert dev.calibration["highpass_hz"] is None  # the emulated front end is DC-coupled


def test_cli_creates_device_yaml_from_session(tmp_path, capsys):
    """Without --device, device.yaml is made next to the session from its description."""
    from acquisition.device import load_device

    session = _emulated_session(tmp_path / "s_raw.fif")
    assert main(["calibrate", "adc", str(session), "--amplitude-mv", "1", "--freq-hz", "1"]) == 0
    dev = load_device(tmp_path / "device.yaml")
    assert dev.ch_names == ["I", "II", "V1"]
    assert dev.calibration is not None


@pytest.mark.parametrize("args, match", [
    (["--amplitude-mv", "3", "--freq-hz", "1"], "amplitude"),
    (["--amplitude-mv", "1", "--freq-hz", "4"], "no square wave"),
])
def test_cli_wrong_reference(tmp_path, capsys, args, match):
    """A wrong reference is one clear line, exit status 2, and device.yaml is untouched."""
    session = _emulated_session(tmp_path / "w_raw.fif", seconds=6.0)
    device = _device_yaml(tmp_path / "device.yaml")
    before = device.read_text()
    code = main(["calibrate", "adc", str(session), "--device", str(device)] + args)
    err = capsys.readouterr().err
    assert code == 2
    assert match in err and len(err.strip().splitlines()) == 1
    assert device.read_text() == before
