"""The device emulator over a real pseudo-terminal, read by pyserial as a recorder would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import serial

from acquisition.decoders import get_decoder, scale_from_gain
from acquisition.emulator import Emulator, FaultSpec, PlaybackSource, SyntheticSource
from shirtecg_common.errors import UserError

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs POSIX pseudo-terminals")
LOSS_KINDS = ("drop", "crc", "stall", "unplug", "host_closed", "overflow", "unread")


def host_read(port, dec, max_s, start=b"ib", until_seq=None, done=lambda: False):
    """Read like a recorder: reconnect to the same path after an unplug; returns (seq, codes)."""
    ser = serial.serial_for_url(port, timeout=0.02)
    ser.write(start)
    seqs, codes, t_end = [], [], time.monotonic() + max_s
    while time.monotonic() < t_end:
        try:
            data = ser.read(ser.in_waiting or 1)
        except serial.SerialException:
            ser.close()
            dec.reset()
            ser = None
            while ser is None and time.monotonic() < t_end and not done():
                try:
                    ser = serial.serial_for_url(port, timeout=0.02)
                except serial.SerialException:
                    time.sleep(0.02)
            if ser is None:
                break
            ser.write(start)
            continue
        block = dec.feed(data)
        if len(block):
            seqs.append(block.seq)
            codes.append(block.codes)
            if until_seq is not None and block.seq[-1] >= until_seq:
                break
    if ser is not None:
        ser.close()
    return np.concatenate(seqs), np.concatenate(codes)


def read_log(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def expected_after_faults(records, n_total):
    """Sample indices the host should receive, from the fault log alone."""
    keep = np.ones(n_total, bool)
    for r in records:
        if r["kind"] in LOSS_KINDS:
            keep[r["first_sample"]:r["first_sample"] + r["n_samples"]] = False
    return np.flatnonzero(keep)


def resync_episodes(records, good):
    """Junk or a corrupted frame puts the decoder out of sync; the next good frame ends it."""
    crc = {r["first_sample"] for r in records if r["kind"] == "crc"}
    junk = {r["first_sample"] for r in records if r["kind"] == "junk"}
    n, out = 0, False
    for s in sorted(crc | junk | set(good.tolist())):
        out = out or s in junk or s in crc
        if s not in crc and out:
            n, out = n + 1, False
    return n


def _source(activity="walking", n_ch=8, sfreq=500.0, **kw):
    return SyntheticSource(activity, n_ch, sfreq, scale_from_gain(6, 2.4, n_ch), random_state=4,
                           **kw)


@pytest.mark.parametrize("fmt, sfreq, faults", [
    ("shirt-v1", 500.0, "drop=0.02,crc=0.02,junk=0.02,stall=0.2@0.3,unplug=0.3@0.8"),
    ("openbci-cyton", 250.0, "drop=0.02,crc=0.02,junk=0.02,stall=0.2@0.4"),
    ("ascii", 500.0, "drop=0.02,crc=0.02,junk=0.02"),
])
def test_fault_log_matches_what_the_decoder_counts(tmp_path, fmt, sfreq, faults):
    """Every fault the emulator logged is counted by the decoder, and nothing else is lost."""
    log = tmp_path / "faults.jsonl"
    n_ch = 8 if fmt == "openbci-cyton" else 4
    src = _source(n_ch=n_ch, sfreq=sfreq)
    emu = Emulator(fmt, src, seconds=1.5, faults=faults, fault_log=log, random_state=11,
                   linger_s=0.5)
    n_total = emu.n_total
    with emu:
        dec = get_decoder(fmt, n_channels=n_ch)
        seq, codes = host_read(emu.port, dec, 6.0, until_seq=n_total - 1,
                               done=lambda: not emu._thread.is_alive())
    recs = read_log(log)
    assert recs[0]["kind"] == "start" and recs[-1]["kind"] == "end"
    kinds = {r["kind"] for r in recs}
    assert {"drop", "crc", "junk"} <= kinds
    np.testing.assert_array_equal(seq, expected_after_faults(recs, n_total))
    # bit-exact: the codes are those the source generates for exactly these sample indices
    ref = _source(n_ch=n_ch, sfreq=sfreq).read(n_total)
    np.testing.assert_array_equal(codes, ref[seq])
    st = dec.stats
    junk = sum(r["n_bytes"] for r in recs if r["kind"] == "junk")
    if fmt == "ascii":  # a corrupted line is junk to a text decoder
        junk += sum(r["n_bytes"] for r in recs if r["kind"] == "crc")
        assert st["crc_errors"] == 0
    else:
        assert st["crc_errors"] == sum(r["kind"] == "crc" for r in recs)
    assert st["junk_bytes"] == junk
    assert st["frames"] == seq.size
    assert st["resyncs"] == resync_episodes(recs, seq)
    assert st["lost_samples"] == n_total - seq.size - (n_total - 1 - seq[-1])
    if "unplug" in faults:
        unplug = [r for r in recs if r["kind"] == "unplug"][0]
        assert unplug["first_sample"] == int(0.8 * sfreq) and unplug["n_samples"] >= 0.3 * sfreq


def test_cyton_unplug_longer_than_a_counter_wrap_is_flagged(tmp_path):
    """A 1.3-s unplug at 250 Hz loses > 256 samples: the gap is flagged as possibly wrapped."""
    log = tmp_path / "faults.jsonl"
    emu = Emulator("openbci-cyton", _source(n_ch=8, sfreq=250.0), seconds=2.2,
                   faults="unplug=1.3@0.4", fault_log=log, random_state=1, linger_s=0.3)
    with emu:
        dec = get_decoder("openbci-cyton")
        host_read(emu.port, dec, 5.0, until_seq=emu.n_total - 1 - 256)
    lost = [r for r in read_log(log) if r["kind"] == "unplug"][0]["n_samples"]
    assert lost > 256
    assert dec.stats["possible_wrap_gaps"] == 1
    assert dec.stats["lost_samples"] == lost % 256   # all an 8-bit counter can tell


def test_cli_port_line_info_frame_and_real_time_rate(tmp_path):
    """`shirtecg device emulate` prints PORT first, answers i, streams at the device rate."""
    cmd = [sys.executable, "-m", "acquisition", "device", "emulate", "--format", "shirt-v1",
           "--channels", "3", "--sfreq", "1000", "--seconds", "2.0", "--activity", "sitting",
           "--gain", "12", "--linger", "0.2", "--fault-log", str(tmp_path / "f.jsonl")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("PORT "), first
        port = first.split(" ", 1)[1].strip()
        ser = serial.serial_for_url(port, timeout=0.02)
        dec = get_decoder("shirt-v1")
        ser.write(b"i")
        t_end = time.monotonic() + 3
        while dec.info is None and time.monotonic() < t_end:
            dec.feed(ser.read(256))
        assert dec.info["channels"] == ["I", "II", "V1"] and dec.sfreq == 1000.0
        np.testing.assert_allclose(dec.volts_per_count, 2.4 / 12 / (2**23 - 1))
        ser.write(b"b")
        t0, n, arrivals = time.monotonic(), 0, []
        while time.monotonic() - t0 < 1.2:
            n += len(dec.feed(ser.read(ser.in_waiting or 1)))
            arrivals.append((time.monotonic() - t0, n))
        ser.close()
    finally:
        proc.wait(10)
    t = np.array(arrivals)
    rate = np.polyfit(t[t[:, 0] > 0.3, 0], t[t[:, 0] > 0.3, 1], 1)[0]
    assert 850 < rate < 1150                       # real time, not a burst
    assert np.diff(t[t[:, 1] > 0, 1]).max() < 250  # small chunks, not the whole stream at once
    assert proc.returncode == 0


def test_wearable_csv_plays_back_bit_exact(shared_data, tmp_path):
    """The real AD8232 wearable recording streams through ascii and shirt-v1 unchanged."""
    path = shared_data / "wearable_motion_artifacts" / "03" / "03_03_ruky.csv"
    adc = np.loadtxt(path, delimiter=";", usecols=1, dtype=np.int64)
    for fmt in ("ascii", "shirt-v1"):
        src = PlaybackSource(path, sfreq=500.0)
        emu = Emulator(fmt, src, random_state=0, speed=80.0, linger_s=0.3)
        with emu:
            dec = get_decoder(fmt, n_channels=1)
            seq, codes = host_read(emu.port, dec, 10.0, until_seq=adc.size - 1)
        assert seq.tolist() == list(range(adc.size))
        np.testing.assert_array_equal(codes[:, 0], adc)
        assert dec.stats["junk_bytes"] == 0 and dec.stats["lost_samples"] == 0


def test_playback_sources_are_exact(shared_data, tmp_path):
    """WFDB digital values and FIF volts come back as the same integer codes."""
    import mne
    import wfdb

    rec = wfdb.rdrecord(str(shared_data / "wfdb_python_samples" / "100"), physical=False,
                        sampto=2000)
    src = PlaybackSource(shared_data / "wfdb_python_samples" / "100.hea")
    np.testing.assert_array_equal(src.read(2000), rec.d_signal - np.asarray(rec.baseline))
    np.testing.assert_allclose(src.volts_per_count, 1e-3 / np.asarray(rec.adc_gain))
    codes = np.random.default_rng(0).integers(-2**23, 2**23, (2, 700))
    vpc = 2.4 / 6 / (2**23 - 1)
    raw = mne.io.RawArray(codes * vpc, mne.create_info(["a", "b"], 250.0, "ecg"), verbose=False)
    raw.info["description"] = json.dumps({"volts_per_count": [vpc, vpc]})
    raw.save(tmp_path / "x_raw.fif", fmt="double", verbose=False)
    src = PlaybackSource(tmp_path / "x_raw.fif")
    assert src.sfreq == 250.0 and src.ch_names == ["a", "b"]
    np.testing.assert_array_equal(src.read(700), codes.T)


def test_gain_error_and_offset_are_applied_and_logged(tmp_path):
    """test_signal through a known gain error/offset: codes = V / (vpc·(1+e)) + offset."""
    vpc = scale_from_gain(6, 2.4, 2)
    src = SyntheticSource("test_signal", 2, 500.0, vpc, random_state=0, gain_error=[0.05, -0.02],
                          offset_counts=[1000, -500])
    codes = src.read(2000).astype(float)
    high, low = np.percentile(codes, 90, axis=0), np.percentile(codes, 10, axis=0)
    true_vpc = vpc * np.array([1.05, 0.98])
    np.testing.assert_allclose((high - low) * true_vpc, 1e-3, rtol=0.03)
    np.testing.assert_allclose((high + low) / 2, [1000, -500], atol=60)
    desc = src.describe()
    assert desc["gain_error"] == [0.05, -0.02] and desc["offset_counts"] == [1000.0, -500.0]
    np.testing.assert_allclose(desc["volts_per_count_true"], true_vpc)


def test_port_symlink_survives_unplug():
    """After an unplug the same path points to a new pty slave."""
    from acquisition.emulator import PtyLink

    with PtyLink() as link:
        first = os.readlink(link.path)
        link.unplug(drain_timeout_s=0.01)
        assert not os.path.exists(link.path)   # dangling while unplugged: "not found"
        link.plug()
        assert os.readlink(link.path) != first or link.plugs == 2
        serial.serial_for_url(link.path, timeout=0.01).close()
    assert not os.path.lexists(link.path)


@pytest.mark.parametrize("spec, match", [
    ("drop=2", "probability"), ("stall=1", "needs a positive duration and a time"),
    ("lag=0.1", "cannot read 'lag=0.1'"), ("drop=0.6,crc=0.6", "must not exceed 1"),
])
def test_fault_spec_errors(spec, match):
    """Bad --faults items name the item and the grammar."""
    with pytest.raises(UserError, match=match):
        FaultSpec.parse(spec)


def test_fault_spec_grammar():
    """Rates, junk_max and timed faults parse, with or without the 's' suffix."""
    spec = FaultSpec.parse("drop=0.01,crc=0.005,junk=0.01,junk_max=8,stall=2.0@3s,unplug=1.5@5")
    assert spec.rates == {"drop": 0.01, "crc": 0.005, "junk": 0.01} and spec.junk_max == 8
    assert spec.timed == [("stall", 3.0, 2.0), ("unplug", 5.0, 1.5)]


def test_baud_check():
    """A stream that cannot fit the line speed is refused with the baud it needs."""
    from acquisition.emulator.cli import check_baud

    emu = Emulator("shirt-v1", _source(n_ch=8, sfreq=500.0), seconds=1)
    with pytest.raises(UserError, match="need about 185,000 baud"):
        check_baud(emu, 115200)
    check_baud(emu, 460800)
    emu.link.close()
