"""``shirtecg record`` from the command line with device.yaml, a protocol YAML and BDF
export; EDF/BDF resolution; ``read_session``; ``device list``."""

from __future__ import annotations

import mne
import numpy as np
import pytest
from record_helpers import VPC, run_cli, start_emulator, stop_emulator
from serial.tools.list_ports_common import ListPortInfo

from acquisition.export import export_session
from acquisition.session import read_session
from acquisition.transport import format_port_table, port_info_dict, usb_matches
from shirtecg_common.errors import UserError

DEVICE = """\
name: shirt-proto
format: shirt-v1
sfreq: 500
channels:
  - {name: I, lead: I}
  - {name: II, lead: II}
  - {name: V1, lead: V1}
scale: {gain: 6, vref: 2.4}
usb: {vid: "0403", pid: "6015", serial_number: "A1B2"}
"""
PROTOCOL = """\
- {activity: rest, seconds: 0.6, prompt: "Stand still."}
- {activity: walking, seconds: 0.8, prompt: "Walk on the spot."}
"""


try:
    import edfio  # noqa: F401  (the `edf` extra; mne's EDF/BDF export needs it)
    HAS_EDFIO = True
except ImportError:
    HAS_EDFIO = False
needs_edfio = pytest.mark.skipif(not HAS_EDFIO, reason="EDF/BDF export needs edfio: "
                                 "pip install -e '.[edf]'")


@pytest.fixture(scope="module")
def cli_session(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "device.yaml").write_text(DEVICE)
    (tmp / "protocol.yaml").write_text(PROTOCOL)
    proc, port = start_emulator("--format", "shirt-v1", "--channels", 3, "--sfreq", 500,
                                "--activity", "walking", "--seconds", 5)
    try:
        done = run_cli(["record", "--port", port, "--device", tmp / "device.yaml",
                        "--protocol", tmp / "protocol.yaml", "--out", tmp / "out",
                        "--name", "sub01", "--handshake-timeout", 10, "--baud", 9600,
                        *(["--export", "bdf"] if HAS_EDFIO else [])])
    finally:
        stop_emulator(proc)
    return tmp, done


def test_cli_record_with_device_and_protocol(cli_session):
    tmp, done = cli_session
    assert done.returncode == 0, done.stderr
    assert "[1/2] rest for 0.6 s: Stand still." in done.stderr
    # 22-byte frames × 500 Hz × 10 bits
    assert "3 ch at 500 Hz needs 110,000 baud but the port runs at 9,600" in done.stderr
    assert "saved" in done.stdout
    raw, meta = read_session(tmp / "out" / "sub01_raw.fif")
    assert raw.n_times == 700 and raw.ch_names == ["I", "II", "V1"]
    assert [c["lead"] for c in meta["channels"]] == ["I", "II", "V1"]
    assert meta["volts_per_count"] == [VPC] * 3 and meta["mismatches"] == []
    assert meta["device_yaml"]["name"] == "shirt-proto"
    assert list(raw.annotations.description) == ["rest", "walking"]
    files = {"sub01.capture", "sub01.journal.jsonl", "sub01_raw.fif"}
    assert {p.name for p in (tmp / "out").iterdir()} - {"sub01.bdf"} == files


@needs_edfio
def test_cli_bdf_export_keeps_full_resolution(cli_session):
    tmp, done = cli_session
    assert "no loss of resolution" in done.stdout
    raw, _ = read_session(tmp / "out" / "sub01_raw.fif")
    desc = list(raw.annotations.description)
    bdf = mne.io.read_raw_bdf(tmp / "out" / "sub01.bdf", preload=True, verbose="error")
    got = bdf.get_data(picks="all")[:, :raw.n_times]
    ref = raw.get_data(picks="all")
    assert np.max(np.abs(got - ref)) <= 0.5 * VPC * 1.0001  # within half an ADC count
    assert [a for a in bdf.annotations.description if a != "BAD_ACQ_SKIP"] == desc


@needs_edfio
def test_edf_export_reports_its_resolution(cli_session, tmp_path):
    tmp, _ = cli_session
    raw, meta = read_session(tmp / "out" / "sub01_raw.fif")
    data = raw.get_data(picks="all")
    report = export_session(raw, tmp_path / "s.edf", "edf", meta["volts_per_count"])
    span = data.max(axis=1) - data.min(axis=1)
    np.testing.assert_allclose(report["step_counts"], span / 65535 / VPC)
    assert report["lossless"] == bool(np.all(span / 65535 <= VPC))
    edf = mne.io.read_raw_edf(tmp_path / "s.edf", preload=True, verbose="error")
    err = np.abs(edf.get_data(picks="all")[:, :raw.n_times] - data).max(axis=1)
    assert np.all(err <= 0.51 * span / 65535 + 1e-12)  # the channel-wise step, not a shared one
    with pytest.raises(UserError, match="'edf' or 'bdf'"):
        export_session(raw, tmp_path / "x.gdf", "gdf")


def test_read_session_rejects_other_fif(tmp_path):
    raw = mne.io.RawArray(np.zeros((1, 10)), mne.create_info(1, 100.0, "ecg"), verbose="error")
    raw.save(tmp_path / "other_raw.fif", verbose="error")
    with pytest.raises(UserError, match="not a shirtecg session"):
        read_session(tmp_path / "other_raw.fif")
    with pytest.raises(FileNotFoundError):
        read_session(tmp_path / "missing_raw.fif")


def test_device_list_table_and_usb_matching():
    port = ListPortInfo("/dev/ttyUSB7", skip_link_detection=True)
    port.vid, port.pid, port.serial_number = 0x0403, 0x6015, "A1B2"
    port.description, port.manufacturer = "FT231X USB UART", "FTDI"
    other = ListPortInfo("/dev/ttyACM0", skip_link_detection=True)
    usb = {"vid": "0403", "pid": "6015", "serial_number": "A1B2"}
    assert usb_matches(port, usb) and not usb_matches(other, usb)
    assert not usb_matches(port, {**usb, "serial_number": "ZZZ"})
    table = format_port_table([port_info_dict(port, usb), port_info_dict(other, usb)])
    lines = table.splitlines()
    assert lines[0].startswith("| port") and "VID:PID" in lines[0]
    cells = [c.strip() for c in lines[2].strip("|").split("|")]
    assert cells == ["/dev/ttyUSB7", "0403:6015", "A1B2", "FTDI FT231X USB UART", "match"]
    assert "| /dev/ttyACM0 | -" in lines[3]
    assert format_port_table([]) == "no serial ports found"


def test_device_list_cli(tmp_path):
    (tmp_path / "device.yaml").write_text(DEVICE)
    done = run_cli(["device", "list", "--device", tmp_path / "device.yaml"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("| port") or done.stdout.strip() == "no serial ports found"
