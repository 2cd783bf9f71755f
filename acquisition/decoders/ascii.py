"""Decoder of Arduino-style text lines ``v1,v2,…\\n`` (DESIGN §3, acquisition_anchors §1.3).

Each line holds one sample: comma-separated integer ADC codes, optionally preceded by a counter
column. Line endings ``\\n`` or ``\\r\\n``. Lines that do not parse (banners, ``!`` lead-off
sentinels, corrupted or partial lines) are counted as junk bytes, newline included, and never
raise. Without a counter column the sample index is the running line count, so losses cannot be
seen (``lost_samples`` stays 0): use a counter column if you can.
"""

from __future__ import annotations

import numpy as np

from acquisition.decoders.base import DecodedBlock, Decoder

_ALLOWED = frozenset(b"0123456789-+, \t\r")
_ALLOWED_NL = bytes(_ALLOWED) + b"\n"


class AsciiDecoder(Decoder):
    """Decode comma-separated integer lines.

    Parameters
    ----------
    n_channels : int | None
        Number of channels; None learns it from the first valid line (then a counter column
        is only assumed with ``counter=True``).
    sfreq : float | None
        Sampling rate in Hz (ASCII streams do not say; pass it or take it from device.yaml).
    volts_per_count : float | sequence | None
        Scale (from ``--scale`` or device.yaml).
    counter : bool | None
        Whether the first column is a sample counter. None: decided by the field count of the
        first valid line when ``n_channels`` is known (``n_channels + 1`` fields → counter).
    """

    format = "ascii"

    def __init__(self, n_channels=None, sfreq=None, volts_per_count=None, counter=None):
        super().__init__(n_channels, sfreq, volts_per_count)
        if counter not in (None, True, False):
            raise ValueError(f"counter must be True, False or None, got {counter!r}")
        self.counter = counter
        self._next_index = 0

    def _n_fields(self):
        if self.n_channels is None or self.counter is None:
            return None
        return self.n_channels + (1 if self.counter else 0)

    def _parse(self, data, final):
        # a line without its newline is incomplete; at the end of a stream (final) the
        # caller counts it as junk, like a partial binary frame
        keep = data.rfind(b"\n") + 1
        body = data[:keep]
        if not body:
            return DecodedBlock.empty(self.n_channels), keep
        values = self._fast(body)
        if values is not None:
            return self._block(values, []), keep
        lines = body.split(b"\n")
        lines.pop()
        rows, bad = self._select(lines, strict=False)
        try:
            values = self._to_int(rows)
        except ValueError:  # a field like "--3" or "1-2": check every line with int()
            rows, bad = self._select(lines, strict=True)
            values = self._to_int(rows)
        return self._block(values, bad), keep

    def _fast(self, body):
        """All lines well-formed (the usual case): check them with numpy, parse in one go."""
        n_fields = self._n_fields()
        if n_fields is None or body.translate(None, _ALLOWED_NL):
            return None
        arr = np.frombuffer(body, dtype=np.uint8)
        ends = np.flatnonzero(arr == 0x0A)
        commas_before = np.searchsorted(np.flatnonzero(arr == 0x2C), ends)
        if np.any(np.diff(commas_before, prepend=0) != n_fields - 1):
            return None
        tokens = body.replace(b"\n", b",")[:-1].split(b",")
        try:  # int() takes surrounding blanks and "\r"; an empty field raises
            flat = np.fromiter(map(int, tokens), dtype=np.int64, count=len(tokens))
        except ValueError:
            return None
        return flat.reshape(len(ends), n_fields)

    def _select(self, lines, strict):
        """Split lines into parseable rows and ``bad`` = [(rows before it, n_bytes)]."""
        rows, bad = [], []
        n_fields = self._n_fields()
        for line in lines:
            nf = line.count(b",") + 1
            if n_fields is None and self._learn(line, nf):
                n_fields = self._n_fields()
            ok = nf == n_fields and line.strip(b" \t\r") and _ALLOWED.issuperset(line)
            if ok and strict:
                try:
                    [int(x) for x in line.split(b",")]
                except ValueError:
                    ok = False
            if ok:
                rows.append(line)
            else:
                bad.append((len(rows), len(line) + 1))
        return rows, bad

    def _learn(self, line, nf):
        """Fix the layout from the first line that parses; True when it did."""
        if not line.strip(b" \t\r") or not _ALLOWED.issuperset(line):
            return False
        try:
            [int(x) for x in line.split(b",")]
        except ValueError:
            return False
        if self.n_channels is None:
            if self.counter is None:
                self.counter = False
            n_ch = nf - (1 if self.counter else 0)
            if n_ch < 1:
                return False
            self.n_channels = n_ch
        elif self.counter is None:
            if nf not in (self.n_channels, self.n_channels + 1):
                return False
            self.counter = nf == self.n_channels + 1
        return True

    def _to_int(self, rows):
        n_fields = self._n_fields() or 0
        if not rows:
            return np.empty((0, n_fields), np.int64)
        flat = np.array(b",".join(rows).split(b","))
        return flat.astype(np.int64).reshape(len(rows), n_fields)

    def _block(self, values, bad):
        n = values.shape[0]
        bad_rows = {}
        for row, nbytes in bad:
            bad_rows[row] = bad_rows.get(row, 0) + nbytes
        if n and not self._in_sync and 0 not in bad_rows:
            self.stats["resyncs"] += 1  # a skip at the end of the previous chunk ends here
        for row, nbytes in bad_rows.items():
            self._skip(nbytes)
            if row < n:  # one run of bad lines, ended by a good row: one resync
                self.stats["resyncs"] += 1
        if n:
            self._in_sync = max(bad_rows, default=-1) < n
        self.stats["frames"] += n
        if n == 0:
            return DecodedBlock.empty(self.n_channels)
        if self.counter:
            seq = values[:, 0].copy()
            codes = values[:, 1:]
        else:
            seq = self._next_index + np.arange(n, dtype=np.int64)
            codes = values
        self._next_index = int(seq[-1]) + 1
        self._count_seq(seq)
        return DecodedBlock(seq, np.ascontiguousarray(codes, dtype=np.int32),
                            np.zeros(n, np.uint32), [])
