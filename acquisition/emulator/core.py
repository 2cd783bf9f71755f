"""The emulated device: host commands, real-time pacing, faults, one pty link.

Device clock: sample ``k`` is due ``k / sfreq`` seconds after the first ``b``; every tick
(``chunk_s``, a few ms) the emulator sends the samples that fell due, so the byte stream arrives
in real time in small chunks, as from a USB-UART. ``s`` stops the clock, ``b`` restarts it where it
stopped. During an unplug or a stall, or while no host has the port open, the clock runs on and
the samples that fall due are lost (and logged): sequence gaps on the host side are exact.
"""

from __future__ import annotations

import signal as _signal
import threading
import time

import numpy as np

from acquisition import frames
from acquisition.emulator.faults import FaultLog, FaultSpec, RandomFaults
from acquisition.emulator.pty_link import PtyLink
from acquisition.emulator.stream_index import StreamIndex
from shirtecg_common.random import check_random_state

FIRMWARE = "shirtecg-emulator 1"
CYTON_BANNER = (b"OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\n"
                b"LIS3DH Device ID: 0x33\nFirmware: v3.1.2 (shirtecg emulator)\n$$$")
OUTBUF_LIMIT_S = 1.0  # bytes the host has not read yet, in seconds of stream, before overflow


class Emulator:
    """A serial device on a pseudo-terminal.

    Parameters
    ----------
    fmt : {"shirt-v1", "openbci-cyton", "ascii"}
    source : SyntheticSource | PlaybackSource
        What the device samples (:mod:`acquisition.emulator.sources`).
    seconds : float | None
        Stream length on the device clock (None: the whole playback file, or forever).
    faults : str | FaultSpec | None
        ``--faults`` specification (see :mod:`acquisition.emulator.faults`).
    fault_log : str | Path | None
        JSON-lines file of everything injected.
    random_state : None | int | numpy.random.Generator
        Seed of the fault draws.
    gain, vref : float | list, float
        Scale announced in the ``shirt-v1`` info frame (``vref / gain / (2**23 - 1)`` V/count).
    counter : bool
        ``ascii``: print a leading counter column.
    link_path : str | None
        Path of the port symlink (default: a new temp folder's ``ttyEMU0``).
    chunk_s : float
        Tick of the real-time loop.
    linger_s : float
        After the stream ends, keep the port open this long (or until the host closes it).
    speed : float
        Device clock speed relative to real time (1.0: real time; 20: a 60-s file in 3 s).
    idle_timeout_s : float | None
        End when the device has not been streaming for this long (wall time since the port
        opened without a ``b``, or since the last ``s``): an emulator that no host starts does
        not run forever. None or 0: never.
    """

    def __init__(self, fmt, source, seconds=None, faults=None, fault_log=None, random_state=None,
                 gain=6.0, vref=2.4, counter=True, link_path=None, chunk_s=0.005, linger_s=2.0,
                 device_name="shirtecg-emulator", speed=1.0, idle_timeout_s=60.0):
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed!r}")
        self.speed = float(speed)
        self.idle_timeout_s = float(idle_timeout_s) if idle_timeout_s else None
        self._idle_since = time.monotonic()
        self.end_reason = None
        if fmt not in ("shirt-v1", "openbci-cyton", "ascii"):
            raise ValueError(f"unknown format {fmt!r}; accepted: shirt-v1, openbci-cyton, ascii")
        self.fmt = fmt
        self.source = source
        self.sfreq = source.sfreq
        self.n_channels = source.n_channels
        n_total = source.n_times
        if seconds is not None:
            n_sec = int(round(seconds * self.sfreq))
            n_total = n_sec if n_total is None else min(n_total, n_sec)
        self.n_total = n_total
        self.spec = faults if isinstance(faults, FaultSpec) else FaultSpec.parse(faults or "")
        self.log = FaultLog(fault_log)
        self.rng = check_random_state(random_state)
        self.random_state = random_state
        self.faults = RandomFaults(self.spec, fmt, self.rng)
        self.gain, self.vref, self.counter = gain, vref, counter
        self.chunk_s, self.linger_s = chunk_s, linger_s
        self.device_name = device_name
        self.link = PtyLink(link_path)
        self.totals = {"generated": 0, "sent": 0, "dropped": 0, "crc": 0, "junk_bytes": 0,
                       "stalled": 0, "unplugged": 0, "host_closed": 0, "overflow": 0,
                       "unread": 0}
        self._stop = threading.Event()
        self._thread = None
        self._timed = [list(t) + [False] for t in self.spec.timed]  # kind, at_s, dur_s, fired
        self.streaming = False
        self.seq = 0
        self._t0 = None
        self._host_ready = False
        self._replug_at = None
        self._pending = None  # [kind, first_sample] of samples lost while unplugged / no host
        self._out = bytearray()
        self._index = StreamIndex()  # bytes -> samples, for what the host never receives

    # -- life cycle ---------------------------------------------------------------------------------
    @property
    def port(self):
        """The stable port path (a symlink to the current pty slave)."""
        return self.link.path

    def open(self):
        """Create the pty and write the log's start line; returns the port path."""
        self.link.plug()
        self._idle_since = time.monotonic()
        self.log.write({"kind": "start", "format": self.fmt, "sfreq": self.sfreq,
                        "n_channels": self.n_channels, "ch_names": list(self.source.ch_names),
                        "port": self.port, "seed": self.random_state
                        if isinstance(self.random_state, (int, type(None))) else None,
                        "faults": self.spec.to_dict(), "n_total": self.n_total,
                        "gain": self.gain, "vref": self.vref, **self.source.describe()})
        return self.port

    def run(self):
        """Serve the host until the stream ends (plus ``linger_s``) or :meth:`stop` is called."""
        if not self.link.plugged and self._replug_at is None:
            self.open()
        end_at = None
        try:
            while not self._stop.is_set():
                if self._idle_expired():
                    break
                self._poll_host()
                if self.streaming:
                    self._tick()
                if self.n_total is not None and self.seq >= self.n_total:
                    self._flush_out(wait_s=0.2)
                    if end_at is None:
                        end_at = time.monotonic() + self.linger_s
                    if time.monotonic() >= end_at or (not self._host_ready and not self._out):
                        self.end_reason = self.end_reason or "stream_end"
                        break
        finally:
            self._finish()

    def _idle_expired(self):
        if self.streaming or self.idle_timeout_s is None:
            return False
        if time.monotonic() - self._idle_since < self.idle_timeout_s:
            return False
        self.end_reason = "idle_timeout"
        return True

    def start(self):
        """Run in a background thread (for tests and embedding); returns the port path."""
        port = self.open()
        self._thread = threading.Thread(target=self.run, name="shirtecg-emulator", daemon=True)
        self._thread.start()
        return port

    def stop(self, timeout_s=5.0):
        """Stop the loop and close the port."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def install_signal_handlers(self):
        """SIGINT/SIGTERM end the stream cleanly (the log gets its end line)."""
        for sig in (_signal.SIGINT, _signal.SIGTERM):
            _signal.signal(sig, lambda *_: self._stop.set())

    # -- host --------------------------------------------------------------------------------------
    def _poll_host(self):
        if self._replug_at is not None:
            if time.monotonic() < self._replug_at:
                self._stop.wait(self.chunk_s)
                return
            self._replug_at = None
            self.link.plug()
        cmds = self.link.read_commands(self.chunk_s if not self._out else 0.0)
        if cmds is None:  # nobody holds the port open (select returns at once: wait here)
            if self._host_ready:
                self._log_host_left()
            self._host_ready = False
            self._stop.wait(self.chunk_s)
            return
        if cmds:
            self._host_ready = True  # the host has finished opening: writes now reach it
        for c in cmds.decode("latin-1"):
            if c == "b" and not self.streaming:
                self.streaming = True
                self._t0 = time.monotonic() - self.seq / (self.sfreq * self.speed)
            elif c == "s":
                if self.streaming:
                    self._idle_since = time.monotonic()
                self.streaming = False
            elif c == "i" and self.fmt == "shirt-v1":
                self._append(frames.shirt_v1_info(self.info()))
            elif c == "v" and self.fmt == "openbci-cyton":
                self._append(CYTON_BANNER)
        self._flush_out()

    def info(self):
        """The ``shirt-v1`` info frame's JSON object."""
        gain = self.gain if np.isscalar(self.gain) else [round(float(g), 9) for g in self.gain]
        leads = getattr(self.source, "leads", None)
        channels = list(self.source.ch_names) if leads is None else \
            [{"name": n, "lead": lead} for n, lead in zip(self.source.ch_names, leads)]
        return {"device": self.device_name, "firmware": FIRMWARE, "sfreq": self.sfreq,
                "channels": channels, "gain": gain, "vref": self.vref}

    def _append(self, data, seq=None, ends=None):
        """Queue ``data``; ``seq``/``ends``: its intact samples frames and their end offsets."""
        self._out += data
        self._index.append(len(data), seq, ends)

    def _log_host_left(self):
        """The host closed the port: log the last sample written to it (known exactly).

        Samples up to it that the host had not read yet vanished with its pty buffer (the host
        sees them as a sequence gap; the emulator cannot count them); later ones are either
        still queued here for the next host or logged as ``host_closed``.
        """
        last = self._index.last_sample_within(self._index.n_bytes - len(self._out))
        self.log.write({"kind": "host_left", "time_s": self.seq / self.sfreq,
                        "last_written_sample": last, "queued_bytes": len(self._out)})

    def _withdraw_unread(self, cause):
        """Take back what the host has not read (pty queue + ``_out``) and log its samples.

        Called right before the pty closes (unplug, end of stream): those bytes are lost, and
        a frame whose end lies in them never reaches the host intact. Logs one ``unread``
        record ``{first_sample, n_samples}`` per run of such samples.
        """
        unread = self.link.take_unread() if self.link.plugged else b""
        n_bytes = len(unread) + len(self._out)
        self._out.clear()
        if n_bytes == 0:
            return
        lost = self._index.samples_after(self._index.n_bytes - n_bytes)
        self._index.clear()
        breaks = np.flatnonzero(np.diff(lost) != 1) + 1
        for run in np.split(lost, breaks) if lost.size else []:
            self.log.write({"kind": "unread", "cause": cause, "time_s": int(run[0]) / self.sfreq,
                            "first_sample": int(run[0]), "n_samples": int(run.size)})
        self.totals["sent"] -= int(lost.size)
        self.totals["unread"] += int(lost.size)
        self.log.write({"kind": "withdrawn", "cause": cause, "time_s": self.seq / self.sfreq,
                        "n_bytes": n_bytes, "n_samples": int(lost.size)})

    def _flush_out(self, wait_s=0.0):
        deadline = time.monotonic() + wait_s
        while self._out and self._host_ready and self.link.plugged:
            n = self.link.write(bytes(self._out))
            del self._out[:n]
            if not self._out or time.monotonic() >= deadline:
                break
            time.sleep(0.001)

    # -- streaming ---------------------------------------------------------------------------------
    def _tick(self):
        due = int((time.monotonic() - self._t0) * self.sfreq * self.speed)
        if self.n_total is not None:
            due = min(due, self.n_total)
        while self.seq < due:
            stop = due
            for ev in self._timed:  # split the range at the next unplug
                s = int(round(ev[1] * self.sfreq))
                if ev[0] == "unplug" and not ev[3] and self.seq <= s < stop:
                    stop = s
            if stop > self.seq:
                self._emit(self.seq, stop - self.seq)
            for ev in self._timed:
                if ev[0] == "unplug" and not ev[3] and int(round(ev[1] * self.sfreq)) == self.seq:
                    self._unplug(ev)

    def _unplug(self, ev):
        ev[3] = True
        self._flush_out(wait_s=0.5)
        self.link.wait_drained(0.5)
        self._withdraw_unread("unplug")
        self.link.unplug(drain_timeout_s=0.0)
        self._host_ready = False
        self._replug_at = time.monotonic() + ev[2]
        self._start_loss("unplug", extra={"down_s": ev[2]})

    def _start_loss(self, kind, extra=None, first=None):
        if self._pending is None:
            self._pending = [kind, self.seq if first is None else int(first), extra or {}]

    def _end_loss(self, first_sent):
        if self._pending is None:
            return
        kind, first, extra = self._pending
        n = first_sent - first
        self.totals["unplugged" if kind == "unplug" else "host_closed"] += n
        self.log.write({"kind": kind, "time_s": first / self.sfreq, "first_sample": first,
                        "n_samples": n, **extra})
        self._pending = None

    def _emit(self, first, n):
        codes = self.source.read(n)
        n = codes.shape[0]
        if n == 0:
            self.n_total = self.seq
            return
        self.seq = first + n
        self.totals["generated"] += n
        seq = np.arange(first, first + n, dtype=np.int64)
        send = np.ones(n, bool)
        for ev in self._timed:
            if ev[0] != "stall":
                continue
            s, e = int(round(ev[1] * self.sfreq)), int(round((ev[1] + ev[2]) * self.sfreq))
            inside = (seq >= s) & (seq < e)
            if inside.any() and not ev[3]:
                ev[3] = True
                self.log.write({"kind": "stall", "time_s": s / self.sfreq, "first_sample": s,
                                "n_samples": e - s, "duration_s": ev[2]})
                self.totals["stalled"] += e - s
            send &= ~inside
        if not (self._host_ready and self.link.plugged):
            if send.any():  # lost from this block's first unsent sample on, not from its end
                self._start_loss("host_closed", first=seq[send][0])
            return
        if not send.any():
            return
        self._end_loss(int(seq[send][0]))
        self._send(seq[send], codes[send])

    def _send(self, seq, codes):
        fault = self.faults.draw(seq.size)
        if self.fmt == "ascii":
            rows = frames.ascii_lines(codes, seq if self.counter else None).split(b"\n")[:-1]
            chunks = [r + b"\n" for r in rows]
        else:
            data = frames.encode_samples(self.fmt, seq, codes)
            width = len(data) // seq.size
            chunks = None if not fault.any() else \
                [data[k * width:(k + 1) * width] for k in range(seq.size)]
        if chunks is None:
            out, good, ends = data, seq, width * np.arange(1, seq.size + 1)
        else:
            parts, good, ends, offset = [], [], [], 0
            for k in range(seq.size):
                f, frame = fault[k], chunks[k]
                if f == 1:
                    self._log_fault("drop", seq[k], 1, len(frame))
                    self.totals["dropped"] += 1
                    continue
                if f == 2:
                    frame = self.faults.corrupt(frame)
                    self._log_fault("crc", seq[k], 1, len(frame))
                    self.totals["crc"] += 1
                elif f == 3:
                    junk = self.faults.junk()
                    self._log_fault("junk", seq[k], 0, len(junk))
                    self.totals["junk_bytes"] += len(junk)
                    parts.append(junk)
                    offset += len(junk)
                parts.append(frame)
                offset += len(frame)
                if f != 2:
                    good.append(seq[k])
                    ends.append(offset)
            out = b"".join(parts)
        if len(self._out) > OUTBUF_LIMIT_S * self.sfreq * 40 * max(self.n_channels, 1):
            self.log.write({"kind": "overflow", "time_s": int(seq[0]) / self.sfreq,
                            "first_sample": int(seq[0]), "n_samples": int(seq.size),
                            "n_bytes": len(out)})
            self.totals["overflow"] += int(seq.size)
            return
        self.totals["sent"] += int(seq.size - np.count_nonzero(fault == 1))
        self._append(out, good, ends)
        self._flush_out()

    def _log_fault(self, kind, first, n_samples, n_bytes):
        self.log.write({"kind": kind, "time_s": int(first) / self.sfreq,
                        "first_sample": int(first), "n_samples": n_samples, "n_bytes": n_bytes})

    def _finish(self):
        if self._pending is not None:
            self._end_loss(self.seq)
        if self._host_ready:
            self._flush_out(wait_s=0.5)
            self.link.wait_drained(0.5)  # let the host read the last frames
        self._withdraw_unread("end")  # and account for any it did not
        self.link.unplug(drain_timeout_s=0.0)
        self.log.write({"kind": "end", "samples": self.seq,
                        "reason": self.end_reason or "stopped", **self.totals})
        self.log.close()
        self.link.close()
