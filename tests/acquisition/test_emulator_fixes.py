"""Emulator follow-ups: device.yaml names/leads/scale, bounded lifetime, unread bytes logged."""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import pytest
import serial

from acquisition.decoders import get_decoder
from acquisition.emulator.cli import add_commands, build_emulator
from acquisition.stream_settings import resolve_settings

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs POSIX pseudo-terminals")

DEVICE_YAML = """\
name: proto-3
format: shirt-v1
sfreq: 250
channels:
  - {name: I, lead: I}
  - {name: II, lead: II}
  - {name: chest, lead: V2}
scale: {volts_per_count: [1.0e-7, 2.0e-7, 4.0e-7]}
"""


def parse(argv):
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="cmd"))
    return parser.parse_args(["emulate", *argv])


def test_device_yaml_sets_names_leads_rate_and_scale(tmp_path):
    """--device gives the channel names, leads (info frame), rate and per-channel scale."""
    dev = tmp_path / "device.yaml"
    dev.write_text(DEVICE_YAML)
    emu = build_emulator(parse(["--device", str(dev), "--activity", "test_signal",
                                "--seconds", "1"]))
    try:
        assert emu.sfreq == 250.0 and emu.n_channels == 3
        assert emu.source.ch_names == ["I", "II", "chest"]
        np.testing.assert_allclose(emu.source.volts_per_count, [1e-7, 2e-7, 4e-7])
        emu.start()
        dec = get_decoder("shirt-v1")
        ser = serial.serial_for_url(emu.port, timeout=0.02)
        ser.write(b"i")
        t_end = time.monotonic() + 3
        while dec.info is None and time.monotonic() < t_end:
            dec.feed(ser.read(256))
        ser.close()
        assert dec.info["device"] == "proto-3"
        settings = resolve_settings("shirt-v1", 3, info=dec.info)  # no device.yaml on the host
        assert settings.ch_names == ["I", "II", "chest"]
        assert settings.leads == ["I", "II", "V2"]
        np.testing.assert_allclose(settings.volts_per_count, [1e-7, 2e-7, 4e-7], rtol=1e-6)
    finally:
        emu.stop()
    two = build_emulator(parse(["--device", str(dev), "--channels", "2", "--seconds", "1"]))
    two.link.close()
    assert two.source.ch_names == ["I", "II"] and two.source.leads == ["I", "II"]
    np.testing.assert_allclose(two.source.volts_per_count, [1e-7, 2e-7])


def test_emulator_that_no_host_starts_exits_after_the_idle_timeout(tmp_path):
    """--seconds with no 'b' from a host: the emulator still ends (--idle-timeout)."""
    log = tmp_path / "f.jsonl"
    emu = build_emulator(parse(["--channels", "2", "--seconds", "30", "--idle-timeout", "0.3",
                                "--fault-log", str(log)]))
    t0 = time.monotonic()
    emu.run()  # no host ever opens the port
    assert 0.3 <= time.monotonic() - t0 < 5  # not the 30 s of --seconds, nor forever
    end = [json.loads(line) for line in log.read_text().splitlines()][-1]
    assert end["kind"] == "end" and end["reason"] == "idle_timeout" and end["sent"] == 0
    assert parse([]).idle_timeout == 60.0


