"""The decoder interface shared by every serial format.

A decoder turns arbitrary byte chunks (frames split anywhere) into blocks of samples and keeps
counters of what went wrong on the link. It never raises on bad input: junk, corrupted frames and
sequence gaps are counted, and decoding resumes at the next valid frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ADC_FULL_SCALE = 2**23 - 1  # positive full scale of a 24-bit two's-complement ADC code

#: Counters every decoder keeps (Cyton adds ``possible_wrap_gaps``).
STAT_KEYS = ("frames", "crc_errors", "resyncs", "junk_bytes", "lost_samples")


@dataclass
class DecodedBlock:
    """Samples decoded from one chunk of bytes.

    Attributes
    ----------
    seq : numpy.ndarray of int64, shape (n,)
        Sample index since stream start (unwrapped for counters narrower than 64 bits).
    codes : numpy.ndarray of int32, shape (n, n_channels)
        Raw ADC codes.
    status : numpy.ndarray of uint32, shape (n,)
        Per-sample status word (ADS129x lead-off bits for ``shirt-v1``; 0 where the format has none).
    messages : list of (str, object)
        Non-sample frames in arrival order: ``("info", dict)``, ``("event", str)``.
    """

    seq: np.ndarray
    codes: np.ndarray
    status: np.ndarray
    messages: list = field(default_factory=list)

    def __len__(self):
        return int(self.seq.shape[0])

    @classmethod
    def empty(cls, n_channels, messages=None):
        """A block without samples (``n_channels`` may be None: then 0 columns)."""
        return cls(np.empty(0, np.int64), np.empty((0, n_channels or 0), np.int32),
                   np.empty(0, np.uint32), list(messages or []))


def scale_from_gain(gain, vref, n_channels=None):
    """Volts per count ``vref / gain / (2**23 - 1)``, one value per channel.

    Parameters
    ----------
    gain : float | sequence of float
        PGA gain (scalar for all channels, or one per channel).
    vref : float
        ADC reference voltage in volts.
    n_channels : int | None
        Broadcast a scalar gain to this many channels.
    """
    gain = np.atleast_1d(np.asarray(gain, dtype=float))
    if n_channels is not None and gain.size == 1:
        gain = np.repeat(gain, n_channels)
    if np.any(~np.isfinite(gain)) or np.any(gain <= 0) or not np.isfinite(vref) or vref <= 0:
        raise ValueError(f"gain and vref must be positive numbers, got gain={gain.tolist()}, "
                         f"vref={vref}")
    return float(vref) / gain / ADC_FULL_SCALE


def int24_be(arr, index):
    """Signed 24-bit big-endian integers from the uint8 array ``arr`` at byte offsets ``index``."""
    v = (arr[index].astype(np.int32) << 16) | (arr[index + 1].astype(np.int32) << 8) \
        | arr[index + 2].astype(np.int32)
    return v - ((v & 0x800000) << 1)


class Decoder:
    """Base class: buffering, counters, ``reset``. Subclasses implement ``_parse``.

    Parameters
    ----------
    n_channels : int | None
        Number of channels; None learns it from the first valid frame (or the info frame).
    sfreq : float | None
        Sampling rate in Hz, if known (``shirt-v1`` also learns it from the info frame).
    volts_per_count : float | sequence of float | None
        Scale of the codes; None uses the format's default or the info frame.
    """

    format = None

    def __init__(self, n_channels=None, sfreq=None, volts_per_count=None):
        if n_channels is not None and (int(n_channels) != n_channels or n_channels < 1):
            raise ValueError(f"n_channels must be a positive int or None, got {n_channels!r}")
        self.n_channels = None if n_channels is None else int(n_channels)
        self.sfreq = None if sfreq is None else float(sfreq)
        self.volts_per_count = None if volts_per_count is None else \
            np.atleast_1d(np.asarray(volts_per_count, dtype=float))
        self.info = None
        self.stats = {k: 0 for k in STAT_KEYS}
        self._buf = b""
        self._last_seq = None
        self._in_sync = True  # False after a skip: the next good frame ends a resync episode

    def feed(self, chunk, t_s=None) -> DecodedBlock:
        """Decode the bytes in ``chunk`` (plus any partial frame kept from earlier chunks).

        ``t_s`` is the host receive time; only formats with a narrow counter use it (Cyton).
        """
        data = self._buf + bytes(chunk) if self._buf else bytes(chunk)
        block, keep = self._parse(data, final=False)
        self._buf = data[keep:]
        return block

    def flush(self) -> DecodedBlock:
        """Decode what is still buffered at the end of a stream; partial frames count as junk."""
        block, keep = self._parse(self._buf, final=True)
        self._skip(len(self._buf) - keep)
        self._buf = b""
        return block

    def reset(self):
        """A new connection: forget partial bytes, keep counters and the sequence position.

        Bytes that were buffered count as junk (they were a partial frame that can never finish).
        """
        self._skip(len(self._buf))
        self._buf = b""
        self._after_reset = True

    @property
    def pending_bytes(self) -> int:
        """Bytes buffered as the start of a frame not yet complete."""
        return len(self._buf)

    # -- helpers for subclasses ------------------------------------------------------------------
    def _skip(self, n_bytes):
        """Count ``n_bytes`` skipped as junk; the stream is out of sync until the next frame."""
        if n_bytes > 0:
            self.stats["junk_bytes"] += int(n_bytes)
            self._in_sync = False

    _after_reset = False

    def _count_seq(self, seq):
        """Count lost samples from gaps in the (already unwrapped) int64 ``seq`` array."""
        if seq.size == 0:
            return
        prev = np.empty_like(seq)
        prev[1:] = seq[:-1]
        prev[0] = seq[0] - 1 if self._last_seq is None else self._last_seq
        gaps = seq - prev - 1
        self.stats["lost_samples"] += int(gaps[gaps > 0].sum())
        back = int(np.count_nonzero(gaps < 0))
        if back:  # the device restarted its counter: not a loss, but worth knowing
            self.stats["seq_resets"] = self.stats.get("seq_resets", 0) + back
        self._last_seq = int(seq[-1])

    def _parse(self, data, final):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self):
        return (f"<{type(self).__name__} n_channels={self.n_channels} sfreq={self.sfreq} "
                f"frames={self.stats['frames']}>")
