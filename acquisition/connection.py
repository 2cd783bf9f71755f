"""Connection handling of the recorder: open, handshake, pump the reader queue, reconnect.

A mixin of :class:`acquisition.recorder.Recorder` (it uses the recorder's state: ``link``,
``queue``, ``decoder``, ``timeline``, ``journal``, ``console``, ``timeouts``). On an unplug
or a stall the port is reopened with fast retries within the reconnect budget, the
handshake is repeated and the decoder reset; the device's sample counter then says exactly
how much was missed (acquisition_anchors §5.4). When ``device.yaml`` gives USB ids, each
retry first looks the device up among the serial ports (a replugged USB adapter often comes
back under another name, ``/dev/ttyUSB0`` → ``/dev/ttyUSB1``) and follows it there.
"""

from __future__ import annotations

import queue
import time

from acquisition.link import Link
from acquisition.transport import (
    NoHandshakeError,
    PortError,
    WrongFormatError,
    open_port,
    reconnect_candidates,
    same_port,
    usb_text,
)

# Every format gets 'b' (start) and 's' (stop): the shirt and the Cyton need them, and an
# ASCII sketch that does not listen ignores them (one that does, starts on 'b').
START_COMMAND = {"shirt-v1": b"b", "openbci-cyton": b"b", "ascii": b"b"}
STOP_COMMAND = {"shirt-v1": b"s", "openbci-cyton": b"s", "ascii": b"s"}
# Bytes per sample frame (ASCII lines vary: not checked).
FRAME_BYTES = {"shirt-v1": lambda n_ch: 4 + 7 + 3 * n_ch + 2, "openbci-cyton": lambda n_ch: 33}


