"""Decoder of OpenBCI Cyton 33-byte packets (DESIGN §3, acquisition_anchors §1.1).

Packet: ``0xA0``, an 8-bit sample counter, 8 channels × signed 24-bit big-endian codes, 3 × int16
big-endian aux values, and a stop byte ``0xC0``–``0xC6``. There is no CRC: a packet whose stop
byte is wrong counts as one ``crc_errors`` (a failed frame check). ``0xA0`` also occurs inside
channel data, so a candidate that starts inside a packet that failed its check is only accepted
when the byte after it starts the next packet as well; elsewhere the stop byte suffices.

The counter wraps every 256 samples (about 1 s at 250 Hz), so a gap is only known modulo 256.
A gap is flagged in ``stats["possible_wrap_gaps"]`` when it may hide whole wraps: it follows a
reconnect (:meth:`reset`), more than 256 packets' worth of skipped bytes, or a host-side silence
of at least half a wrap period (``128 / sfreq`` seconds, timed with :func:`time.monotonic`).
``lost_samples`` is then a lower bound.
"""

from __future__ import annotations

import time

import numpy as np

from acquisition.decoders.base import DecodedBlock, Decoder, int24_be, scale_from_gain

START = 0xA0
STOP_MIN, STOP_MAX = 0xC0, 0xC6
PACKET_BYTES = 33
N_CHANNELS = 8
COUNTER_MODULO = 256
DEFAULT_SFREQ = 250.0
DEFAULT_GAIN = 24.0
VREF = 4.5


class CytonDecoder(Decoder):
    """Decode OpenBCI Cyton packets (8 channels; Daisy interleaving is not supported).

    Parameters
    ----------
    n_channels : int | None
        Must be 8 (or None).
    sfreq : float | None
        Sampling rate (default 250 Hz), used to judge when a counter gap may have wrapped.
    volts_per_count : float | sequence | None
        Default ``4.5 / 24 / (2**23 - 1)`` (gain 24, the Cyton default).
    """

    format = "openbci-cyton"

    def __init__(self, n_channels=None, sfreq=None, volts_per_count=None):
        if n_channels not in (None, N_CHANNELS):
            raise ValueError(f"openbci-cyton packets carry {N_CHANNELS} channels, "
                             f"got n_channels={n_channels}")
        super().__init__(N_CHANNELS, DEFAULT_SFREQ if sfreq is None else sfreq,
                         scale_from_gain(DEFAULT_GAIN, VREF, N_CHANNELS)
                         if volts_per_count is None else volts_per_count)
        self.stats["possible_wrap_gaps"] = 0
        self._bad_left = 0
        self._last_counter = None
        self._skipped_since_good = 0
        self._last_good_time = None

    def feed(self, chunk, t_s=None) -> DecodedBlock:
        """Decode ``chunk``; ``t_s`` is its host receive time (default: ``time.monotonic()``)."""
        self._now = time.monotonic() if t_s is None else float(t_s)
        return super().feed(chunk)

    def flush(self) -> DecodedBlock:
        """Decode what is buffered at the end of a stream."""
        self._now = time.monotonic()
        return super().flush()

    def reset(self):
        """New connection: forget partial bytes (counted as junk), keep counters."""
        super().reset()
        self._bad_left = 0

    def _skip(self, n_bytes):
        if n_bytes > 0:
            self._skipped_since_good += int(n_bytes)
        super()._skip(n_bytes)

    def _parse(self, data, final):
        n = len(data)
        starts, ambiguous = [], []
        pos = 0
        bad_end = self._bad_left
        keep = n
        wrap_s = 0.5 * COUNTER_MODULO / (self.sfreq or DEFAULT_SFREQ)
        while True:
            i = data.find(b"\xa0", pos)
            if i < 0:
                self._skip(n - max(pos, bad_end))
                keep = n
                break
            if i > pos:
                self._skip(i - max(pos, bad_end))
            # inside a packet that failed its check, a 0xA0 is most likely channel data: there a
            # candidate must also be followed by the next packet's start byte
            need = PACKET_BYTES + 1 if (i < bad_end and not final) else PACKET_BYTES
            if i + need > n:
                if final and i + PACKET_BYTES <= n:
                    need = PACKET_BYTES
                else:
                    keep = i
                    break
            stop_ok = STOP_MIN <= data[i + PACKET_BYTES - 1] <= STOP_MAX
            if stop_ok and (need == PACKET_BYTES or data[i + PACKET_BYTES] == START):
                silent = (self._last_good_time is not None
                          and self._now - self._last_good_time >= wrap_s and not starts)
                ambiguous.append(self._after_reset or silent
                                 or self._skipped_since_good >= COUNTER_MODULO * PACKET_BYTES)
                self._after_reset = False
                self._skipped_since_good = 0
                starts.append(i)
                if not self._in_sync:  # a valid frame ends a resync episode
                    self.stats["resyncs"] += 1
                    self._in_sync = True
                pos = i + PACKET_BYTES
                continue
            if not stop_ok and i >= bad_end:
                self.stats["crc_errors"] += 1
                bad_end = i + PACKET_BYTES
            self._in_sync = False
            pos = i + 1
        self._bad_left = max(0, bad_end - keep)
        self.stats["frames"] += len(starts)
        if starts:
            self._last_good_time = self._now
        return self._decode(data, starts, ambiguous), keep

    def _decode(self, data, starts, ambiguous):
        if not starts:
            return DecodedBlock.empty(N_CHANNELS)
        arr = np.frombuffer(data, dtype=np.uint8)
        st = np.asarray(starts, dtype=np.int64)
        counter = arr[st + 1].astype(np.int64)
        prev = np.empty_like(counter)
        prev[1:] = counter[:-1]
        if self._last_counter is None:
            prev[0] = counter[0] - 1
        else:
            prev[0] = self._last_counter
        step = (counter - prev) % COUNTER_MODULO
        step[step == 0] = COUNTER_MODULO  # a repeated counter: 255 lost, or a whole wrap
        start_seq = -1 if self._last_seq is None else self._last_seq
        if self._last_seq is None:
            start_seq = counter[0] - 1  # the first counter value is the first sample index
        seq = start_seq + np.cumsum(step)
        amb = np.asarray(ambiguous, dtype=bool) & (step > 1)
        self.stats["possible_wrap_gaps"] += int(np.count_nonzero(amb))
        self._last_counter = int(counter[-1])
        self._count_seq(seq)
        index = st[:, None] + (2 + 3 * np.arange(N_CHANNELS))[None, :]
        codes = int24_be(arr, index)
        status = arr[st + PACKET_BYTES - 1].astype(np.uint32)  # the stop byte (packet type)
        block = DecodedBlock(seq, codes, status, [])
        aux_index = st[:, None] + (26 + 2 * np.arange(3))[None, :]
        aux = (arr[aux_index].astype(np.int16) << 8) | arr[aux_index + 1].astype(np.int16)
        block.aux = aux
        return block
