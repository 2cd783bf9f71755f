"""USB discovery: record from the port matching device.yaml's ids, and follow the device to a
new port name after an unplug (``/dev/ttyUSB0`` → ``/dev/ttyUSB1`` on a real replug).

The port listing (:func:`serial.tools.list_ports.comports`) is replaced by one that describes
real ptys of the device emulator: first under a name of ours (``ttyUSB0``, a symlink to the
emulator's pty, removed once the recorder holds it, as a pulled USB adapter's node vanishes),
then, after the emulated unplug, under the emulator's own port path.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
from record_helpers import (
    VPC,
    gap_list,
    logged_lost,
    read_fault_log,
    start_emulator,
    stop_emulator,
)
from serial.tools import list_ports
from serial.tools.list_ports_common import ListPortInfo

from acquisition.capture import read_journal
from acquisition.cli import main
from acquisition.session import read_session
from acquisition.transport import PortError, PortNotFoundError, discover_port, reconnect_candidates

USB = {"vid": "0403", "pid": "6015", "serial_number": "A1B2"}
DEVICE_YAML = """\
name: shirt-proto
format: shirt-v1
sfreq: 500
channels: [{name: E1, lead: null}, {name: E2, lead: null}, {name: E3, lead: null}]
scale: {gain: 6, vref: 2.4}
usb: {vid: "0403", pid: "6015", serial_number: "A1B2"}
"""


def _port(device, vid, pid, serial_number):
    info = ListPortInfo(str(device), skip_link_detection=True)
    info.vid, info.pid, info.serial_number = vid, pid, serial_number
    return info


def test_unplugged_device_is_found_again_under_a_new_name(tmp_path, monkeypatch, capsys):
    codes = np.random.default_rng(5).integers(-2**23, 2**23, size=(3000, 3))
    src = tmp_path / "codes.csv"
    np.savetxt(src, codes, fmt="%d", delimiter=",")
    log = tmp_path / "faults.jsonl"
    (tmp_path / "device.yaml").write_text(DEVICE_YAML)
    emu, link = start_emulator("--format", "shirt-v1", "--playback", src, "--sfreq", 500,
                               "--faults", "unplug=0.5@1.0s", "--fault-log", log)
    old = tmp_path / "ttyUSB0"
    os.symlink(os.readlink(link), old)
    listed = []

    def comports():
        ports = [_port(tmp_path / "ttyUSB3", 0x0403, 0x6015, "OTHER"),  # same model, not ours
                 _port("/dev/ttyS0", None, None, None)]
        ports.append(_port(old if os.path.lexists(old) else link, 0x0403, 0x6015, "A1B2"))
        listed.append(ports[-1].device)
        return ports

    monkeypatch.setattr(list_ports, "comports", comports)
    out = tmp_path / "out"
    journal = out / "usb.journal.jsonl"
    gone = threading.Event()

    def pull_old_name():  # once the recorder holds ttyUSB0, its node vanishes
        end = time.monotonic() + 20
        while time.monotonic() < end:
            if journal.is_file() and '"connect"' in journal.read_text():
                os.unlink(old)
                gone.set()
                return
            time.sleep(0.01)

    t = threading.Thread(target=pull_old_name, daemon=True)
    t.start()
    try:
        rc = main(["record", "--device", str(tmp_path / "device.yaml"), "--activity", "rest",
                   "--seconds", "2.4", "--out", str(out), "--name", "usb",
                   "--handshake-timeout", "10", "--stall-timeout", "0.4",
                   "--reconnect-timeout", "5"])
    finally:
        t.join(1)
        stop_emulator(emu)
    err = capsys.readouterr().err
    assert rc == 0, err
    assert gone.is_set() and listed[0] == str(old) and listed[-1] == link
    raw, meta = read_session(out / "usb_raw.fif")
    assert meta["port"] == str(old) and meta["ports"] == [str(old), link]
    events = read_journal(journal)
    found = [e for e in events if e["event"] == "rediscovered"]
    assert len(found) == 1 and found[0]["old_port"] == str(old) and found[0]["port"] == link
    assert f"is back at {link}, was {old}" in err
    # the same session continued: every sample the emulator delivered, bit-exact, and the
    # unplug's samples (as logged) are one annotated gap
    fault_log = read_fault_log(log)
    n = raw.n_times
    assert n == 1200
    lost = logged_lost(fault_log, n)
    data = raw.get_data(picks="all")
    assert gap_list(np.isfinite(data[0])) == gap_list(~lost) and lost.sum() >= 0.4 * 500
    np.testing.assert_array_equal(data[:, ~lost], codes[:n][~lost].T * VPC)
    assert meta["counts"]["reconnects"] == 1
    assert meta["counts"]["lost_samples"] == int(lost.sum())


def _fake_ports(monkeypatch, ports):
    monkeypatch.setattr(list_ports, "comports", lambda: [_port(*p) for p in ports])


def test_discovery_names_what_it_found(monkeypatch, tmp_path):
    _fake_ports(monkeypatch, [("/dev/ttyUSB1", 0x0403, 0x6015, "A1B2"),
                              ("/dev/ttyUSB2", 0x0403, 0x6015, "ZZZZ"),
                              ("/dev/ttyACM0", 0x2341, 0x0043, "A1B2")])
    assert discover_port(USB) == "/dev/ttyUSB1"
    assert discover_port({"vid": "2341"}) == "/dev/ttyACM0"
    with pytest.raises(PortError, match=r"2 serial ports match .*ttyUSB1, /dev/ttyUSB2.*"
                                        r"serial_number"):
        discover_port({"vid": "0403", "pid": "6015"})
    with pytest.raises(PortNotFoundError, match=r"no serial port matches dev.yaml usb "
                                                r"0403:6015 serial NOPE; ports found: .*ttyUSB1"):
        discover_port({**USB, "serial_number": "NOPE"}, where="dev.yaml")
    with pytest.raises(PortNotFoundError, match="no usb: ids"):
        discover_port(None)


def test_reconnect_candidates_follow_the_ids(monkeypatch, tmp_path):
    _fake_ports(monkeypatch, [("/dev/ttyUSB1", 0x0403, 0x6015, "A1B2"),
                              ("/dev/ttyUSB0", 0x067B, 0x2303, "X")])
    # its old name now belongs to another adapter: skip it, go to the matching port
    assert reconnect_candidates("/dev/ttyUSB0", USB) == ["/dev/ttyUSB1"]
    # replugged under the same name: that first
    assert reconnect_candidates("/dev/ttyUSB1", USB) == ["/dev/ttyUSB1"]
    # an unlisted URL (socket://, a pty) is still tried, after the matching port
    assert reconnect_candidates("socket://h:1", USB) == ["/dev/ttyUSB1", "socket://h:1"]
    assert reconnect_candidates("/dev/ttyUSB0", None) == ["/dev/ttyUSB0"]
    _fake_ports(monkeypatch, [])
    assert reconnect_candidates("/dev/ttyUSB0", USB) == ["/dev/ttyUSB0"]


def test_record_without_port_needs_usb_ids(tmp_path, capsys):
    yaml = tmp_path / "device.yaml"
    yaml.write_text(DEVICE_YAML.replace('usb: {vid: "0403", pid: "6015", serial_number: '
                                        '"A1B2"}\n', ""))
    rc = main(["record", "--device", str(yaml), "--activity", "rest", "--seconds", "1",
               "--out", str(tmp_path / "o")])
    assert rc == 2 and "give --port, or --device device.yaml with usb:" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
