"""Serial transport: open a port URL with classified errors, list the serial ports.

Every port is opened through :func:`serial.serial_for_url`, so a device path
(``/dev/ttyUSB0``, ``COM3``), ``loop://``, ``socket://host:port`` and ``spy://…``
all work. Open failures become one of the :class:`PortError` subclasses below,
each with a one-line message that names the port and says what to try
(acquisition_anchors §3.4, §5.3).
"""

from __future__ import annotations

import errno
import os
import sys

import serial
from serial.tools import list_ports

from shirtecg_common.errors import UserError


class PortError(UserError):
    """The serial port could not be used; the message names the port and a remedy."""


class PortNotFoundError(PortError):
    """The port does not exist (or, for ``socket://``, nothing listens there)."""


class PortBusyError(PortError):
    """Another process holds the port."""


class PortPermissionError(PortError):
    """The operating system refuses access to the port."""


class NoHandshakeError(PortError):
    """The port opened but the device never answered."""


class WrongFormatError(PortError):
    """Bytes arrive but none decode in the chosen format."""


class DisconnectedError(PortError):
    """The device went away and did not come back within the reconnect budget."""


def open_port(url, *, baudrate=115200, timeout_s=0.05, exclusive=True):
    """Open ``url`` with :func:`serial.serial_for_url`; classify failures.

    Parameters
    ----------
    url : str
        Anything ``serial_for_url`` accepts.
    baudrate : int
        Line speed (ignored by ptys, ``loop://`` and ``socket://``).
    timeout_s : float
        Read timeout; short so the reader thread can be stopped.
    exclusive : bool
        Lock the port (POSIX ``flock``) so a second program cannot read it too.

    Returns
    -------
    port : serial.SerialBase
        The open port.

    Raises
    ------
    PortNotFoundError, PortBusyError, PortPermissionError
        With a message naming the port and what to try.
    """
    kwargs = {"baudrate": int(baudrate), "timeout": timeout_s, "write_timeout": 1.0}
    if exclusive and _supports_exclusive(url):
        kwargs["exclusive"] = True
    try:
        return serial.serial_for_url(url, **kwargs)
    except (serial.SerialException, OSError, ValueError) as err:
        raise classify_open_error(url, err) from None


def _supports_exclusive(url) -> bool:
    # Only real device paths take the flock; URL handlers ignore or reject it.
    return "://" not in str(url) and sys.platform != "win32"


def classify_open_error(url, err) -> PortError:
    """Map an exception raised while opening ``url`` to a :class:`PortError`.

    Parameters
    ----------
    url : str
        The port URL the user gave.
    err : BaseException
        What ``serial_for_url`` raised.

    Returns
    -------
    error : PortError
        A subclass naming the cause and what to try.
    """
    code = getattr(err, "errno", None)
    text = str(err)
    lower = text.lower()
    if "exclusively lock" in lower or code in (errno.EBUSY, errno.EAGAIN):
        return PortBusyError(
            f"{url}: port is busy (another program has it open: a serial monitor, the Arduino "
            "IDE, another `shirtecg record`); close it and retry")
    if code == errno.EACCES or "permission" in lower or "access is denied" in lower:
        if sys.platform == "win32":  # Windows reports a held port as access denied
            return PortBusyError(
                f"{url}: access denied, almost always another program holding the port "
                "(serial monitor, OpenBCI GUI, another `shirtecg record`); close it and retry")
        return PortPermissionError(
            f"{url}: permission denied; add your user to the port's group "
            "(`sudo usermod -aG dialout $USER`, then log in again) or check the device's mode")
    if code in (errno.ENOENT, errno.ENODEV, errno.ENXIO) or "no such file" in lower \
            or "filenotfounderror" in lower:
        return PortNotFoundError(f"{url}: no such port; {available_ports_hint()}")
    if code in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ETIMEDOUT) \
            or "connection refused" in lower:
        return PortNotFoundError(
            f"{url}: nothing is listening there; start the device server and check host and port")
    if code == errno.EIO:
        return PortNotFoundError(
            f"{url}: the port exists but the device is gone (I/O error); replug it and retry")
    if isinstance(err, ValueError) or "invalid url" in lower or "expected" in lower:
        return PortNotFoundError(f"{url}: not a usable port URL ({' '.join(text.split())}); "
                                 "give a device path, loop://, socket://HOST:PORT or spy://PORT")
    return PortError(f"{url}: cannot open port ({' '.join(text.split())}); "
                     f"{available_ports_hint()}")


def available_ports_hint() -> str:
    """``"ports found: …"`` naming the serial ports present (for error messages)."""
    ports = list_serial_ports()
    if not ports:
        return "no serial ports found (is the device plugged in or paired?); " \
               "see `shirtecg device list`"
    names = ", ".join(p["device"] + (f" [{p['vid_pid']}]" if p["vid_pid"] else "")
                      for p in ports[:8])
    return f"ports found: {names} (see `shirtecg device list`)"


