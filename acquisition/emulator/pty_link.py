"""The emulator's end of a pseudo-terminal serial link, at a path that survives an unplug.

``pty.openpty()`` gives a master (the device side, ours) and a slave (``/dev/pts/N``, what the
host opens as a serial port). An unplug closes the master — the host's next read raises
pyserial's "device reports readiness to read but returned no data" — and a re-plug opens a new
pty, whose slave has a new ``/dev/pts/M`` name. So that the host can reconnect to *the same
port*, the emulator publishes a symlink in a temporary folder (``<tmp>/ttyEMU0``) and re-points it
atomically to each new slave: give the symlink path to the recorder.

Whether a host has the port open is read off the master: reading it fails with ``EIO`` while no
process holds the slave open.
"""

from __future__ import annotations

import errno
import fcntl
import os
import pty
import select
import struct
import tempfile
import termios
import time
import tty
from pathlib import Path


class PtyLink:
    """A pty whose slave is published at a stable symlink path.

    Parameters
    ----------
    link_path : str | Path | None
        Where to put the symlink; default ``<new temp dir>/ttyEMU0``.
    """

    def __init__(self, link_path=None):
        if link_path is None:
            self._tmpdir = tempfile.mkdtemp(prefix="shirtecg-emu-")
            link_path = Path(self._tmpdir) / "ttyEMU0"
        else:
            self._tmpdir = None
        self.path = str(link_path)
        self.master = None
        self.slave_name = None
        self.plugs = 0

    # -- plugging -------------------------------------------------------------------------------
    def plug(self):
        """Open a new pty (raw mode) and point the symlink at its slave; returns the link path."""
        if self.master is not None:
            raise RuntimeError("already plugged")
        master, slave = pty.openpty()
        tty.setraw(slave)  # no echo, no CR/LF translation, 8 bits: a serial line
        self.slave_name = os.ttyname(slave)
        os.close(slave)  # keep no slave fd: EIO on the master then means "no host"
        os.set_blocking(master, False)
        self.master = master
        tmp = f"{self.path}.tmp{os.getpid()}"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(self.slave_name, tmp)
        os.replace(tmp, self.path)  # atomic: the host never sees a missing port
        self.plugs += 1
        return self.path

    def unplug(self, drain_timeout_s=0.5):
        """Close the pty as a cable pull would, after the host read what was already sent."""
        if self.master is None:
            return
        self.wait_drained(drain_timeout_s)
        os.close(self.master)
        self.master = None

    def close(self):
        """Unplug without draining and remove the symlink (and its temp folder)."""
        if self.master is not None:
            os.close(self.master)
            self.master = None
        try:
            if os.path.islink(self.path):
                os.unlink(self.path)
            if self._tmpdir:
                os.rmdir(self._tmpdir)
        except OSError:
            pass

    @property
    def plugged(self):
        return self.master is not None

    # -- host side state ------------------------------------------------------------------------
    def read_commands(self, timeout_s=0.0):
        """Bytes the host wrote (b"" if none); None when no host holds the port open."""
        if self.master is None:
            return None
        if timeout_s > 0:
            select.select([self.master], [], [], timeout_s)
        try:
            return os.read(self.master, 4096)
        except BlockingIOError:
            return b""
        except OSError as err:
            if err.errno == errno.EIO:
                return None
            raise

    def pending_for_host(self):
        """Bytes written but not yet read by the host (read through a short-lived slave fd)."""
        if self.master is None or self.slave_name is None:
            return 0
        try:
            fd = os.open(self.slave_name, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            return 0
        try:
            return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]
        finally:
            os.close(fd)

    def wait_drained(self, timeout_s):
        """Wait (at most ``timeout_s``) until the host has read everything written."""
        # bytes written to the master reach the slave's read queue through the kernel's flip
        # buffer a moment later: only two empty readings some ms apart mean "all read"
        deadline = time.monotonic() + timeout_s
        empty = 0
        while time.monotonic() < deadline and empty < 2:
            time.sleep(0.005)
            empty = empty + 1 if self.pending_for_host() == 0 else 0

    def take_unread(self, settle_s=0.01):
        """Read (and so withdraw) the bytes the host has not read yet; returns them.

        Called just before an unplug: whatever this returns never reaches the host, so the
        caller knows exactly which bytes (and samples) were lost. Bytes written to the master
        reach the slave's queue through the kernel's flip buffer a moment later, so reading
        stops only after two empty readings ``settle_s`` apart.
        """
        if self.master is None or self.slave_name is None:
            return b""
        try:
            fd = os.open(self.slave_name, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            return b""
        taken, empty = bytearray(), 0
        try:
            while empty < 2:
                try:
                    data = os.read(fd, 1 << 16)
                except (BlockingIOError, OSError):
                    data = b""
                if data:
                    taken += data
                    empty = 0
                else:
                    empty += 1
                    time.sleep(settle_s)
        finally:
            os.close(fd)
        return bytes(taken)

    def write(self, data):
        """Write as much of ``data`` as the pty takes now; returns the number of bytes written."""
        if self.master is None or not data:
            return 0
        try:
            return os.write(self.master, data)
        except BlockingIOError:
            return 0
        except OSError as err:
            if err.errno == errno.EIO:
                return 0
            raise

    def __enter__(self):
        self.plug()
        return self

    def __exit__(self, *exc):
        self.close()
        return False
