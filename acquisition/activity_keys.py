"""Free recording: activity keys pressed while recording, and the annotations they make.

Without a protocol the user marks activities live (DESIGN §3 "free recording with activity
keys"): a key starts an activity (``s`` sitting, ``w`` walking, ``a`` arm_movement, ``r``
rest by default), space ends the current one, ``q`` stops the recording. Each press becomes a
``mark`` in the session journal at the sample the recorder had reached, and the session
builder turns the marks into activity annotations exactly like protocol steps (description =
activity, onset/duration in samples / sfreq), so a recovered session gets the same file.

Keys come from a terminal in cbreak mode (one key at a time, no Enter, no echo; Ctrl-C still
interrupts) or, when the input is not a terminal, one command per line (a key, ``space``, or
an activity name), so a recording can be scripted through a pipe. The reader is a thread of
its own that only forwards text: the serial reader never waits on it.
"""

from __future__ import annotations

import os
import select
import threading

from acquisition.protocol import make_step
from shirtecg_common.errors import ConfigError, UserError

DEFAULT_KEY_MAP = {"s": "sitting", "w": "walking", "a": "arm_movement", "r": "rest"}
END_KEY = " "
STOP_KEY = "q"
_END_WORDS = ("space", "end", "-")


def parse_key_map(spec) -> dict:
    """Parse ``"s=sitting,w=walking,x=stairs"`` into ``{key: activity}``.

    Raises
    ------
    UserError
        Naming the entry when a key is not one printable character, is space or ``q``
        (reserved), repeats, or the activity is not a plain label.
    """
    key_map = {}
    for entry in str(spec).split(","):
        key, sep, activity = entry.strip().partition("=")
        where = f"--keys entry {entry.strip()!r}"
        if not sep or len(key) != 1 or not key.isprintable() or key.isspace():
            raise UserError(f"{where}: expected KEY=ACTIVITY with a single-character key, "
                            "e.g. --keys s=sitting,w=walking")
        if key == STOP_KEY:
            raise UserError(f"{where}: {STOP_KEY!r} is reserved (stop); choose another key")
        if key in key_map:
            raise UserError(f"{where}: key {key!r} is given twice")
        try:
            make_step(activity.strip(), 1.0, where=where)  # the label rules of protocol steps
        except ConfigError as err:
            raise UserError(str(err)) from None
        key_map[key] = activity.strip()
    return key_map


def key_command(text, key_map):
    """What one key (cbreak) or one line (piped input) asks for.

    Parameters
    ----------
    text : str
        A key, or a line without its newline.
    key_map : dict
        ``{key: activity}``.

    Returns
    -------
    command : tuple | None
        ``("start", activity)``, ``("end", None)``, ``("stop", None)``, or None when
        the text means nothing (then the caller says which keys work).
    """
    if text and text.strip() == "" and END_KEY in text:
        return ("end", None)
    word = text.strip()
    if word == STOP_KEY:
        return ("stop", None)
    if word.lower() in _END_WORDS:
        return ("end", None)
    if word in key_map:
        return ("start", key_map[word])
    if word in key_map.values():
        return ("start", word)
    return None


def keys_help(key_map) -> str:
    """``"s sitting, w walking, …, space ends the activity, q stops"``."""
    keys = ", ".join(f"{k} {a}" for k, a in key_map.items())
    return f"{keys}, space ends the activity, {STOP_KEY} stops"


def activity_spans(marks, end):
    """Activity spans from journal marks, as ``[(activity, first, stop), ...]``.

    Parameters
    ----------
    marks : list of dict
        Journal ``mark`` events in order: ``activity`` (None ends the current one) and
        ``sample`` (the position the recorder had reached).
    end : int
        Length of the session; an activity still open there ends there.

    Returns
    -------
    spans : list of tuple
        Non-empty, non-overlapping sample ranges ``[first, stop)`` clipped to ``end``; a
        key repeating the current activity continues it.
    """
    spans, current, start = [], None, 0
    for mark in marks:
        activity, sample = mark.get("activity"), min(int(mark["sample"]), end)
        if activity == current:
            continue
        if current is not None and sample > start:
            spans.append((current, start, sample))
        current, start = activity, sample
    if current is not None and end > start:
        spans.append((current, start, end))
    return spans


class KeyReader:
    """Read activity keys from ``stream`` in a thread and hand each to ``on_key(text)``.

    A terminal is put in cbreak mode (restored by :meth:`close`) and every key is handed on
    at once; any other input is handed on line by line. End of input ends the thread
    quietly (the recording goes on until ``q``, Ctrl-C or its duration).

    Parameters
    ----------
    stream : file-like
        Usually ``sys.stdin``.
    on_key : callable
        Called from the reader thread with one key or one line (no newline).
    """

    def __init__(self, stream, on_key):
        self.stream = stream
        self.on_key = on_key
        self.mode = None
        self._saved_tty = None
        self._stop = threading.Event()
        self._thread = None

    def start(self) -> str:
        """Start reading; returns the mode: ``"keys"``, ``"lines"`` or ``"off"``.

        ``"off"`` when the terminal belongs to another (foreground) process group: reading
        it from the background would stop this process (SIGTTIN).
        """
        try:
            fd = self.stream.fileno()
        except (AttributeError, OSError, ValueError):
            fd = None
        if fd is not None and self.stream.isatty():
            if not _in_foreground(fd):
                self.mode = "off"
                return self.mode
            self.mode = "keys" if self._cbreak(fd) else "lines"
        else:
            self.mode = "lines"
        target = self._read_fd if fd is not None and os.name == "posix" else self._read_lines
        self._thread = threading.Thread(target=target, args=(fd,), name="shirtecg-keys",
                                        daemon=True)
        self._thread.start()
        return self.mode

    def _cbreak(self, fd) -> bool:
        try:
            import termios
            import tty
        except ImportError:  # Windows consoles: line mode (type the key, then Enter)
            return False
        self._saved_tty = (fd, termios.tcgetattr(fd))
        tty.setcbreak(fd, termios.TCSANOW)
        return True

    def _read_fd(self, fd):
        """POSIX: wait with select so :meth:`close` can stop the thread at any time."""
        pending = ""
        while not self._stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(fd, 256)
            except OSError:
                return
            if not data:
                if pending and self.mode == "lines":
                    self.on_key(pending)
                return
            text = data.decode("utf-8", errors="replace")
            if self.mode == "keys":
                for ch in text:
                    self.on_key(ch)
                continue
            pending += text
            *lines, pending = pending.split("\n")
            for line in lines:
                self.on_key(line.rstrip("\r"))

    def _read_lines(self, fd):
        # No select on this platform or stream: a blocking readline in a daemon thread.
        for line in iter(self.stream.readline, ""):
            if self._stop.is_set():
                return
            self.on_key(line.rstrip("\r\n"))

    def close(self):
        """Stop reading and restore the terminal (idempotent)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(0.5)
        if self._saved_tty is not None:
            import termios

            fd, attrs = self._saved_tty
            self._saved_tty = None
            try:
                termios.tcsetattr(fd, termios.TCSADRAIN, attrs)
            except (OSError, termios.error):
                pass


def _in_foreground(fd) -> bool:
    if not hasattr(os, "tcgetpgrp"):
        return True
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:  # not our controlling terminal: reading it cannot stop us
        return True