def list_serial_ports(usb=None):
    """The serial ports present, as dicts, best matches first.

    Parameters
    ----------
    usb : dict | None
        ``{vid, pid, serial_number}`` (hex strings, any subset) from a
        ``device.yaml``; ports matching it get ``match=True``.

    Returns
    -------
    ports : list of dict
        Keys ``device, vid_pid, serial_number, description, manufacturer, match``.
    """
    ports = [port_info_dict(p, usb) for p in list_ports.comports()]
    ports.sort(key=lambda p: (not p["match"], p["device"]))
    return ports


def port_info_dict(info, usb=None) -> dict:
    """Describe one :class:`serial.tools.list_ports_common.ListPortInfo` as a dict."""
    vid_pid = f"{info.vid:04X}:{info.pid:04X}" if info.vid is not None else ""
    return {
        "device": info.device,
        "vid_pid": vid_pid,
        "serial_number": info.serial_number or "",
        "description": info.description if info.description not in (None, "n/a") else "",
        "manufacturer": info.manufacturer or "",
        "match": bool(usb) and usb_matches(info, usb),
    }


def usb_matches(info, usb) -> bool:
    """Whether a port's VID, PID and serial number match ``usb`` (given keys only)."""
    def hex_id(value):
        return None if value is None else int(str(value), 16)

    if "vid" in usb and usb["vid"] is not None and info.vid != hex_id(usb["vid"]):
        return False
    if "pid" in usb and usb["pid"] is not None and info.pid != hex_id(usb["pid"]):
        return False
    serial_number = usb.get("serial_number")
    if serial_number is not None and (info.serial_number or "") != str(serial_number):
        return False
    return any(usb.get(k) is not None for k in ("vid", "pid", "serial_number"))


def usb_text(usb) -> str:
    """``"0403:6015 serial A1B2"`` for messages (the ids a ``device.yaml`` gives)."""
    ids = ":".join(str(usb.get(k) or "*") for k in ("vid", "pid"))
    return ids + (f" serial {usb['serial_number']}" if usb.get("serial_number") else "")


def matching_ports(usb) -> list:
    """Device paths of the serial ports whose USB ids match ``usb`` (sorted)."""
    if not usb:
        return []
    return [p["device"] for p in list_serial_ports(usb) if p["match"]]


def discover_port(usb, where="device.yaml") -> str:
    """The one serial port matching ``usb`` (``{vid, pid, serial_number}``).

    Raises
    ------
    PortNotFoundError
        When none matches (naming the ports present), or the ids give no port at all.
    PortError
        When several match (name them; a ``serial_number`` or ``--port`` settles it).
    """
    if not usb or not any(usb.get(k) for k in ("vid", "pid", "serial_number")):
        raise PortNotFoundError(f"{where}: no usb: ids to find the device by; give --port")
    found = matching_ports(usb)
    if not found:
        raise PortNotFoundError(f"no serial port matches {where} usb {usb_text(usb)}; "
                                f"{available_ports_hint()}")
    if len(found) > 1:
        raise PortError(f"{len(found)} serial ports match {where} usb {usb_text(usb)}: "
                        f"{', '.join(found)}; give --port, or add serial_number to usb:")
    return found[0]


def reconnect_candidates(url, usb) -> list:
    """Ports to try, in order, when the device at ``url`` went away.

    Without USB ids: ``url`` only. With them, a port listed with matching ids comes first
    (``url`` itself when it still matches: a replug under the same name), then ``url`` when
    it is not listed at all (a URL such as ``socket://``, a symlink, a pty). ``url`` is
    skipped when it is listed with other ids: another device took its name.
    """
    if not usb:
        return [url]
    ports = {_real(p["device"]): p for p in list_serial_ports(usb)}
    here = ports.get(_real(url))
    matches = [p["device"] for p in ports.values() if p["match"]]
    same = [m for m in matches if _real(m) == _real(url)]
    out = same + [m for m in matches if _real(m) != _real(url)]
    if here is None:
        out.append(url)
    return out


def same_port(a, b) -> bool:
    """Whether two port names are the same port (symlinks such as /dev/serial/by-id resolved)."""
    return _real(a) == _real(b)


def _real(url) -> str:
    url = str(url)
    if "://" in url or sys.platform == "win32":
        return url
    return os.path.realpath(url)


def format_port_table(ports) -> str:
    """A Markdown-style table of :func:`list_serial_ports` output."""
    if not ports:
        return "no serial ports found"
    rows = [("port", "VID:PID", "serial number", "description", "device.yaml")]
    for p in ports:
        desc = " ".join(x for x in (p["manufacturer"], p["description"]) if x)
        rows.append((p["device"], p["vid_pid"] or "-", p["serial_number"] or "-",
                     desc or "-", "match" if p["match"] else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
