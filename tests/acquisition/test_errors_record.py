"""Each recorder error is one clear line naming the port, exit code 2, and no files left."""

from __future__ import annotations

import errno
import os
import pty
import subprocess
import sys
import threading
import time
import tty

import numpy as np
import pytest
import serial
from record_helpers import REPO, SocketShirt, run_cli

from acquisition.session import read_session
from acquisition.transport import (
    PortBusyError,
    PortNotFoundError,
    PortPermissionError,
    classify_open_error,
    open_port,
)

FAST = ["--handshake-timeout", "0.6", "--stall-timeout", "0.4", "--reconnect-timeout", "0.8"]


def _record(port, out, fmt="shirt-v1", extra=()):
    return run_cli(["record", "--port", port, "--format", fmt, "--activity", "sitting",
                    "--seconds", "1", "--out", out, "--name", "s", "--quiet", *FAST, *extra])


def _one_line_error(proc, port, *words):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "error:" in lines[0] and port in lines[0]
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def pty_pair():
    master, slave = pty.openpty()
    tty.setraw(slave)
    name = os.ttyname(slave)
    os.close(slave)
    yield master, name
    os.close(master)


def test_port_not_found(tmp_path):
    port = str(tmp_path / "ttyNOPE0")
    out = tmp_path / "out"
    line = _one_line_error(_record(port, out), port, "no such port", "device list")
    assert "ports found" in line or "no serial ports found" in line
    assert not out.exists()


def test_port_busy(tmp_path, pty_pair):
    _, name = pty_pair
    holder = serial.Serial(name, exclusive=True)  # another program has it
    try:
        out = tmp_path / "out"
        _one_line_error(_record(name, out), name, "busy", "close it")
        assert not out.exists()
    finally:
        holder.close()
    with pytest.raises(PortBusyError), serial.Serial(name, exclusive=True):
        open_port(name)


def test_permission_denied_is_classified(tmp_path, pty_pair):
    _, name = pty_pair
    if os.geteuid() != 0:  # root ignores file modes, so this half needs a normal user
        os.chmod(name, 0)
        proc = _record(name, tmp_path / "out")
        _one_line_error(proc, name, "permission denied", "dialout")
    # What pyserial raises for EACCES, classified (the path every user hits without dialout).
    err = serial.SerialException(errno.EACCES, f"could not open port {name}: "
                                 f"[Errno 13] Permission denied: '{name}'")
    got = classify_open_error(name, err)
    assert isinstance(got, PortPermissionError) and "dialout" in str(got) and name in str(got)
    got = classify_open_error("socket://127.0.0.1:9", ConnectionRefusedError(
        errno.ECONNREFUSED, "Connection refused"))
    assert isinstance(got, PortNotFoundError) and "nothing is listening" in str(got)


def test_no_handshake_leaves_no_files(tmp_path, pty_pair):
    _, name = pty_pair  # the master stays open but never answers
    out = tmp_path / "out"
    _one_line_error(_record(name, out), name, "no answer", "powered")
    assert not out.exists()


def test_wrong_format_leaves_no_files(tmp_path, pty_pair):
    master, name = pty_pair
    stop = threading.Event()

    def chatter():  # an Arduino printing text at a recorder that expects shirt-v1
        while not stop.is_set():
            try:
                os.write(master, b"512,498,501\r\n")
            except OSError:
                pass
            time.sleep(0.01)

    t = threading.Thread(target=chatter, daemon=True)
    t.start()
    try:
        out = tmp_path / "existing"
        out.mkdir()  # a folder the user made stays, but holds nothing of ours
        _one_line_error(_record(name, out), name, "none decode as shirt-v1", "--format")
        assert list(out.iterdir()) == []
    finally:
        stop.set()
        t.join()


@pytest.fixture(scope="module", autouse=True)
def disconnected_run(tmp_path_factory):
    """The slow case (a device that leaves for good) runs in the background from the
    start of this module, so the other error tests overlap with it."""
    tmp = tmp_path_factory.mktemp("gone")
    codes = np.arange(3000 * 2).reshape(3000, 2) - 3000
    dev = SocketShirt(codes, sfreq=500.0, disconnect_after=200, down_s=5.0)
    proc = subprocess.Popen(
        [sys.executable, "-m", "acquisition", "record", "--port", dev.url, "--format",
         "shirt-v1", "--activity", "sitting", "--seconds", "1", "--out", str(tmp), "--name",
         "s", "--quiet", *FAST], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    state = {"proc": proc, "dev": dev, "out": tmp}
    yield state
    if proc.poll() is None:
        proc.kill()
    proc.communicate()
    dev.close()


def test_disconnected_beyond_budget_saves_what_was_received(disconnected_run):
    proc, dev, out = disconnected_run["proc"], disconnected_run["dev"], disconnected_run["out"]
    stdout, stderr = proc.communicate(timeout=60)
    proc = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    line = _one_line_error(proc, dev.url, "disconnected", "saved what was received")
    path = out / "s_raw.fif"
    assert str(path) in line
    raw, meta = read_session(path)
    assert raw.n_times == 200 and meta["stop_reason"] == "disconnected"
    assert np.isfinite(raw.get_data()).all()
    assert meta["counts"]["lost_samples"] == 0


def test_loop_url_opens_and_an_echo_is_not_a_device(tmp_path):
    from acquisition.protocol import make_step
    from acquisition.recorder import Recorder, RecordTimeouts
    from acquisition.transport import WrongFormatError

    port = open_port("loop://")  # pyserial URL handlers open like device paths
    port.write(b"i")
    assert port.read(1) == b"i"
    port.close()
    rec = Recorder("loop://", "shirt-v1", tmp_path / "out", "s", [make_step("rest", 1)],
                   timeouts=RecordTimeouts(handshake_s=0.3), quiet=True)
    with pytest.raises(WrongFormatError, match="loop://: .* none decode as shirt-v1"):
        rec.run()  # loop:// echoes our 'i' and 'b' back: bytes that are no frame
    assert not (tmp_path / "out").exists()
