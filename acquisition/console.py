"""The recorder's terminal output: prompts as lines, and one redrawn status line.

Prompts and notices always print (unless ``quiet``); the status line is drawn only on a
terminal, so piped output and logs stay clean (acquisition_anchors §5.1–5.2).
"""

from __future__ import annotations

import sys

from acquisition.quality import status_text


class Console:
    """Write prompts and the status line to ``stream``.

    Parameters
    ----------
    stream : file-like | None
        Default ``sys.stderr``.
    quiet : bool
        Print nothing at all.
    """

    def __init__(self, stream=None, quiet=False):
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet

    @property
    def tty(self) -> bool:
        """Whether a status line can be drawn."""
        return not self.quiet and getattr(self.stream, "isatty", lambda: False)()

    def say(self, text):
        """Print one line (above the status line)."""
        if not self.quiet:
            self.clear()
            print(text, file=self.stream, flush=True)

    def clear(self):
        """Erase the status line."""
        if self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def status(self, *, n_times, n_placed, sfreq, steps, bounds, step, summary, ch_names):
        """Redraw the status line: protocol position, countdown and signal quality."""
        if not self.tty:
            return
        a, b = bounds[step]
        nxt = steps[step + 1]["activity"] if step + 1 < len(steps) else "end"
        head = (f"{_mmss(n_times / sfreq)} {steps[step]['activity']} "
                f"{_mmss((n_times - a) / sfreq)}/{_mmss((b - a) / sfreq)} "
                f"next: {nxt} in {max(0, b - n_times) / sfreq:.0f} s")
        self._write(head, summary, ch_names, n_times, n_placed)

    def draw(self, head, summary, ch_names, timeline):
        """Redraw the status line with a given head (free recording: activity and keys)."""
        if self.tty:
            self._write(head, summary, ch_names, timeline.n_times, timeline.n_placed)

    def _write(self, head, summary, ch_names, n_times, n_placed):
        loss_pct = 100 * (n_times - n_placed) / max(n_times, 1)
        self.stream.write(f"\r{head} | {status_text(summary, ch_names, loss_pct)}\x1b[K")
        self.stream.flush()


def _mmss(seconds) -> str:
    seconds = int(seconds)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"
