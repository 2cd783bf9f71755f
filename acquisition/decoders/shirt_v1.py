"""Decoder of the shirt's binary frame ``shirt-v1`` (DESIGN §3).

Frame layout (little-endian unless noted)::

    0      2  sync 0xA5 0x5A
    2      1  LEN: bytes from offset 4 up to the CRC
    3      1  TYPE: 0x01 samples, 0x02 info (UTF-8 JSON), 0x03 event (UTF-8 text)
    4      4  SEQ u32: sample index since stream start            (samples frames)
    8      3  STATUS u24 big-endian (ADS129x status word)          (samples frames)
    11   3·n  n channels, signed 24-bit big-endian codes            (samples frames)
    4+LEN  2  CRC-16/CCITT-FALSE over bytes 2 … 3+LEN, little-endian

A candidate frame starts at every ``A5 5A``; it is accepted when its CRC matches. After a CRC
failure the decoder rescans from the next byte, so a false sync inside junk or a corrupted length
byte costs nothing but the bytes it covers. The bytes of a frame that failed its CRC count as one
``crc_errors``, not as junk; any further candidate inside that frame that also fails is not counted
again, so one corrupted frame is exactly one CRC error.
"""

from __future__ import annotations

import binascii
import json

import numpy as np

from acquisition.decoders.base import DecodedBlock, Decoder, int24_be, scale_from_gain

SYNC = b"\xa5\x5a"
TYPE_SAMPLES, TYPE_INFO, TYPE_EVENT = 0x01, 0x02, 0x03
HEADER_BYTES = 4  # sync, LEN, TYPE
CRC_BYTES = 2
SAMPLE_FIXED_BYTES = 7  # SEQ u32 + STATUS u24


def frame_payload_len(n_channels) -> int:
    """``LEN`` of a samples frame with ``n_channels`` channels."""
    return SAMPLE_FIXED_BYTES + 3 * int(n_channels)


