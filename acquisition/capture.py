"""Crash-safe session storage: the append-only byte capture and the JSON-lines journal.

A session folder entry ``NAME.capture`` holds every byte the port delivered, exactly as
received, in records::

    file header  b"SHIRTECG-CAPTURE/1\\n"
    record       b"CHNK" | conn u16 LE | length u32 LE | host_time f64 LE | payload

``conn`` numbers the connection (0, then 1 after the first reconnect, …) so the decoder
can be reset where a new connection starts; ``host_time`` is the UNIX time the chunk
arrived (a diagnostic and the source of ``meas_date``; the time base is the sample index).
Each record goes out in one ``os.write``, so a SIGKILL leaves at most one torn record at
the end, which :class:`CaptureReader` drops (and reports).

``NAME.journal.jsonl`` holds one JSON object per line: session start (settings, device,
protocol), connects and disconnects, protocol steps with their sample positions, stop.
A torn last line is ignored on reading. Both files are fsynced periodically.
"""

from __future__ import annotations

import json
import os
import struct
import time
from pathlib import Path

from shirtecg_common.errors import UserError

CAPTURE_MAGIC = b"SHIRTECG-CAPTURE/1\n"
RECORD = struct.Struct("<4sHId")
RECORD_TAG = b"CHNK"
CAPTURE_SUFFIX = ".capture"
JOURNAL_SUFFIX = ".journal.jsonl"


def capture_path(out_dir, name) -> Path:
    """``DIR/NAME.capture``."""
    return Path(out_dir) / f"{name}{CAPTURE_SUFFIX}"


def journal_path(out_dir, name) -> Path:
    """``DIR/NAME.journal.jsonl``."""
    return Path(out_dir) / f"{name}{JOURNAL_SUFFIX}"


class CaptureWriter:
    """Append received bytes to a capture file, one record per chunk.

    Parameters
    ----------
    path : path-like
        The capture file; must not exist yet (sessions are never overwritten).
    """

    def __init__(self, path):
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        os.write(self._fd, CAPTURE_MAGIC)
        self.n_bytes = 0

    def append(self, conn, data, host_time=None):
        """Write one chunk received on connection ``conn`` (one ``os.write``)."""
        t = time.time() if host_time is None else host_time
        os.write(self._fd, RECORD.pack(RECORD_TAG, conn, len(data), t) + data)
        self.n_bytes += len(data)

    def sync(self):
        """Flush to stable storage (called periodically and at the end)."""
        if self._fd is not None:
            os.fsync(self._fd)

    def close(self):
        """Sync and close."""
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None


def read_capture(path):
    """Read a whole capture file into memory (small files, tests; see :class:`CaptureReader`).

    Parameters
    ----------
    path : path-like
        A file written by :class:`CaptureWriter`.

    Returns
    -------
    chunks : list of tuple
        ``(conn, host_time, payload_bytes)`` in arrival order.
    torn_bytes : int
        Bytes of an incomplete record at the end (a write cut short), ignored.
    """
    reader = CaptureReader(path)
    chunks = list(reader)
    return chunks, reader.torn_bytes


class CaptureReader:
    """Iterate over a capture file's records without loading the file.

    Iterating yields ``(conn, host_time, payload_bytes)`` in arrival order, reading the file
    sequentially (memory: one record). After a full iteration, ``torn_bytes`` holds the size of
    an incomplete record at the end (ignored) and ``n_bytes`` the payload bytes read.

    Parameters
    ----------
    path : path-like
        A file written by :class:`CaptureWriter`.

    Raises
    ------
    UserError
        When the header is not a capture header or a record tag is corrupt.
    """

    def __init__(self, path):
        self.path = Path(path)
        self.torn_bytes = 0
        self.n_bytes = 0

    def __iter__(self):
        head = RECORD.size
        self.torn_bytes, self.n_bytes = 0, 0
        with open(self.path, "rb", buffering=1 << 20) as f:
            if f.read(len(CAPTURE_MAGIC)) != CAPTURE_MAGIC:
                raise UserError(f"{self.path}: not a shirtecg capture file (bad header)")
            pos = len(CAPTURE_MAGIC)
            while True:
                rec = f.read(head)
                if len(rec) < head:
                    self.torn_bytes = len(rec)
                    return
                tag, conn, length, t = RECORD.unpack(rec)
                if tag != RECORD_TAG:
                    raise UserError(f"{self.path}: corrupt capture record at byte {pos}")
                payload = f.read(length)
                if len(payload) < length:
                    self.torn_bytes = head + len(payload)
                    return
                pos += head + length
                self.n_bytes += length
                yield conn, t, payload


class Journal:
    """Append-only JSON-lines event log of a session.

    Parameters
    ----------
    path : path-like
        The journal file; must not exist yet.
    """

    def __init__(self, path):
        self.path = Path(path)
        self._f = open(self.path, "x", encoding="utf-8")

    def write(self, event, **fields):
        """Append ``{"event": event, "time": now, **fields}`` and flush it to the OS."""
        record = {"event": event, "time": time.time(), **fields}
        self._f.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._f.flush()

    def sync(self):
        """fsync the journal."""
        if not self._f.closed:
            os.fsync(self._f.fileno())

    def close(self):
        """Sync and close."""
        if not self._f.closed:
            self._f.flush()
            os.fsync(self._f.fileno())
            self._f.close()


def read_journal(path) -> list:
    """The events of a journal; a torn (unparsable) last line is ignored.

    Raises
    ------
    UserError
        If the file is missing, or a line other than the last is not JSON.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: journal not found (is this a shirtecg session folder?)")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    events = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break  # torn by a crash mid-write
            raise UserError(f"{path}: line {i + 1} is not valid JSON") from None
    if not events or events[0].get("event") != "start":
        raise UserError(f"{path}: journal does not begin with a 'start' event")
    return events


def open_session_files(out_dir, name, **start_fields):
    """Create ``NAME.capture`` and ``NAME.journal.jsonl`` and write the ``start`` event.

    Returns
    -------
    capture : CaptureWriter
    journal : Journal
    """
    capture = CaptureWriter(capture_path(out_dir, name))
    try:
        journal = Journal(journal_path(out_dir, name))
    except BaseException:
        capture.close()
        capture_path(out_dir, name).unlink()
        raise
    journal.write("start", schema="shirtecg-capture/1", name=name,
                  software=software_versions(), **start_fields)
    return capture, journal


def remove_session_files(out_dir, name, remove_dir=False):
    """Delete a session's capture and journal (a start that recorded nothing)."""
    for p in (capture_path(out_dir, name), journal_path(out_dir, name)):
        p.unlink(missing_ok=True)
    if remove_dir:
        try:
            Path(out_dir).rmdir()  # only if empty: never another session's files
        except OSError:
            pass


def software_versions() -> dict:
    """Versions worth keeping with a recording (acquisition_anchors §4.3)."""
    import sys
    from importlib.metadata import PackageNotFoundError, version

    import numpy
    import serial

    versions = {"python": sys.version.split()[0], "numpy": numpy.__version__,
                "pyserial": serial.__version__}
    try:
        versions["shirtecg"] = version("shirtecg")
    except PackageNotFoundError:  # a checkout that was never installed
        versions["shirtecg"] = None
    return versions