class ConnectionMixin:
    """Open/handshake/reconnect methods of the recorder (see the module docstring)."""

    def _connect(self, port):
        self.conn += 1
        if self.conn:
            self.decoder.reset()
        self.journal.write("connect", conn=self.conn, port=self.port_now)
        self.link = Link(port, self.conn, self.capture, self.queue)

    def _close_link(self):
        if self.link is not None:
            self.link.close()
            self.link = None

    def _drain_queue(self):
        while True:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                return
            if item[0] != "error":
                self._process(item)

    def _send_start(self):
        if self.fmt == "shirt-v1":
            self.link.write(b"i")
        if self.fmt in START_COMMAND:
            self.link.write(START_COMMAND[self.fmt])

    def _handshake(self):
        """Get the info frame (``shirt-v1``) and the first samples, or fail clearly."""
        t = self.timeouts
        if self.fmt == "shirt-v1":
            self.link.write(b"i")
            self._pump_until(lambda: self.decoder.info is not None, t.handshake_s)
            if self.stop_requested:
                raise KeyboardInterrupt
            if self.decoder.info is None:
                self._handshake_failed("did not answer 'i' with an info frame")
        if self.fmt in START_COMMAND:
            self.link.write(START_COMMAND[self.fmt])
        self._pump_until(lambda: self.settings is not None, t.handshake_s)
        if self.stop_requested:
            raise KeyboardInterrupt
        if self.settings is None:
            self._handshake_failed("sent no samples")
        for line in self.settings.mismatches:
            self.console.say(f"warning: device.yaml and device disagree on {line}")
        self._check_link_budget()

    def _check_link_budget(self):
        """Warn when the stream cannot fit the baud rate of a real UART (8N1: 10 bits/byte)."""
        width = FRAME_BYTES.get(self.fmt)
        if width is None or "://" in str(self.port_now):
            return
        n_ch = len(self.settings.ch_names)
        need = width(n_ch) * self.settings.sfreq * 10
        if need > self.baud:
            self.console.say(f"warning: {n_ch} ch at {self.settings.sfreq:g} Hz needs "
                             f"{need:,.0f} baud but the port runs at {self.baud:,}; a real "
                             "UART will drop frames (use a faster --baud, fewer channels or a "
                             "lower rate)")

    def _handshake_failed(self, what):
        secs = self.timeouts.handshake_s
        if self.bytes_seen and self.decoder.stats.get("frames", 0) == 0 \
                and self.decoder.info is None:
            raise WrongFormatError(
                f"{self.port_now}: {self.bytes_seen} bytes arrived in {secs:g} s but none "
                f"decode as {self.fmt}; check --format (shirt-v1, openbci-cyton, ascii) "
                "and --baud")
        if not self.bytes_seen:
            raise NoHandshakeError(
                f"{self.port_now}: no answer within {secs:g} s; is the device powered on "
                "(or paired), and is this its port? (`shirtecg device list`)")
        raise NoHandshakeError(f"{self.port_now}: device {what} within {secs:g} s; "
                               "check the firmware and --format")

    def _reopen(self):
        """Open the device again: at a port matching its USB ids, else at the last port."""
        usb = (self.device or {}).get("usb")
        try:
            candidates = reconnect_candidates(self.port_now, usb)
        except Exception:  # noqa: BLE001 - a failing port listing must not end the session
            candidates = [self.port_now]
        err = None
        for url in candidates:
            try:
                port = open_port(url, baudrate=self.baud)
            except PortError as e:
                err = e
                continue
            if not same_port(url, self.port_now):
                self.journal.write("rediscovered", old_port=self.port_now, port=url,
                                   usb=usb)
                self.console.say(f"device (USB {usb_text(usb)}) is back at {url}, "
                                 f"was {self.port_now}")
                self.port_now = url
            return port
        if err is None:  # its old name now belongs to another device, and it is not listed
            raise PortError(f"{self.port_now}: another device has this port now; waiting "
                            f"for USB {usb_text(usb)}")
        raise err

    def _reconnect(self, reason) -> bool:
        """Reopen the port (or find the device again) and resume; False when the budget
        ran out."""
        self.journal.write("disconnect", conn=self.conn, reason=reason,
                           sample=self.timeline.n_times)
        self._close_link()
        self._drain_queue()  # the old connection's last chunks, before the decoder resets
        self.console.say(f"RECONNECTING to {self.port_now} ({reason})")
        deadline = time.monotonic() + self.timeouts.reconnect_s
        backoff = 0.02  # opening a missing port is cheap: retry fast, a replug is soon
        while time.monotonic() < deadline and self.stop_requested == 0:
            try:
                port = self._reopen()
            except PortError:
                time.sleep(min(backoff, max(0.0, deadline - time.monotonic())))
                backoff = min(0.25, backoff * 2)
                continue
            self._connect(port)
            n_before = self.timeline.n_placed
            self._send_start()
            while time.monotonic() < deadline and self.stop_requested == 0:
                if self._pump_until(lambda n=n_before: self.timeline.n_placed > n,
                                    min(self.timeouts.handshake_s,
                                        deadline - time.monotonic()), until_error=True):
                    self.last_sample_t = time.monotonic()
                    self.journal.write("resume", conn=self.conn, sample=self.timeline.n_times)
                    self.console.say(f"reconnected (connection {self.conn})")
                    return True
                if self.link is None:   # the new port failed too: reopen
                    break
                self._send_start()      # maybe the device missed the commands
            self._close_link()
            self._drain_queue()
        return False

    def _pump_until(self, done, timeout_s, until_error=False) -> bool:
        """Process queued chunks until ``done()`` or the timeout; True if done."""
        end = time.monotonic() + max(0.0, timeout_s)
        while not done():
            left = end - time.monotonic()
            if left <= 0 or self.stop_requested:
                return False
            try:
                item = self.queue.get(timeout=min(left, 0.05))
            except queue.Empty:
                continue
            if item[0] == "error":
                if until_error and item[1] == self.conn:
                    self._close_link()
                    return False
                continue
            self._process(item)
        return True
