"""The recorder's free mode: no protocol, the user marks activities with keys while recording.

A mixin of :class:`acquisition.recorder.Recorder` (it uses the recorder's ``queue``,
``timeline``, ``journal``, ``console`` and ``settings``). A key press travels through the same
queue as the received bytes, so it is placed after every chunk that arrived before it: its
mark is the sample count the recorder had reached (``timeline.n_times``). During a reconnect
that is the last sample received before the outage. The marks go to the journal, and
:func:`acquisition.activity_keys.activity_spans` turns them into annotations when the FIF is
built by :mod:`acquisition.session` (see :mod:`acquisition.activity_keys` for the keys).
"""

from __future__ import annotations

import time

from acquisition.activity_keys import KeyReader, key_command, keys_help


class FreeRecordingMixin:
    """Activity keys for :class:`acquisition.recorder.Recorder` (see the module docstring)."""

    @property
    def free(self) -> bool:
        """Whether this is a free recording (no protocol steps)."""
        return not self.steps

    def press(self, key):
        """Mark an activity as a key press would (thread-safe; free recordings only).

        Parameters
        ----------
        key : str
            A key of ``key_map``, an activity name, ``" "`` (end the current activity)
            or ``"q"`` (stop the recording).
        """
        self.queue.put(("key", None, time.time(), str(key)))

    def _start_keys(self):
        self.key_reader = None
        if not self.free:
            return
        self.console.say(f"free recording: keys {keys_help(self.key_map)}")
        if self.keys is not None:
            self.key_reader = KeyReader(self.keys, self.press)
            if self.key_reader.start() == "off":
                self.console.say("warning: running in the background, keys are not read "
                                 "(bring it to the foreground with `fg`)")

    def _close_keys(self):
        reader = getattr(self, "key_reader", None)
        if reader is not None:
            reader.close()
            self.key_reader = None

    def _on_key(self, text):
        """Handle one key or line: journal a mark at the current sample, say what it did."""
        if not self.free or self.settings is None or self.key_stop:
            return  # keys typed after 'q' mark nothing: the recording is ending
        command = key_command(text, self.key_map)
        n = self.timeline.n_times
        if command is None:
            if text.strip():
                self.console.say(f"key {text.strip()!r} does nothing; keys: "
                                 f"{keys_help(self.key_map)}")
            return
        kind, activity = command
        if kind == "start" and activity == self.activity:
            return
        at = _mmss(n / self.settings.sfreq)
        if kind == "start":
            self.console.say(f"{at} {activity}" + (f" (end of {self.activity})"
                                                   if self.activity else ""))
        elif self.activity is not None:
            self.console.say(f"{at} end of {self.activity}")
        if kind == "start" or self.activity is not None:
            self.journal.write("mark", activity=activity, sample=n, key=text)
            self.activity, self.activity_start = activity, n
        if kind == "stop":
            self.key_stop = True

    def _free_status_head(self) -> str:
        n, sfreq = self.timeline.n_times, self.settings.sfreq
        what = (f"{self.activity} {_mmss((n - self.activity_start) / sfreq)}"
                if self.activity else "no activity")
        total = f"/{_mmss(self.seconds)}" if self.seconds else ""
        keys = " ".join(f"{k}={a}" for k, a in self.key_map.items())
        return f"{_mmss(n / sfreq)}{total} {what} [{keys} space=end q=stop]"


def _mmss(seconds) -> str:
    seconds = int(seconds)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"
