"""Ctrl-C finalizes cleanly; SIGKILL leaves a capture that ``recover`` turns into the FIF.

The recorder runs as a real subprocess (``python -m acquisition record``): against the
emulator on a pty for Ctrl-C, against a socket:// shirt in this process for SIGKILL.
Nothing received may be lost either way.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
from record_helpers import (
    REPO,
    VPC,
    SocketShirt,
    read_fault_log,
    run_cli,
    start_emulator,
    stop_emulator,
)

from acquisition.capture import read_capture
from acquisition.decoders import get_decoder
from acquisition.session import finalize_session, read_session


def _start_recorder(url, out, seconds=20):
    return subprocess.Popen(
        [sys.executable, "-m", "acquisition", "record", "--port", url, "--format", "shirt-v1",
         "--activity", "walking", "--seconds", str(seconds), "--out", str(out), "--name", "s",
         "--stall-timeout", "0.5", "--reconnect-timeout", "1", "--handshake-timeout", "10"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_bytes(out, n_bytes, timeout_s=10):
    cap = out / "s.capture"
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cap.exists() and cap.stat().st_size > n_bytes:
            return
        time.sleep(0.05)
    raise AssertionError("the recorder did not start capturing")


def _captured_seq(out):
    """Sequence numbers in the capture, decoded apart from the session builder."""
    chunks, _ = read_capture(out / "s.capture")
    dec = get_decoder("shirt-v1")
    block = dec.feed(b"".join(c[2] for c in chunks))
    return block.seq


def _check_nothing_lost(raw, meta, codes, sent, captured):
    data = raw.get_data(picks="all")
    present = np.flatnonzero(np.isfinite(data[0]))
    # Everything captured is in the file, and the capture holds every frame sent before
    # the recorder stopped reading: no hole anywhere.
    np.testing.assert_array_equal(present, captured - captured[0])
    assert captured[0] == 0 and present.size == raw.n_times
    assert np.array_equal(sent[:present.size], captured)
    np.testing.assert_array_equal(data, codes[:raw.n_times].T * VPC)
    assert meta["counts"]["lost_samples"] == 0 and meta["gaps"] == []
    ann = raw.annotations
    assert list(ann.description) == ["walking"] and ann.onset[0] == 0
    assert round(ann.duration[0] * 500) == raw.n_times  # the step, cut where recording stopped


def test_sigint_stops_cleanly_and_keeps_everything(tmp_path):
    codes = np.arange(10000 * 2).reshape(-1, 2) % 7919 - 3000
    src = tmp_path / "codes.csv"
    np.savetxt(src, codes, fmt="%d", delimiter=",")
    out = tmp_path / "out"
    emu, port = start_emulator("--format", "shirt-v1", "--playback", src, "--sfreq", 500,
                               "--fault-log", tmp_path / "log.jsonl")
    try:
        proc = _start_recorder(port, out)
        _wait_for_bytes(out, 8000)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        stop_emulator(emu)
    assert proc.returncode == 0, err
    assert "stopped by the user" in err
    raw, meta = read_session(out / "s_raw.fif")
    assert meta["stop_reason"] == "interrupted"
    assert 100 < raw.n_times < 20 * 500
    end = read_fault_log(tmp_path / "log.jsonl")[-1]
    assert end["kind"] == "end" and end["sent"] == end["generated"] >= raw.n_times
    _check_nothing_lost(raw, meta, codes, np.arange(end["sent"]), _captured_seq(out))


def test_sigkill_then_recover_loses_nothing(tmp_path):
    dev = SocketShirt(np.arange(20000 * 2).reshape(-1, 2) % 6007 - 2000, sfreq=500.0)
    try:
        proc = _start_recorder(dev.url, tmp_path)
        _wait_for_bytes(tmp_path, 8000)
        proc.kill()
        proc.wait(10)
    finally:
        dev.close()
    assert not (tmp_path / "s_raw.fif").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.capture", "s.journal.jsonl"]
    captured = _captured_seq(tmp_path)
    done = run_cli(["recover", tmp_path])
    assert done.returncode == 0, done.stderr
    assert "saved" in done.stdout
    raw, meta = read_session(tmp_path / "s_raw.fif")
    assert meta["stop_reason"] == "crashed (recovered)"
    assert raw.n_times == captured.size
    _check_nothing_lost(raw, meta, dev.codes, np.asarray(dev.sent), captured)
    first = (raw.get_data(), json.loads(raw.info["description"]))
    path, _ = finalize_session(tmp_path, "s")  # recover is repeatable (here in-process)
    raw2, meta2 = read_session(path)
    np.testing.assert_array_equal(raw2.get_data(), first[0])
    assert meta2 == first[1]
