"""Decoders against frames built by an encoder written here, independently, from DESIGN §3."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acquisition.decoders import get_decoder, scale_from_gain


# -- independent reference encoder (bitwise CRC, struct packing; no code shared with acquisition)
def ref_crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE computed bit by bit from its definition."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def ref_int24(v: int) -> bytes:
    return (int(v) & 0xFFFFFF).to_bytes(3, "big")


def ref_frame(ftype: int, payload: bytes) -> bytes:
    body = bytes([len(payload), ftype]) + payload
    return b"\xa5\x5a" + body + struct.pack("<H", ref_crc16(body))


def ref_samples(seq: int, codes, status: int = 0xC00000) -> bytes:
    payload = struct.pack("<I", seq) + status.to_bytes(3, "big") + b"".join(map(ref_int24, codes))
    return ref_frame(0x01, payload)


def ref_cyton(counter: int, codes, stop: int = 0xC0) -> bytes:
    return (bytes([0xA0, counter % 256]) + b"".join(map(ref_int24, codes))
            + struct.pack(">hhh", 1, -2, 3) + bytes([stop]))


def feed_all(dec, data, sizes=None):
    """Feed ``data`` in chunks of the given sizes (cycled), then flush; concatenate the output."""
    blocks, pos, k = [], 0, 0
    sizes = sizes or [len(data) or 1]
    while pos < len(data):
        step = max(1, sizes[k % len(sizes)])
        blocks.append(dec.feed(data[pos:pos + step]))
        pos += step
        k += 1
    blocks.append(dec.flush())
    seq = np.concatenate([b.seq for b in blocks])
    full = [b.codes for b in blocks if len(b)]
    codes = np.concatenate(full) if full else np.empty((0, dec.n_channels or 0), np.int32)
    messages = [m for b in blocks for m in b.messages]
    return seq, codes, messages


RNG = np.random.default_rng(7)
CODES8 = RNG.integers(-2**23, 2**23, size=(60, 8))
CODES8[0] = [2**23 - 1, -2**23, 0, -1, 1, 0x5AA5, -0x5A5A5B, 0xA0A0A0 - 2**24]


def test_crc_check_value():
    """The reference CRC has the catalogue check value, and the frames use the same CRC."""
    assert ref_crc16(b"123456789") == 0x29B1
    import binascii
    assert binascii.crc_hqx(b"123456789", 0xFFFF) == 0x29B1


def test_shirt_v1_roundtrip_full_scale_and_info():
    """Full-scale codes, status, info (scale, rate, names) and events decode exactly."""
    info = {"device": "shirt-proto", "firmware": "1.2", "sfreq": 500, "channels": list("ABCDEFGH"),
            "gain": 6, "vref": 2.4}
    data = ref_frame(0x02, json.dumps(info).encode())
    data += b"".join(ref_samples(100 + k, c, 0xC00000 | k) for k, c in enumerate(CODES8[:30]))
    data += ref_frame(0x03, "button pressé".encode())
    data += b"".join(ref_samples(130 + k, c) for k, c in enumerate(CODES8[30:]))
    dec = get_decoder("shirt-v1")
    seq, codes, msgs = feed_all(dec, data, [7])
    assert seq.tolist() == list(range(100, 160))
    np.testing.assert_array_equal(codes, CODES8)
    assert msgs[0] == ("info", info) and msgs[1] == ("event", "button pressé")
    assert dec.sfreq == 500.0 and dec.ch_names == list("ABCDEFGH")
    np.testing.assert_allclose(dec.volts_per_count, 2.4 / 6 / (2**23 - 1))
    assert dec.stats == {"frames": 60, "crc_errors": 0, "resyncs": 0, "junk_bytes": 0,
                         "lost_samples": 0, "other_frames": 2}


def test_shirt_v1_counts_crc_junk_gaps_exactly():
    """Junk, a corrupted CRC and a dropped frame are each counted exactly once."""
    frames = [ref_samples(k, c) for k, c in enumerate(CODES8[:20])]
    bad = bytearray(frames[5])
    bad[-1] ^= 0xFF                                      # corrupt the CRC of sample 5
    junk = bytes([1, 2, 3, 0xA5, 0x00, 9, 0x5A])         # 7 junk bytes, a lone 0xA5 in them
    data = b"".join(frames[:3]) + junk + b"".join(frames[3:5]) + bytes(bad) \
        + b"".join(frames[6:10]) + b"".join(frames[11:])  # sample 10 dropped
    for sizes in ([len(data)], [1], [5, 31, 2]):
        dec = get_decoder("shirt-v1", n_channels=8)
        seq, codes, _ = feed_all(dec, data, sizes)
        assert seq.tolist() == [k for k in range(20) if k not in (5, 10)]
        assert dec.stats == {"frames": 18, "crc_errors": 1, "resyncs": 2, "junk_bytes": 7,
                             "lost_samples": 2}


def test_shirt_v1_volts_per_count_from_scale_helper():
    """vref / gain / (2**23 - 1), one value per channel."""
    np.testing.assert_allclose(scale_from_gain([6, 12], 2.4), [2.4 / 6 / 8388607, 2.4 / 12 / 8388607])
    with pytest.raises(ValueError, match="positive"):
        scale_from_gain(0, 2.4)


def test_cyton_roundtrip_and_gap():
    """Cyton packets: codes big-endian, counter gaps modulo 256, default gain-24 scale."""
    packets = [ref_cyton(k, c) for k, c in enumerate(CODES8)]
    data = b"".join(packets[:10] + packets[13:])   # 3 packets lost
    dec = get_decoder("openbci-cyton")
    seq, codes, _ = feed_all(dec, data, [13])
    assert seq.tolist() == list(range(10)) + list(range(13, 60))
    np.testing.assert_array_equal(codes, np.delete(CODES8, [10, 11, 12], axis=0))
    assert dec.stats["lost_samples"] == 3 and dec.stats["possible_wrap_gaps"] == 0
    np.testing.assert_allclose(dec.volts_per_count, 4.5 / 24 / (2**23 - 1))


def test_cyton_counter_wraps_and_flags_ambiguous_gaps():
    """The 8-bit counter unwraps past 255; a gap after a reconnect is flagged as ambiguous."""
    data = b"".join(ref_cyton(k, CODES8[k % 60]) for k in range(600))
    dec = get_decoder("openbci-cyton")
    seq, _, _ = feed_all(dec, data, [1000])
    assert seq.tolist() == list(range(600)) and dec.stats["lost_samples"] == 0
    dec.feed(ref_cyton(600, CODES8[0])[:10])     # a partial packet, then the link drops
    dec.reset()
    # 301 packets (600…900) lost while unplugged: the counter only shows 301 % 256 = 45
    block = dec.feed(b"".join(ref_cyton(k, CODES8[0]) for k in range(901, 905)))
    assert block.seq.tolist() == [645, 646, 647, 648]
    assert dec.stats["lost_samples"] == 45 and dec.stats["possible_wrap_gaps"] == 1
    assert dec.stats["junk_bytes"] == 10


def test_cyton_bad_stop_byte_and_false_headers():
    """A wrong stop byte is one frame error; 0xA0 inside the data does not derail the decoder."""
    codes = np.full((20, 8), 0xA0A0A0 - 2**24)           # every data byte is a start byte
    packets = [ref_cyton(k, c) for k, c in enumerate(codes)]
    bad = bytearray(packets[7])
    bad[-1] = 0x00
    data = b"".join(packets[:7]) + bytes(bad) + b"\x01\x02" + b"".join(packets[8:])
    dec = get_decoder("openbci-cyton")
    seq, out, _ = feed_all(dec, data, [3])
    assert seq.tolist() == [k for k in range(20) if k != 7]
    np.testing.assert_array_equal(out, np.delete(codes, 7, axis=0))
    assert dec.stats["crc_errors"] == 1 and dec.stats["junk_bytes"] == 2
    assert dec.stats["lost_samples"] == 1 and dec.stats["resyncs"] == 1


@pytest.mark.parametrize("counter", [False, True])
def test_ascii_with_and_without_counter(counter):
    """Text lines, CRLF or LF, banner and lead-off sentinel lines counted as junk."""
    lines = [(f"{k + 5}," if counter else "") + ",".join(map(str, c)) for k, c in
             enumerate(CODES8[:, :3] // 4096)]
    text = "AD8232 ECG Monitor Test\r\n" + "\r\n".join(lines[:4]) + "\r\n!\r\n" \
        + "\n".join(lines[4:]) + "\n"
    dec = get_decoder("ascii", n_channels=3)
    seq, codes, _ = feed_all(dec, text.encode(), [11])
    np.testing.assert_array_equal(codes, CODES8[:, :3] // 4096)
    assert seq.tolist() == list(range(5, 65) if counter else range(60))
    assert dec.counter is counter
    assert dec.stats["junk_bytes"] == len("AD8232 ECG Monitor Test\r\n") + len("!\r\n")
    assert dec.stats["resyncs"] == 2 and dec.stats["frames"] == 60


def test_ascii_counter_gap_and_malformed_line():
    """A corrupted line is junk; the counter column shows the sample it cost."""
    text = b"0,10,20\n1,11,21\n2,1x,22\n3,13,23\n4,--4,24\n6,16,26\n"
    dec = get_decoder("ascii", n_channels=2, counter=True)
    seq, codes, _ = feed_all(dec, text, [4])
    assert seq.tolist() == [0, 1, 3, 6]
    assert codes[:, 0].tolist() == [10, 11, 13, 16]
    assert dec.stats["lost_samples"] == 3
    assert dec.stats["junk_bytes"] == len(b"2,1x,22\n") + len(b"4,--4,24\n")


def test_get_decoder_rejects_unknown_format():
    """The error names the accepted formats."""
    with pytest.raises(ValueError, match="shirt-v1, openbci-cyton, ascii"):
        get_decoder("edf")


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.sampled_from(["shirt-v1", "openbci-cyton", "ascii"]), st.binary(max_size=600),
       st.lists(st.integers(1, 64), min_size=1, max_size=5))
def test_fuzz_random_bytes_never_raise(fmt, data, sizes):
    """Any bytes, split anywhere: no exception, and every byte is accounted for or pending."""
    dec = get_decoder(fmt)
    seq, codes, _ = feed_all(dec, data, sizes)
    assert codes.shape[0] == seq.shape[0]
    assert dec.stats["junk_bytes"] <= len(data)


def _embedded_stream(fmt, junks, n):
    good = []
    for k in range(n):
        c = CODES8[k % 60]
        good.append(ref_samples(k, c) if fmt == "shirt-v1" else ref_cyton(k, c))
    data = b""
    for k, frame in enumerate(good):
        data += junks[k % len(junks)] + frame
    return data


@FUZZ
@given(st.sampled_from(["shirt-v1", "openbci-cyton"]),
       st.lists(st.binary(max_size=40), min_size=1, max_size=8),
       st.lists(st.integers(1, 97), min_size=1, max_size=4))
def test_fuzz_valid_frames_in_junk_all_recovered(fmt, junks, sizes):
    """Valid frames embedded in junk free of sync bytes are all recovered, whatever the split."""
    sync = 0xA5 if fmt == "shirt-v1" else 0xA0
    junks = [bytes(b for b in j if b != sync) for j in junks]
    data = _embedded_stream(fmt, junks, 25)
    dec = get_decoder(fmt, n_channels=8)
    seq, codes, _ = feed_all(dec, data, sizes)
    assert seq.tolist() == list(range(25))
    np.testing.assert_array_equal(codes, CODES8[:25])
    assert dec.stats["junk_bytes"] == sum(len(junks[k % len(junks)]) for k in range(25))


@FUZZ
@given(st.sampled_from(["shirt-v1", "openbci-cyton", "ascii"]), st.binary(max_size=300),
       st.lists(st.integers(1, 50), min_size=1, max_size=6))
def test_fuzz_chunk_split_does_not_change_output(fmt, junk, sizes):
    """Junk plus frames: one big chunk and arbitrary splits give identical samples and counts."""
    if fmt == "ascii":
        data = junk + b"\n" + b"".join(b"%d,%d\n" % (k, 3 * k) for k in range(30)) + junk
    else:
        data = junk + _embedded_stream(fmt, [b"", junk[:20]], 30) + junk
    a, b = get_decoder(fmt), get_decoder(fmt)
    sa, ca, _ = feed_all(a, data)
    sb, cb, _ = feed_all(b, data, sizes)
    np.testing.assert_array_equal(sa, sb)
    np.testing.assert_array_equal(ca, cb)
    assert a.stats == b.stats
