"""Decoder throughput: frames/s from an in-memory capture, per format, 8 and 16 channels.

Goal: ≥ 100,000 frames/s at 8 channels (≥ 50× the fastest real stream, 8 ch × 2 kHz). Side by
side, in the same run, the way such streams are usually parsed in Python: pyserial's own
``serial.threaded.Packetizer`` (a peer library's line framer) for ``ascii``, and a frame-by-frame
``struct`` loop (BrainFlow's Cyton read-loop algorithm, ported) for the binary formats.
"""

from __future__ import annotations

import argparse
import binascii
import struct
import time

import numpy as np

from acquisition import frames
from acquisition.decoders import get_decoder

GOAL = 100_000
CHUNK = 4096  # bytes per read, like ser.read(ser.in_waiting) at high rates


def capture(fmt, n_ch, n, junk_every=0, seed=0):
    """An in-memory capture of ``n`` frames (optionally a junk byte run every ``junk_every``)."""
    rng = np.random.default_rng(seed)
    hi = 2**15 if fmt == "ascii" else 2**23
    codes = rng.integers(-hi, hi, (n, n_ch))
    data = frames.encode_samples(fmt, np.arange(n), codes)
    if junk_every and fmt != "ascii":
        width = len(data) // n
        parts = []
        for k in range(0, n, junk_every):
            parts.append(data[k * width:(k + junk_every) * width])
            parts.append(bytes([1, 2, 3]))
        data = b"".join(parts)
    return data


def ours(fmt, n_ch, data):
    dec = get_decoder(fmt, n_channels=n_ch)
    n = 0
    for k in range(0, len(data), CHUNK):
        n += len(dec.feed(data[k:k + CHUNK]))
    return n


def naive_shirt(data, n_ch):
    """Frame by frame: find sync, check CRC, unpack with struct (typical Python firmware host)."""
    buf, n, pos = b"", 0, 0
    for k in range(0, len(data), CHUNK):
        buf = buf[pos:] + data[k:k + CHUNK]
        pos = 0
        while True:
            i = buf.find(b"\xa5\x5a", pos)
            if i < 0 or i + 4 > len(buf):
                break
            length = buf[i + 2]
            end = i + 6 + length
            if end > len(buf):
                pos = i
                break
            if binascii.crc_hqx(buf[i + 2:end - 2], 0xFFFF) != struct.unpack_from("<H", buf, end - 2)[0]:
                pos = i + 1
                continue
            struct.unpack_from("<I", buf, i + 4)
            [int.from_bytes(buf[j:j + 3], "big", signed=True)
             for j in range(i + 11, i + 11 + 3 * n_ch, 3)]
            n += 1
            pos = end
    return n


def naive_cyton(data, n_ch):
    """BrainFlow's Cyton read loop in Python: scan to 0xA0, take 32 bytes, check the stop byte."""
    buf, n, pos = b"", 0, 0
    for k in range(0, len(data), CHUNK):
        buf = buf[pos:] + data[k:k + CHUNK]
        pos = 0
        while True:
            i = buf.find(b"\xa0", pos)
            if i < 0 or i + 33 > len(buf):
                pos = i if i >= 0 else len(buf)
                break
            if not 0xC0 <= buf[i + 32] <= 0xC6:
                pos = i + 1
                continue
            [int.from_bytes(buf[j:j + 3], "big", signed=True) for j in range(i + 2, i + 26, 3)]
            struct.unpack_from(">hhh", buf, i + 26)
            n += 1
            pos = i + 33
    return n


def pyserial_packetizer(data, n_ch):
    """pyserial's serial.threaded.Packetizer (terminator b"\\n") + int() per field."""
    from serial.threaded import Packetizer

    count = [0]

    class Lines(Packetizer):
        TERMINATOR = b"\n"

        def handle_packet(self, packet):
            [int(x) for x in packet.split(b",")]
            count[0] += 1

    p = Lines()
    p.connection_made(None)
    for k in range(0, len(data), CHUNK):
        p.data_received(data[k:k + CHUNK])
    return count[0]


PEERS = {"shirt-v1": ("struct loop", naive_shirt), "openbci-cyton": ("BrainFlow loop", naive_cyton),
         "ascii": ("pyserial Packetizer", pyserial_packetizer)}


def timed(fn, *args, repeat=3):
    best, n = float("inf"), 0
    for _ in range(repeat):
        t = time.perf_counter()
        n = fn(*args)
        best = min(best, time.perf_counter() - t)
    return n, best


def main(argv=None):
    """Print the Markdown table."""
    ap = argparse.ArgumentParser(prog="bench_decoders", description=__doc__)
    ap.add_argument("--frames", type=int, default=200_000, help="frames per capture")
    args = ap.parse_args(argv)
    n = args.frames
    print(f"In-memory capture of {n:,} frames, read in {CHUNK}-byte chunks; best of 3. "
          f"Goal {GOAL:,} frames/s at 8 channels.\n")
    print("| format | channels | shirtecg frames/s | goal met (8 ch) | peer | peer frames/s |"
          " speed-up | with junk every 100 frames |")
    print("|---|---|---|---|---|---|---|---|")
    for fmt in ("shirt-v1", "openbci-cyton", "ascii"):
        for n_ch in ((8,) if fmt == "openbci-cyton" else (8, 16)):
            data = capture(fmt, n_ch, n)
            got, t = timed(ours, fmt, n_ch, data)
            assert got == n, (fmt, got)
            name, peer = PEERS[fmt]
            m = n // 10  # the peers are slow: time them on a tenth
            peer_n, peer_t = timed(peer, capture(fmt, n_ch, m), n_ch, repeat=1)
            junk = capture(fmt, n_ch, n, junk_every=100)
            _, tj = timed(ours, fmt, n_ch, junk, repeat=1)
            rate, peer_rate = n / t, peer_n / peer_t
            met = ("yes" if rate >= GOAL else "NO") if n_ch == 8 else "–"
            with_junk = f"{n / tj:,.0f}" if fmt != "ascii" else "–"
            print(f"| {fmt} | {n_ch} | {rate:,.0f} | {met} | {name} | {peer_rate:,.0f} | "
                  f"{rate / peer_rate:.1f}× | {with_junk} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
