"""Test helpers for the recorder tests: a socket:// shirt, frame building, FIF checks.

The frames are built here from the DESIGN §3 table with ``struct`` (not with
``acquisition.frames``), so the recorder tests do not lean on the project's own encoder.
"""

from __future__ import annotations

import binascii
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
VREF, GAIN = 2.4, 6
VPC = VREF / GAIN / (2**23 - 1)


def shirt_frame(seq, codes, status=0xC00000) -> bytes:
    """One shirt-v1 samples frame (DESIGN §3), built byte by byte."""
    body = struct.pack("<I", seq % 2**32) + status.to_bytes(3, "big") + b"".join(
        int(c).to_bytes(3, "big", signed=True) for c in codes)
    head = bytes([len(body), 0x01])
    crc = binascii.crc_hqx(head + body, 0xFFFF)
    return b"\xa5\x5a" + head + body + struct.pack("<H", crc)


def shirt_info_frame(info) -> bytes:
    payload = json.dumps(info).encode()
    head = bytes([len(payload), 0x02])
    crc = binascii.crc_hqx(head + payload, 0xFFFF)
    return b"\xa5\x5a" + head + payload + struct.pack("<H", crc)


class SocketShirt:
    """A shirt-v1 device served on ``socket://127.0.0.1:PORT``, streaming in real time.

    It answers ``i`` with an info frame and starts on ``b``. Its sample clock runs from
    the first ``b`` and keeps running while no host is connected: samples due while
    disconnected are never sent (as on a battery-powered shirt whose link dropped).
    ``disconnect_after`` samples into the stream it drops the connection once and
    accepts again after ``down_s``; ``sent`` records every sequence number sent.
    """

    def __init__(self, codes, sfreq=500.0, disconnect_after=None, down_s=0.4,
                 info_extra=None, status=0xC00000):
        self.codes = np.asarray(codes)
        self.status = status
        self.sfreq = sfreq
        self.disconnect_after = disconnect_after
        self.down_s = down_s
        self.info = {"device": "socket-shirt", "firmware": "t1", "sfreq": sfreq,
                     "channels": [f"E{k + 1}" for k in range(self.codes.shape[1])],
                     "gain": GAIN, "vref": VREF, **(info_extra or {})}
        self.sent = []
        self.connections = 0
        self.t0 = None
        self._srv = socket.socket()
        self._srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._srv.bind(("127.0.0.1", 0))
        self._srv.listen(4)
        self.url = f"socket://127.0.0.1:{self._srv.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        self._srv.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._srv.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with conn:
                dropped = self._session(conn)
            if dropped:
                self._stop.wait(self.down_s)

    def _session(self, conn) -> bool:
        conn.setblocking(False)
        streaming = False
        next_seq = None
        while not self._stop.is_set():
            try:
                cmd = conn.recv(64)
                if cmd == b"":
                    return False
            except BlockingIOError:
                cmd = b""
            except OSError:
                return False
            out = b""
            for c in cmd:
                if c == ord("i"):
                    out += shirt_info_frame(self.info)
                elif c == ord("b"):
                    streaming = True
                    if self.t0 is None:
                        self.t0 = time.monotonic()
            if streaming:
                due = min(int((time.monotonic() - self.t0) * self.sfreq), len(self.codes))
                if next_seq is None:
                    next_seq = due if self.sent else 0
                for seq in range(next_seq, due):
                    if self.disconnect_after is not None and seq == self.disconnect_after:
                        self.disconnect_after = None
                        if out:
                            conn.sendall(out)
                        return True
                    out += shirt_frame(seq, self.codes[seq], self.status)
                    self.sent.append(seq)
                next_seq = max(next_seq, due)
            if out:
                try:
                    conn.sendall(out)
                except OSError:
                    return False
            time.sleep(0.005)
        return False

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self._srv.close()


def expected_volts(codes, sent, n_times, vpc):
    """The FIF a perfect recorder makes: ``codes[seq] * vpc`` where sent, NaN elsewhere."""
    out = np.full((codes.shape[1], n_times), np.nan)
    sent = np.asarray(sorted(sent))
    sent = sent[sent < n_times]
    out[:, sent] = codes[sent].T * np.asarray(vpc, float).reshape(-1, 1)
    return out


def gap_list(present):
    """``[(first, n), ...]`` of the False runs, written plainly (independent of the package)."""
    gaps, k = [], 0
    while k < len(present):
        if not present[k]:
            j = k
            while j < len(present) and not present[j]:
                j += 1
            gaps.append((k, j - k))
            k = j
        else:
            k += 1
    return gaps


def run_cli(args, timeout=60, **kw):
    """Run ``python -m acquisition ARGS`` and return the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "acquisition", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"}, **kw)


def start_emulator(*args, timeout_s=15):
    """Start ``python -m acquisition device emulate ARGS``; return ``(process, port_path)``."""
    proc = subprocess.Popen([sys.executable, "-m", "acquisition", "device", "emulate",
                             *map(str, args)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise AssertionError(f"emulator did not print PORT: {line!r} {proc.stderr.read()}")
    return proc, line.split(" ", 1)[1].strip()


def stop_emulator(proc):
    """End an emulator process (it also ends by itself after its --seconds)."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


def read_fault_log(path):
    """The emulator's fault log as a list of dicts."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


LOSS_KINDS = ("drop", "crc", "stall", "unplug", "host_closed", "overflow", "unread")


def logged_lost(log, n_times):
    """Boolean mask of the samples in ``[0, n_times)`` the emulator says never arrived intact."""
    lost = np.zeros(n_times, bool)
    for rec in log:
        if rec["kind"] in LOSS_KINDS and rec.get("n_samples"):
            lost[rec["first_sample"]:rec["first_sample"] + rec["n_samples"]] = True
    return lost
