"""The session time base: device sequence numbers → sample positions in the recording.

Sample ``k`` of a session is the sample the device numbered ``seq_first + k``: time comes
from the device's counter, never from the host clock (acquisition_anchors §0.2), so lost
samples leave holes of exactly the right length. Two exceptions are handled explicitly:

- a sequence number at or before one already placed (a duplicate, or a corrupted frame
  that passed its check) is dropped and counted in ``out_of_order``;
- a new connection whose counter starts at or below the last one (the device restarted)
  cannot say how long it was away: its samples continue right after the last one and the
  position is recorded in ``restarts`` (the recorder annotates it), nothing is invented.

The recorder maps blocks live with the same class the session builder uses afterwards,
so live positions (protocol steps) and the final file agree.
"""

from __future__ import annotations

import numpy as np


class Timeline:
    """Map decoded sequence numbers to sample positions, block by block."""

    def __init__(self):
        self.seq_first = None
        self.offset = 0
        self.last = -1          # last position placed
        self.n_placed = 0
        self.out_of_order = 0
        self.restarts = []      # positions where a restarted counter resumed
        self._conn = None

    @property
    def n_times(self) -> int:
        """Length of the time base so far (last placed position + 1)."""
        return self.last + 1

    def place(self, seq, conn) -> tuple:
        """Positions of one decoded block.

        Parameters
        ----------
        seq : numpy.ndarray of int64
            Sequence numbers of the block, in arrival order.
        conn : int
            Connection the block arrived on.

        Returns
        -------
        positions : numpy.ndarray of int64
            Position of each kept sample (strictly increasing).
        keep : numpy.ndarray of bool
            Which samples of the block were kept.
        """
        seq = np.asarray(seq, dtype=np.int64)
        if seq.size == 0:
            return seq, np.zeros(0, bool)
        if self.seq_first is None:
            self.seq_first = int(seq[0])
        pos = seq - self.seq_first + self.offset
        if conn != self._conn:
            if self._conn is not None and pos[0] <= self.last:
                shift = self.last + 1 - int(pos[0])
                self.offset += shift
                pos = pos + shift
                self.restarts.append(self.last + 1)
            self._conn = conn
        running = np.maximum.accumulate(np.concatenate(([self.last], pos)))[:-1]
        keep = pos > running
        self.out_of_order += int(seq.size - keep.sum())
        pos = pos[keep]
        if pos.size:
            self.last = int(pos[-1])
            self.n_placed += int(pos.size)
        return pos, keep


def gap_runs(present, start=0) -> list:
    """Runs of ``False`` in a boolean mask, as ``[(first_sample, n_samples), ...]``."""
    present = np.asarray(present, bool)
    missing = np.concatenate(([False], ~present, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(missing))
    starts, stops = edges[0::2], edges[1::2]
    return [(int(a) + start, int(b - a)) for a, b in zip(starts, stops)]
