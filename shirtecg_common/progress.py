"""Progress on a terminal: items/s and ETA, silent when piped or ``quiet``."""

from __future__ import annotations

import sys
import time


class Progress:
    """A one-line progress indicator for long work.

    Parameters
    ----------
    total : int | None
        Number of items expected, or None when unknown.
    desc : str
        Label shown before the counts.
    unit : str
        Name of one item (``"records"``, ``"s"``…).
    quiet : bool | None
        True silences it; None (default) shows it only when ``stream`` is a terminal.
    stream : file-like
        Where to draw (default: ``sys.stderr``).
    min_interval_s : float
        Least time between redraws.
    """

    def __init__(self, total=None, desc="", unit="items", quiet=None, stream=None,
                 min_interval_s=0.2):
        self.total = total
        self.desc = desc
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        if quiet is None:
            quiet = not getattr(self.stream, "isatty", lambda: False)()
        self.quiet = quiet
        self.min_interval_s = min_interval_s
        self.n = 0
        self._t0 = time.monotonic()
        self._last = 0.0

    def update(self, n=1):
        """Count ``n`` more items done and redraw if due."""
        self.n += n
        now = time.monotonic()
        if not self.quiet and (now - self._last >= self.min_interval_s or self.n == self.total):
            self._last = now
            self.stream.write("\r" + self.line() + "\x1b[K")
            self.stream.flush()

    def line(self) -> str:
        """The current status text."""
        elapsed = max(time.monotonic() - self._t0, 1e-9)
        rate = self.n / elapsed
        if self.total:
            left = (self.total - self.n) / rate if rate > 0 else float("inf")
            eta = f"ETA {left:5.0f} s" if left != float("inf") else "ETA   ? s"
            return (f"{self.desc} {self.n}/{self.total} {self.unit} "
                    f"({100 * self.n / self.total:5.1f} %) {rate:,.0f} {self.unit}/s {eta}")
        return f"{self.desc} {self.n} {self.unit} {rate:,.0f} {self.unit}/s"

    @property
    def rate(self) -> float:
        """Items per second so far."""
        return self.n / max(time.monotonic() - self._t0, 1e-9)

    def close(self):
        """End the line."""
        if not self.quiet:
            self.stream.write("\r" + self.line() + "\x1b[K\n")
            self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
