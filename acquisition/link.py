"""One connection to the device: an open port and the reader thread that drains it.

The reader thread does only I/O (acquisition_anchors §3.4): it reads whatever arrived,
appends it to the session capture on disk at once, and hands it to the recorder's queue.
Decoding, status and protocol logic stay in the recorder's thread, so a slow status
redraw can never make the OS input buffer overflow.
"""

from __future__ import annotations

import threading
import time

import serial


class Link:
    """Read ``port`` in a thread; every chunk goes to ``capture`` and then ``queue``.

    Parameters
    ----------
    port : serial.SerialBase
        An open port with a short read timeout.
    conn : int
        Connection number (0 first, +1 per reconnect), stored with each chunk.
    capture : acquisition.capture.CaptureWriter
        Where received bytes go first.
    queue : queue.Queue
        Receives ``("data", conn, host_time, bytes)`` and, when the port fails,
        one ``("error", conn, host_time, exception)`` (``"disk"`` instead of ``"error"``
        when the capture could not be written).
    """

    def __init__(self, port, conn, capture, queue):
        self.port = port
        self.conn = conn
        self.capture = capture
        self.queue = queue
        self.n_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"shirtecg-reader-{conn}",
                                        daemon=True)
        self._thread.start()

    def _run(self):
        port, stop, put = self.port, self._stop, self.queue.put
        try:
            while not stop.is_set():
                # Ask only for what is waiting (or 1 byte, blocking up to the timeout):
                # pyserial's read() discards what it already collected in the same call
                # when the device vanishes mid-call, so a larger request could lose the
                # last bytes before an unplug.
                waiting = port.in_waiting
                data = port.read(waiting if waiting else 1)
                if data:
                    t = time.time()
                    try:
                        self.capture.append(self.conn, data, t)
                    except OSError as err:  # disk full, folder gone: not the port's fault
                        put(("disk", self.conn, t, err))
                        return
                    self.n_bytes += len(data)
                    put(("data", self.conn, t, data))
                elif not getattr(port, "is_open", True):
                    raise serial.SerialException("port closed")
        except Exception as err:  # noqa: BLE001 - any failure of the port ends this link
            if not stop.is_set():
                put(("error", self.conn, time.time(), err))

    def write(self, data) -> bool:
        """Send a host command; False when the port refused it (it is going away)."""
        try:
            self.port.write(data)
            self.port.flush()
            return True
        except (serial.SerialException, OSError, ValueError):
            return False

    def close(self, timeout_s=1.0):
        """Stop the reader thread and close the port (idempotent)."""
        self._stop.set()
        try:
            self.port.cancel_read()
        except (AttributeError, NotImplementedError, OSError, serial.SerialException):
            pass
        self._thread.join(timeout_s)
        try:
            self.port.close()
        except (OSError, serial.SerialException):
            pass
