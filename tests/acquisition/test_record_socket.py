"""The recorder over ``socket://`` (a non-pty pyserial URL): reconnect keeps the same session."""

from __future__ import annotations

import json

import numpy as np
import pytest
from record_helpers import VPC, SocketShirt, expected_volts, gap_list

from acquisition.capture import read_journal
from acquisition.protocol import make_step
from acquisition.recorder import Recorder, RecordTimeouts
from acquisition.session import build_session, read_session

FAST = RecordTimeouts(handshake_s=10.0, stall_s=0.5, reconnect_s=4.0, fsync_s=0.2)


@pytest.fixture
def codes():
    rng = np.random.default_rng(7)
    c = rng.integers(-2**23, 2**23, size=(5000, 3))
    c[:5] = [[2**23 - 1, -2**23, 0]] * 5  # full scale both ways survives
    return c


def test_socket_disconnect_reconnects_into_the_same_session(tmp_path, codes):
    dev = SocketShirt(codes, sfreq=500.0, disconnect_after=400, down_s=0.4)
    steps = [make_step("sitting", 1.0), make_step("walking", 1.2)]
    try:
        path, meta = Recorder(dev.url, "shirt-v1", tmp_path, "sock", steps,
                              timeouts=FAST, quiet=True).run()
    finally:
        dev.close()
    raw, m = read_session(path)
    assert m == meta and m["schema"] == "shirtecg-session/1"
    n = raw.n_times
    assert n == 1100 and m["n_samples"] == 1100  # exactly the protocol's samples
    data = raw.get_data(picks="all")
    expected = expected_volts(codes, dev.sent, n, [VPC] * 3)
    np.testing.assert_array_equal(data, expected)  # bit-exact, NaN exactly where lost
    gaps = gap_list(np.isfinite(expected[0]))
    assert len(gaps) == 1 and gaps[0][0] == 400 and gaps[0][1] > 0.2 * 500
    assert m["gaps"] == [{"first_sample": a, "n_samples": b} for a, b in gaps]
    assert m["counts"]["lost_samples"] == gaps[0][1]
    assert m["counts"]["reconnects"] == 1 and dev.connections == 2
    assert m["counts"]["crc_errors"] == 0 and m["counts"]["junk_bytes"] == 0
    ann = raw.annotations
    got = sorted(zip(ann.description, np.round(ann.onset * 500).astype(int),
                     np.round(ann.duration * 500).astype(int)))
    assert got == sorted([("sitting", 0, 500), ("walking", 500, 600),
                          ("BAD_acq_gap", 400, gaps[0][1])])
    assert m["device"] == "socket-shirt" and m["firmware"] == "t1"
    assert m["channels"] == [{"name": f"E{k}", "lead": None} for k in (1, 2, 3)]
    assert raw.get_channel_types() == ["ecg"] * 3
    events = [e["event"] for e in read_journal(tmp_path / "sock.journal.jsonl")]
    assert events.count("connect") == 2 and events.count("disconnect") == 1
    assert events[-1] == "stop"


def test_recover_rebuilds_the_same_session(tmp_path, codes):
    dev = SocketShirt(codes, sfreq=500.0)
    try:
        path, _ = Recorder(dev.url, "shirt-v1", tmp_path, "s", [make_step("rest", 0.6)],
                              timeouts=FAST, quiet=True).run()
    finally:
        dev.close()
    first = read_session(path)
    raw2, meta2 = build_session(tmp_path, "s")
    assert json.loads(raw2.info["description"]) == first[1] == meta2
    np.testing.assert_array_equal(raw2.get_data(), first[0].get_data())
    assert list(raw2.annotations.description) == list(first[0].annotations.description)
    assert raw2.info["meas_date"] == first[0].info["meas_date"]
    expected = expected_volts(codes, dev.sent, 300, [VPC] * 3)
    np.testing.assert_array_equal(first[0].get_data(), expected)


class _Terminal:
    """A stand-in for a terminal: collects what the recorder draws."""

    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s

    def flush(self):
        pass

    def isatty(self):
        return True


def test_status_line_and_device_yaml_mismatch(tmp_path, codes):
    codes = codes.copy()
    codes[:, 2] = 1234  # a flat channel
    status = 0xC00000 | (0b1 << 12) | (0b100 << 4)  # electrode 1 P and 3 N off
    dev = SocketShirt(codes, sfreq=500.0, status=status)
    device = {"path": None, "name": "proto", "format": "shirt-v1", "sfreq": 250.0,
              "channels": [{"name": "E1", "lead": "I"}, {"name": "E2", "lead": "II"},
                           {"name": "E3", "lead": "V1"}],
              "volts_per_count": [1e-7] * 3, "calibrated": False, "adc_bits": 24,
              "baud": None, "usb": None}
    term = _Terminal()
    try:
        _, meta = Recorder(dev.url, "shirt-v1", tmp_path, "st", [make_step("sitting", 1.0)],
                              device=device, timeouts=FAST, stream=term).run()
    finally:
        dev.close()
    assert "warning: device.yaml and device disagree on sfreq: info frame 500 Hz, " \
           "device.yaml 250 Hz" in term.text
    assert any(m.startswith("scale:") for m in meta["mismatches"])
    assert meta["sfreq"] == 500 and meta["volts_per_count"] == [VPC] * 3  # the device wins
    assert [c["lead"] for c in meta["channels"]] == ["I", "II", "V1"]  # leads from the yaml
    lines = [x for x in term.text.split("\r") if "RMS µV" in x]
    assert lines, term.text
    last = lines[-1]
    assert "sitting" in last and "flat E3" in last and "lead-off 1P,3N" in last
    assert "loss 0.00%" in last and "railed" in last


def test_disk_error_stops_with_a_recover_hint(tmp_path, codes, monkeypatch):
    from acquisition.capture import CaptureWriter
    from shirtecg_common.errors import UserError

    original, calls = CaptureWriter.append, []

    def append(self, conn, data, host_time=None):
        calls.append(len(data))
        if sum(calls) > 3000:  # the disk fills up a little into the session
            raise OSError(28, "No space left on device")
        return original(self, conn, data, host_time)

    monkeypatch.setattr(CaptureWriter, "append", append)
    dev = SocketShirt(codes, sfreq=500.0)
    try:
        with pytest.raises(UserError, match="No space left on device.*shirtecg recover"):
            Recorder(dev.url, "shirt-v1", tmp_path, "full", [make_step("rest", 3.0)],
                     timeouts=FAST, quiet=True).run()
    finally:
        dev.close()
    monkeypatch.undo()
    raw, meta = build_session(tmp_path, "full")  # what reached the disk is recoverable
    assert raw.n_times > 50 and meta["stop_reason"] == "crashed (recovered)"
    np.testing.assert_array_equal(raw.get_data(), codes[:raw.n_times].T * VPC)