def test_bytes_the_host_never_read_at_an_unplug_are_logged_as_samples(tmp_path):
    """A host that stops reading before an unplug: every sample it missed is in the fault log."""
    from acquisition.decoders import scale_from_gain
    from acquisition.emulator import Emulator, SyntheticSource

    log = tmp_path / "f.jsonl"
    src = SyntheticSource("sitting", 4, 500.0, scale_from_gain(6, 2.4, 4), random_state=1)
    emu = Emulator("shirt-v1", src, seconds=1.6, faults="drop=0.05,unplug=0.2@0.5",
                   fault_log=log, random_state=2, linger_s=0.3)
    with emu:
        stale = serial.serial_for_url(emu.port, timeout=0.02)
        stale.write(b"b")
        time.sleep(1.2)  # read nothing: the unplug (at 0.5 s + 0.5 s drain wait) finds it all
        stale.close()
        dec, seqs = get_decoder("shirt-v1"), []
        t_end = time.monotonic() + 4
        while time.monotonic() < t_end and not (seqs and seqs[-1][-1] >= emu.n_total - 1):
            try:
                ser = serial.serial_for_url(emu.port, timeout=0.02)
            except serial.SerialException:
                time.sleep(0.02)
                continue
            ser.write(b"b")
            try:
                while time.monotonic() < t_end:
                    block = dec.feed(ser.read(ser.in_waiting or 1))
                    if len(block):
                        seqs.append(block.seq)
                        if block.seq[-1] >= emu.n_total - 1:
                            break
            except serial.SerialException:
                dec.reset()
            ser.close()
    recs = [json.loads(line) for line in log.read_text().splitlines()]
    keep = np.ones(emu.n_total, bool)
    for r in recs:
        if r["kind"] in ("drop", "crc", "unplug", "unread"):
            keep[r["first_sample"]:r["first_sample"] + r["n_samples"]] = False
    unread = sum(r["n_samples"] for r in recs if r["kind"] == "unread")
    assert unread > 200  # nearly all of the first 250 samples sat unread in the pty
    np.testing.assert_array_equal(np.concatenate(seqs), np.flatnonzero(keep))
    assert recs[-1]["unread"] == unread
    assert recs[-1]["sent"] == np.flatnonzero(keep).size


def test_host_that_closes_the_port_is_logged_with_the_last_sample_written(tmp_path):
    """host_left: the last sample written before the host closed, then host_closed after it."""
    from acquisition.decoders import scale_from_gain
    from acquisition.emulator import Emulator, SyntheticSource

    log = tmp_path / "f.jsonl"
    src = SyntheticSource("rest", 2, 500.0, scale_from_gain(6, 2.4, 2), random_state=1)
    emu = Emulator("shirt-v1", src, seconds=0.8, fault_log=log, linger_s=0.1)
    with emu:
        ser = serial.serial_for_url(emu.port, timeout=0.02)
        ser.write(b"b")
        dec, got = get_decoder("shirt-v1"), []
        t_end = time.monotonic() + 0.3
        while time.monotonic() < t_end:
            got.append(dec.feed(ser.read(ser.in_waiting or 1)).seq)
        ser.close()
        emu._thread.join(5)
    recs = [json.loads(line) for line in log.read_text().splitlines()]
    left = next(r for r in recs if r["kind"] == "host_left")
    closed = next(r for r in recs if r["kind"] == "host_closed")
    last_got = int(np.concatenate(got)[-1])
    assert left["last_written_sample"] >= last_got  # the host read up to it at most
    assert left["last_written_sample"] - last_got < 50  # at most a tick or two in its buffer
    assert closed["first_sample"] == left["last_written_sample"] + 1 + left["queued_bytes"] // 13
    assert closed["first_sample"] + closed["n_samples"] == emu.n_total


def test_stream_index_maps_lost_bytes_to_samples():
    """Frames (10 bytes each) after 3 junk bytes: a cut mid-frame loses that frame and later."""
    from acquisition.emulator.stream_index import StreamIndex

    idx = StreamIndex()
    idx.append(5)                                         # an info frame: no samples
    idx.append(43, [7, 8, 10, 11], [13, 23, 33, 43])      # junk 3 bytes, then 4 frames (9 dropped)
    assert idx.n_bytes == 48
    np.testing.assert_array_equal(idx.samples_after(33), [10, 11])  # 33: inside frame 10
    np.testing.assert_array_equal(idx.samples_after(38), [11])      # 38: frame 10 complete
    np.testing.assert_array_equal(idx.samples_after(27), [8, 10, 11])
    assert idx.last_sample_within(30) == 8 and idx.last_sample_within(5) is None
