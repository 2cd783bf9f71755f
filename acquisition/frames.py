"""Encoders of the three serial formats: what a device (or the emulator) sends.

These are the inverse of :mod:`acquisition.decoders` and are used by the device emulator and the
benchmarks. Tests check the decoders against an encoder written independently from the spec, not
against these. All encoders are vectorized over many samples and return one ``bytes`` object.
"""

from __future__ import annotations

import binascii
import json

import numpy as np

SYNC = b"\xa5\x5a"
TYPE_SAMPLES, TYPE_INFO, TYPE_EVENT = 0x01, 0x02, 0x03
CODE_MIN, CODE_MAX = -(2**23), 2**23 - 1


def crc16_ccitt_false(data) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection); ``b"123456789"`` → 0x29B1."""
    return binascii.crc_hqx(data, 0xFFFF)


def _int24_be(codes):
    """(n, n_ch) int codes → (n, 3·n_ch) uint8, big-endian two's complement."""
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size and (codes.min() < CODE_MIN or codes.max() > CODE_MAX):
        raise ValueError(f"24-bit codes must lie in [{CODE_MIN}, {CODE_MAX}], got "
                         f"[{codes.min()}, {codes.max()}]")
    u = codes & 0xFFFFFF
    out = np.stack([(u >> 16) & 0xFF, (u >> 8) & 0xFF, u & 0xFF], axis=-1).astype(np.uint8)
    return out.reshape(codes.shape[0], -1)


def shirt_v1_frame_bytes(n_channels) -> int:
    """Size of one ``shirt-v1`` samples frame in bytes."""
    return 4 + 7 + 3 * int(n_channels) + 2


def shirt_v1_samples(seq, codes, status=None) -> bytes:
    """Encode ``shirt-v1`` samples frames.

    Parameters
    ----------
    seq : array of int, shape (n,)
        Sample indices (stored modulo 2**32).
    codes : array of int, shape (n, n_channels)
        Signed 24-bit ADC codes.
    status : array of int, shape (n,) | None
        24-bit status words (default ``0xC00000``: the ADS129x ``1100`` prefix, no lead-off).
    """
    seq = np.asarray(seq, dtype=np.int64)
    codes = np.atleast_2d(np.asarray(codes))
    n, n_ch = codes.shape
    if seq.shape != (n,):
        raise ValueError(f"seq must have shape ({n},), got {seq.shape}")
    if status is None:
        status = np.full(n, 0xC00000, dtype=np.int64)
    status = np.asarray(status, dtype=np.int64) & 0xFFFFFF
    length = 7 + 3 * n_ch
    if length > 255:
        raise ValueError(f"a shirt-v1 frame holds at most 82 channels, got {n_ch}")
    frame = np.empty((n, 4 + length + 2), dtype=np.uint8)
    frame[:, 0], frame[:, 1], frame[:, 2], frame[:, 3] = 0xA5, 0x5A, length, TYPE_SAMPLES
    frame[:, 4:8] = (seq % 2**32).astype("<u4").view(np.uint8).reshape(n, 4)
    frame[:, 8] = (status >> 16) & 0xFF
    frame[:, 9] = (status >> 8) & 0xFF
    frame[:, 10] = status & 0xFF
    frame[:, 11:11 + 3 * n_ch] = _int24_be(codes)
    _fill_crc(frame, length)
    return frame.tobytes()


def _fill_crc(frame, length):
    """Write each row's CRC (over bytes 2 … 3+LEN) into its last two bytes."""
    body = frame.tobytes()
    width = frame.shape[1]
    crc_hqx = binascii.crc_hqx
    mv = memoryview(body)
    crcs = np.fromiter((crc_hqx(mv[k + 2:k + 4 + length], 0xFFFF)
                        for k in range(0, len(body), width)), dtype=np.uint16, count=len(frame))
    frame[:, -2] = crcs & 0xFF
    frame[:, -1] = crcs >> 8


def shirt_v1_text_frame(ftype, text) -> bytes:
    """One info (``TYPE_INFO``) or event (``TYPE_EVENT``) frame carrying UTF-8 ``text``."""
    payload = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    if len(payload) > 255:
        raise ValueError(f"a shirt-v1 text frame holds at most 255 bytes, got {len(payload)}")
    body = bytes([len(payload), ftype]) + payload
    crc = crc16_ccitt_false(body)
    return SYNC + body + bytes([crc & 0xFF, crc >> 8])


def shirt_v1_info(info) -> bytes:
    """The info frame answering the host's ``i``: compact JSON of ``info``."""
    return shirt_v1_text_frame(TYPE_INFO, json.dumps(info, separators=(",", ":")))


def shirt_v1_event(text) -> bytes:
    """An event frame (free UTF-8 text, e.g. a button press)."""
    return shirt_v1_text_frame(TYPE_EVENT, text)


def cyton_packets(seq, codes, aux=None, stop=0xC0) -> bytes:
    """Encode OpenBCI Cyton 33-byte packets (counter = ``seq % 256``).

    Parameters
    ----------
    seq : array of int, shape (n,)
    codes : array of int, shape (n, 8)
    aux : array of int, shape (n, 3) | None
        int16 accelerometer values (default zeros, as the Cyton sends between LIS3DH updates).
    stop : int
        Stop byte, 0xC0–0xC6.
    """
    seq = np.asarray(seq, dtype=np.int64)
    codes = np.atleast_2d(np.asarray(codes))
    n, n_ch = codes.shape
    if n_ch != 8:
        raise ValueError(f"Cyton packets carry 8 channels, got {n_ch}")
    packet = np.empty((n, 33), dtype=np.uint8)
    packet[:, 0] = 0xA0
    packet[:, 1] = seq % 256
    packet[:, 2:26] = _int24_be(codes)
    aux = np.zeros((n, 3), np.int64) if aux is None else np.asarray(aux, np.int64)
    packet[:, 26:32] = (aux.astype(">i2").view(np.uint8)).reshape(n, 6)
    packet[:, 32] = stop
    return packet.tobytes()


def ascii_lines(codes, seq=None) -> bytes:
    """Encode ``v1,v2,…\\n`` lines; with ``seq`` a leading counter column."""
    codes = np.atleast_2d(np.asarray(codes, dtype=np.int64))
    cols = codes if seq is None else np.column_stack([np.asarray(seq, np.int64), codes])
    if cols.size == 0:
        return b""
    return ("\n".join(",".join(map(str, row)) for row in cols.tolist()) + "\n").encode("ascii")


def frame_bytes(fmt, n_channels) -> int | None:
    """Bytes per sample frame of ``fmt`` (None for ``ascii``: it depends on the values)."""
    if fmt == "shirt-v1":
        return shirt_v1_frame_bytes(n_channels)
    if fmt == "openbci-cyton":
        return 33
    return None


def encode_samples(fmt, seq, codes, status=None, counter=True) -> bytes:
    """Encode samples in format ``fmt`` (``counter`` only matters for ``ascii``)."""
    if fmt == "shirt-v1":
        return shirt_v1_samples(seq, codes, status)
    if fmt == "openbci-cyton":
        return cyton_packets(seq, codes)
    if fmt == "ascii":
        return ascii_lines(codes, seq if counter else None)
    raise ValueError(f"unknown serial format {fmt!r}; accepted: shirt-v1, openbci-cyton, ascii")