class ShirtV1Decoder(Decoder):
    """Decode ``shirt-v1`` frames; see the module docstring for the layout.

    Parameters
    ----------
    n_channels, sfreq, volts_per_count
        See :class:`acquisition.decoders.base.Decoder`. The info frame, when it arrives, sets
        ``info``, ``sfreq``, ``n_channels`` (if still unknown), ``ch_names`` and
        ``volts_per_count`` (``vref / gain / (2**23 - 1)``): the device knows best.
    """

    format = "shirt-v1"

    def __init__(self, n_channels=None, sfreq=None, volts_per_count=None):
        super().__init__(n_channels, sfreq, volts_per_count)
        self.ch_names = None
        self._bad_left = 0  # bytes at the buffer start still inside a frame that failed its CRC

    def reset(self):
        """New connection: forget partial bytes (counted as junk), keep counters."""
        super().reset()
        self._bad_left = 0

    def _parse(self, data, final):
        n = len(data)
        mv = memoryview(data)
        crc_hqx = binascii.crc_hqx
        expected = None if self.n_channels is None else frame_payload_len(self.n_channels)
        starts, messages, message_pos = [], [], []
        pos = 0
        bad_end = self._bad_left
        keep = None
        while True:
            i = data.find(SYNC, pos)
            if i < 0:
                # keep a trailing 0xA5: it may be the first half of a sync word
                cut = n - 1 if (not final and n > pos and data[-1] == 0xA5) else n
                self._skip(cut - max(pos, bad_end))
                keep = cut
                break
            if i > pos:
                self._skip(i - max(pos, bad_end))
            if i + HEADER_BYTES > n:
                keep = i
                break
            length = data[i + 2]
            end = i + HEADER_BYTES + length + CRC_BYTES
            if end > n:
                keep = i
                break
            crc = crc_hqx(mv[i + 2:i + HEADER_BYTES + length], 0xFFFF)
            if crc != data[end - 2] | (data[end - 1] << 8):
                if i >= bad_end:  # a new bad frame, not a false sync inside the last one
                    self.stats["crc_errors"] += 1
                    bad_end = end
                self._in_sync = False
                pos = i + 1
                continue
            ftype = data[i + 3]
            if ftype == TYPE_SAMPLES:
                if expected is None and length >= SAMPLE_FIXED_BYTES + 3 \
                        and (length - SAMPLE_FIXED_BYTES) % 3 == 0:
                    self.n_channels = (length - SAMPLE_FIXED_BYTES) // 3
                    expected = length
                if length == expected:
                    starts.append(i)
                    if not self._in_sync:  # a valid frame ends a resync episode
                        self.stats["resyncs"] += 1
                        self._in_sync = True
                else:  # a valid frame of another channel count: the device changed mode
                    self.stats["length_errors"] = self.stats.get("length_errors", 0) + 1
            else:
                text = bytes(mv[i + HEADER_BYTES:i + HEADER_BYTES + length])
                messages.append(self._message(ftype, text))
                message_pos.append(len(starts))
                if messages[-1][0] == "info":
                    expected = None if self.n_channels is None \
                        else frame_payload_len(self.n_channels)
                self.stats["other_frames"] = self.stats.get("other_frames", 0) + 1
                if not self._in_sync:
                    self.stats["resyncs"] += 1
                    self._in_sync = True
            pos = end
        self._bad_left = max(0, bad_end - keep)
        self.stats["frames"] += len(starts)
        block = self._decode_samples(data, starts, messages)
        block.message_pos = message_pos
        return block, keep

    def _decode_samples(self, data, starts, messages):
        if not starts:
            return DecodedBlock.empty(self.n_channels, messages)
        arr = np.frombuffer(data, dtype=np.uint8)
        st = np.asarray(starts, dtype=np.int64)
        seq = (arr[st + 4].astype(np.int64) | (arr[st + 5].astype(np.int64) << 8)
               | (arr[st + 6].astype(np.int64) << 16) | (arr[st + 7].astype(np.int64) << 24))
        status = ((arr[st + 8].astype(np.uint32) << 16) | (arr[st + 9].astype(np.uint32) << 8)
                  | arr[st + 10].astype(np.uint32))
        index = st[:, None] + (11 + 3 * np.arange(self.n_channels))[None, :]
        codes = int24_be(arr, index)
        seq = self._unwrap(seq)
        self._count_seq(seq)
        return DecodedBlock(seq, codes, status, messages)

    def _unwrap(self, seq):
        """Unwrap the u32 counter (wraps after 99 days at 500 Hz, but cheap to get right)."""
        offset = getattr(self, "_wrap_offset", 0)
        prev = self._last_seq
        raw = seq + offset
        d = np.diff(raw, prepend=raw[0] if prev is None else prev)
        wraps = np.cumsum(d < -(2**31)) * 2**32
        if wraps[-1]:
            self._wrap_offset = offset + int(wraps[-1])
        return raw + wraps

    def _message(self, ftype, text):
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError:
            return (f"type_0x{ftype:02x}", text)
        if ftype == TYPE_EVENT:
            return ("event", decoded)
        if ftype != TYPE_INFO:
            return (f"type_0x{ftype:02x}", text)
        try:
            info = json.loads(decoded)
        except ValueError:
            return ("info_invalid", decoded)
        if not isinstance(info, dict):
            return ("info_invalid", decoded)
        self._apply_info(info)
        return ("info", info)

    def _apply_info(self, info):
        """Take sampling rate, channels and scale from the device's info frame."""
        self.info = info
        channels = info.get("channels")
        if isinstance(channels, list) and channels:
            names = [c.get("name") if isinstance(c, dict) else str(c) for c in channels]
            self.ch_names = names
            if self.n_channels is None:
                self.n_channels = len(names)
        try:
            if info.get("sfreq") is not None:
                self.sfreq = float(info["sfreq"])
            if info.get("gain") is not None and info.get("vref") is not None:
                self.volts_per_count = scale_from_gain(info["gain"], float(info["vref"]),
                                                       self.n_channels)
        except (TypeError, ValueError):
            self.stats["info_errors"] = self.stats.get("info_errors", 0) + 1
