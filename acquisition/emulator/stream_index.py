"""Which samples sit in which bytes of the emulator's outgoing stream.

When the emulator takes back bytes the host never read (before closing the pty), or the host
closes the port, it needs to say exactly which samples those bytes held. :class:`StreamIndex`
keeps, for the most recent :data:`INDEX_BYTES` of the stream, the offset where each intact
samples frame ends: a frame whose end lies beyond what the host received never arrived intact.
"""

from __future__ import annotations

import collections

import numpy as np

INDEX_BYTES = 1 << 20  # stream bytes whose frames stay indexed (far more than a pty buffers)


class StreamIndex:
    """Byte offsets of the intact samples frames in a byte stream."""

    def __init__(self):
        self.n_bytes = 0  # bytes appended to the stream so far
        self._parts = collections.deque()  # (seq int64 array, end offset int64 array)

    def append(self, n_bytes, seq=None, ends=None):
        """Account for ``n_bytes`` appended; ``seq``/``ends``: its intact frames and their ends.

        ``ends`` are offsets within the appended bytes (a frame ending at its last byte has
        ``ends == n_bytes``).
        """
        base = self.n_bytes
        self.n_bytes += int(n_bytes)
        if seq is not None and len(seq):
            self._parts.append((np.asarray(seq, np.int64), base + np.asarray(ends, np.int64)))
            while self._parts and self._parts[0][1][-1] < self.n_bytes - INDEX_BYTES:
                self._parts.popleft()

    def samples_after(self, cut):
        """Sequence numbers of the frames not complete within the first ``cut`` bytes."""
        lost = [seq[ends > cut] for seq, ends in self._parts if ends[-1] > cut]
        return np.concatenate(lost) if lost else np.zeros(0, np.int64)

    def last_sample_within(self, n_bytes):
        """The last sample whose frame lies within the first ``n_bytes`` bytes (or None)."""
        for seq, ends in reversed(self._parts):
            done = seq[ends <= n_bytes]
            if done.size:
                return int(done[-1])
        return None

    def clear(self):
        """Forget the frames (the offset counter goes on)."""
        self._parts.clear()
