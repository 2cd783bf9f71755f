"""The recorder: follow a protocol (or activity keys), keep every byte, survive unplugs.

States (acquisition_anchors §7): CONNECTING → HANDSHAKE → STREAMING ↔ RECONNECTING →
STOPPING → SAVED. Received bytes reach disk in the reader thread (:mod:`acquisition.link`)
before anything else looks at them; this thread decodes a copy live only to show the
status line, place protocol steps (or, in a free recording, the activity keys' marks:
:mod:`acquisition.free_recording`) and notice stalls. The FIF is then built from the
files on disk (:func:`acquisition.session.finalize_session`), exactly as ``shirtecg
recover`` would do after a crash.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from acquisition.activity_keys import DEFAULT_KEY_MAP
from acquisition.capture import capture_path, journal_path, open_session_files, remove_session_files
from acquisition.connection import STOP_COMMAND, ConnectionMixin
from acquisition.console import Console
from acquisition.free_recording import FreeRecordingMixin
from acquisition.protocol import step_sample_bounds
from acquisition.quality import QualityMonitor
from acquisition.session import feed_decoder, fif_path, finalize_session
from acquisition.stream_settings import resolve_settings
from acquisition.timeline import Timeline
from acquisition.transport import DisconnectedError, discover_port, open_port
from shirtecg_common.errors import UserError


@dataclass
class RecordTimeouts:
    """Timing knobs (seconds); tests shorten them."""

    handshake_s: float = 3.0   # first answer (info frame / first sample) must come by then
    stall_s: float = 2.0       # no decoded sample for this long while streaming → reconnect
    reconnect_s: float = 30.0  # total budget to get the device back per disconnect
    fsync_s: float = 1.0       # capture + journal fsync period
    drain_s: float = 0.2       # after the stop command, keep reading this long


class Recorder(FreeRecordingMixin, ConnectionMixin):
    """Record one session from a serial port.

    Parameters
    ----------
    port_url : str | None
        Anything :func:`serial.serial_for_url` opens; None: the one serial port whose USB
        ids match ``device["usb"]``. After an unplug, a device with USB ids is looked up
        again and followed to its new port name.
    fmt : str
        ``shirt-v1``, ``openbci-cyton`` or ``ascii``.
    out_dir : path-like
        Session folder (created if missing).
    name : str
        Session name: files ``NAME_raw.fif``, ``NAME.capture``, ``NAME.journal.jsonl``.
    steps : list of dict | None
        Protocol steps ``{activity, seconds, prompt}`` (see :mod:`acquisition.protocol`).
        None (or empty): a free recording, activities marked with keys
        (:meth:`press`, ``keys``) until ``q``, Ctrl-C or ``seconds``.
    baud : int
        Line speed.
    device : dict | None
        :func:`acquisition.stream_settings.device_to_dict` of a ``device.yaml``.
    sfreq, scale : float | None
        Overrides of the sampling rate and volts per count (needed for ``ascii``
        without a ``device.yaml``).
    n_channels : int | None
        Channels in an ``ascii`` stream (default: ``device.yaml``'s; else learnt from
        the first line, then without a counter column).
    timeouts : RecordTimeouts | None
    keys : file-like | None
        Free recording: where activity keys are read (the CLI gives ``sys.stdin``: a
        terminal in cbreak mode, else one command per line); None reads none (use
        :meth:`press`).
    key_map : dict | None
        Free recording: ``{key: activity}`` (default
        :data:`acquisition.activity_keys.DEFAULT_KEY_MAP`).
    seconds : float | None
        Free recording: stop after this long (default: at ``q`` or Ctrl-C).
    quiet : bool
        No prompts, no status line.
    stream : file-like
        Where prompts and the status line go (default ``sys.stderr``; the status line
        is drawn only on a terminal).
    """

    def __init__(self, port_url, fmt, out_dir, name, steps, *, baud=921600, device=None,
                 sfreq=None, scale=None, n_channels=None, timeouts=None, keys=None,
                 key_map=None, seconds=None, quiet=False, stream=None):
        self.port_url = port_url
        self.fmt = fmt
        self.out_dir = Path(out_dir)
        self.name = name
        self.steps = list(steps or [])
        self.baud = baud
        self.device = device
        self.sfreq = sfreq
        self.scale = scale
        self.n_channels = n_channels
        self.timeouts = timeouts or RecordTimeouts()
        self.keys = keys
        self.key_map = dict(key_map or DEFAULT_KEY_MAP)
        self.seconds = seconds
        self.quiet = quiet
        self.stream = stream

    # -- public ------------------------------------------------------------------------------
    def run(self):
        """Record until the protocol ends (free: ``q`` or ``seconds``), Ctrl-C, or the
        device is gone for good.

        Returns
        -------
        path : pathlib.Path
            The session FIF.
        meta : dict
            Its ``info["description"]``.

        Raises
        ------
        PortError
            Open, handshake or format failures (no files are left behind), or
            :class:`DisconnectedError` after saving what was received.
        """
        for p in (fif_path(self.out_dir, self.name), capture_path(self.out_dir, self.name),
                  journal_path(self.out_dir, self.name)):
            if p.exists():
                raise UserError(f"{p} already exists; choose another --name or --out")
        if self.fmt == "ascii" and not self.device and (self.sfreq is None or self.scale is None):
            raise UserError("ascii streams carry no rate or scale: give --sfreq and --scale, "
                            "or --device device.yaml")
        self.port_now = self.port_url or discover_port(
            (self.device or {}).get("usb"), where=(self.device or {}).get("path") or "device")
        port = open_port(self.port_now, baudrate=self.baud)
        created_dir = not self.out_dir.exists()
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._open_files()
        except BaseException:
            port.close()
            raise
        self._init_state()
        restore = self._install_signal_handlers()
        try:
            self._connect(port)
            try:
                self._handshake()
            except BaseException:
                self._discard(created_dir)  # no session started: leave no files
                raise
            self._start_keys()
            reason = self._stream()
        except BaseException:
            self._close_keys()
            self._close_link()
            self._close_files()
            raise
        finally:
            restore()
        self._close_keys()  # restore the terminal before the last lines are printed
        self._stop(reason)
        try:
            path, meta = finalize_session(self.out_dir, self.name)
        except Exception as err:  # the capture is safe; say how to get the FIF from it
            raise UserError(f"could not write the FIF ({' '.join(str(err).split())}); the "
                            f"capture is kept: `shirtecg recover {self.out_dir} --name "
                            f"{self.name}`") from err
        if reason == "disconnected":
            err = DisconnectedError(
                f"{self.port_now}: device disconnected and not back within "
                f"{self.timeouts.reconnect_s:g} s; saved what was received "
                f"({meta['n_samples'] / meta['sfreq']:.1f} s) to {path}")
            err.path, err.meta = path, meta  # the session exists: callers may use it
            raise err
        return path, meta

    # -- set-up ------------------------------------------------------------------------------
    def _open_files(self):
        # ASCII lines cannot say whether their first column is a counter; knowing the
        # channel count settles it (n + 1 fields → counter).
        n_ch = self.n_channels or (len(self.device["channels"]) if self.device else None)
        self.decoder_kwargs = {"n_channels": n_ch} if self.fmt == "ascii" and n_ch else {}
        self.capture, self.journal = open_session_files(
            self.out_dir, self.name, port=self.port_now, format=self.fmt, baud=self.baud,
            device=self.device, sfreq=self.sfreq, scale=self.scale, protocol=self.steps,
            decoder_kwargs=self.decoder_kwargs, timeouts=vars(self.timeouts),
            mode="free" if self.free else "protocol",
            **({"key_map": self.key_map, "seconds": self.seconds} if self.free else {}))

    def _init_state(self):
        from acquisition.decoders import get_decoder

        self.console = Console(self.stream, self.quiet)
        self.queue = queue.Queue()
        self.decoder = get_decoder(self.fmt, **self.decoder_kwargs)
        self.timeline = Timeline()
        self.link = None
        self.conn = -1
        self.settings = None
        self.monitor = None
        self.bounds = []
        self.step = -1
        self.announced = 0
        self.bytes_seen = 0
        self.last_sample_t = None
        self.stop_requested = 0
        self.activity, self.activity_start, self.key_stop = None, 0, False
        self.cpu0 = self.wall0 = None
        self._last_sync = self._last_draw = time.monotonic()

    def _install_signal_handlers(self):
        """First Ctrl-C (or SIGTERM) stops cleanly; a second one aborts (capture kept)."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def handler(signum, frame):
            self.stop_requested += 1
            if self.stop_requested > 1:
                raise KeyboardInterrupt

        old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        return lambda: [signal.signal(s, h) for s, h in old.items()]

    # -- streaming ---------------------------------------------------------------------------
    def _process(self, item):
        if item[0] == "key":
            self._on_key(item[3])
            return
        if item[0] == "disk":
            raise UserError(f"{self.capture.path}: cannot write ({item[3]}); recording "
                            f"stopped, what was written is kept: `shirtecg recover "
                            f"{self.out_dir} --name {self.name}`")
        _, conn, t, data = item
        self.bytes_seen += len(data)
        block = feed_decoder(self.decoder, data, t)
        if not len(block.seq):
            return
        # A device already streaming may send samples before it answers 'i': place them,
        # but decide rate and scale only once the info frame is in.
        if self.settings is None and (self.fmt != "shirt-v1" or self.decoder.info is not None):
            self._start_settings(block)
        _, keep = self.timeline.place(block.seq, conn)
        if self.monitor is not None:
            self.monitor.add(np.asarray(block.codes)[keep], np.asarray(block.status)[keep])
        self.last_sample_t = time.monotonic()

    def _start_settings(self, block):
        codes = np.asarray(block.codes)
        self.settings = resolve_settings(self.fmt, codes.shape[1], info=self.decoder.info,
                                         device=self.device, sfreq=self.sfreq,
                                         scale=self.scale)
        self.monitor = QualityMonitor(codes.shape[1], self.settings.sfreq,
                                      self.settings.volts_per_count, self.settings.adc_bits,
                                      self.settings.adc_signed)
        self.bounds = step_sample_bounds(self.steps, self.settings.sfreq)
        if self.free and self.seconds:
            self.bounds = [(0, max(1, round(self.seconds * self.settings.sfreq)))]
        self.cpu0, self.wall0 = _cpu_s(), time.monotonic()

    def _stream(self) -> str:
        """Main loop; returns the stop reason."""
        total = self.bounds[-1][1] if self.bounds else None
        while True:
            if self.stop_requested:
                return "interrupted"
            if self.key_stop:
                return "stopped"
            n = self.timeline.n_times
            while self.step + 1 < len(self.steps) and n >= self.bounds[self.step + 1][0]:
                self._begin_step(self.step + 1, n)
            self._announce_next(n)
            if total is not None and n >= total:
                return "complete"
            now = time.monotonic()
            if now - self.last_sample_t > self.timeouts.stall_s and self._stalled():
                if not self._reconnect("stall: no samples for "
                                       f"{self.timeouts.stall_s:g} s"):
                    return "interrupted" if self.stop_requested else "disconnected"
                continue
            if now - self._last_sync >= self.timeouts.fsync_s:
                self.capture.sync()
                self.journal.sync()
                self._last_sync = now
            if now - self._last_draw >= 0.25:
                self._draw_status()
                self._last_draw = now
            try:
                item = self.queue.get(timeout=0.05)
            except queue.Empty:
                continue
            if item[0] == "error":
                if item[1] == self.conn and not self._reconnect(
                        f"port error: {' '.join(str(item[3]).split())}"):
                    return "interrupted" if self.stop_requested else "disconnected"
                continue
            self._process(item)

    def _stalled(self) -> bool:
        """A stall only if nothing is waiting anywhere: a busy host is not a silent device
        (and reopening the port would throw away what its buffer holds)."""
        if not self.queue.empty():
            return False
        try:
            return self.link is None or self.link.port.in_waiting == 0
        except (OSError, ValueError, AttributeError):
            return True  # the port is failing: the reader will report it too

    def _begin_step(self, k, n_now):
        self.step = k
        step = self.steps[k]
        self.journal.write("step", index=k, activity=step["activity"],
                           start_sample=self.bounds[k][0], live_sample=n_now)
        self.console.say(f"[{k + 1}/{len(self.steps)}] {step['activity']} for "
                         f"{step['seconds']:g} s: {step['prompt']}")

    def _announce_next(self, n):
        """Count down to the next step: its prompt comes 3 s (at most half a step) early."""
        k = self.step + 1
        if k >= len(self.steps) or k <= self.announced:
            return
        a, b = self.bounds[self.step]
        if n >= b - min(3.0 * self.settings.sfreq, (b - a) / 2):
            self.announced = k
            self.console.say(f"next in {(b - n) / self.settings.sfreq:.1f} s: "
                             f"{self.steps[k]['activity']}: {self.steps[k]['prompt']}")

    def _stop(self, reason):
        """Stop the device, drain, record the end, close everything."""
        if self.link is not None and self.fmt in STOP_COMMAND:
            self.link.write(STOP_COMMAND[self.fmt])
        end = time.monotonic() + self.timeouts.drain_s
        while self.link is not None and time.monotonic() < end:
            try:
                item = self.queue.get(timeout=0.02)
            except queue.Empty:
                continue
            if item[0] != "error":
                self._process(item)
        cpu = _cpu_s() - self.cpu0 if self.cpu0 is not None else None
        wall = time.monotonic() - self.wall0 if self.wall0 is not None else None
        # A complete protocol (or timed free recording) ends at its last sample; otherwise
        # keep all that came.
        end_sample = self.bounds[-1][1] if reason == "complete" else None
        self.journal.write("stop", reason=reason, end_sample=end_sample,
                           recording_cpu_s=cpu, recording_wall_s=wall,
                           bytes=self.capture.n_bytes)
        self._close_link()
        self._close_files()
        self.console.clear()
        if reason in ("interrupted", "stopped"):
            self.console.say("stopped by the user; saving what was received")

    def _close_files(self):
        for f in (getattr(self, "capture", None), getattr(self, "journal", None)):
            if f is not None:
                f.close()

    def _discard(self, created_dir):
        """Remove this session's files after a failed start (nothing useful in them)."""
        self._close_link()
        self._close_files()
        remove_session_files(self.out_dir, self.name, remove_dir=created_dir)

    def _draw_status(self):
        if self.monitor is not None and self.free:
            self.console.draw(self._free_status_head(), self.monitor.summary(),
                              self.settings.ch_names, self.timeline)
        elif self.monitor is not None and self.step >= 0:
            self.console.status(n_times=self.timeline.n_times, n_placed=self.timeline.n_placed,
                                sfreq=self.settings.sfreq, steps=self.steps, bounds=self.bounds,
                                step=self.step, summary=self.monitor.summary(),
                                ch_names=self.settings.ch_names)


def _cpu_s() -> float:
    t = os.times()
    return t.user + t.system
