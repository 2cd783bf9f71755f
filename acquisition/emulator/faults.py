"""Fault injection for the emulator: the ``--faults`` grammar, the draws and the fault log.

Grammar: comma-separated items, each ``KIND=VALUE`` or ``KIND=DURATION@TIME``::

    drop=0.01,crc=0.005,junk=0.01,stall=2.0@3s,unplug=1.5@5s

=========================  ============================================================================
``drop=P``                 each samples frame is not sent with probability P (a sequence gap)
``crc=P``                  each frame is corrupted with probability P: ``shirt-v1`` CRC bytes flipped,
                           Cyton stop byte set to 0x00, ``ascii`` a digit replaced by ``x``
``junk=P``                 junk bytes are sent before a frame with probability P; ``junk_max=N`` bytes
                           at most (default 32, uniform 1…N). Junk never holds a sync byte (0xA5 for
                           ``shirt-v1``, 0xA0 for Cyton); for ``ascii`` it is a line of letters
``stall=D@T``              from stream time T (seconds, the ``s`` suffix is optional) no frame is sent
                           for D seconds; those samples are lost (the device clock runs on)
``unplug=D@T``             at time T the pty is closed (after the host read what was sent); after D
                           seconds a new pty is published at the same symlink path; streaming resumes
                           once the host has reopened the port and sent a byte (``b``, ``i``…)
=========================  ============================================================================

At most one random fault hits a frame (one uniform draw per frame: drop, else crc, else junk).
Times are on the device clock: sample index / sfreq since the first ``b``. ``stall`` and
``unplug`` may repeat. All draws come from a ``numpy.random.Generator`` seeded by ``--seed``.

The fault log (``--fault-log FILE``) holds JSON lines, flushed as they happen: a ``start`` line
(format, sfreq, channels, seed, scale and any gain error applied), one line per injected fault
``{"kind", "time_s", "first_sample", "n_samples", "n_bytes"}``, ``host_closed`` lines for samples
not sent because no host had the port open (not injected, but lost all the same), and an ``end``
line with the totals. Before the emulator closes the pty (an unplug, the end of the stream) it
waits up to 0.5 s for the host to read, then takes back whatever is still unread (the pty's
queue and its own output buffer) and logs the samples whose frames were in those bytes as
``unread`` records ``{first_sample, n_samples}`` (one per run) plus one ``withdrawn`` record with
the byte count: a slow host loses exactly those samples, and the log says which.

Every sample the emulator generated but did not deliver is in the log, with these limits:

- when the *host* closes the port mid-stream, the bytes already written but not yet read (the
  last tick or two, a few samples) vanish with the host's pty buffer before the emulator can
  notice. The emulator logs a ``host_left`` record with ``last_written_sample`` (exact): the
  vanished samples lie at or before it, every later one is either still queued for the next
  host or in the ``host_closed`` record that follows. Which of the written ones the host had
  read only the host knows (a sequence gap on its side).
- a host that resumes reading in the few milliseconds while unread bytes are being taken back
  could receive bytes after a taken range; the log then over-reports those samples as unread.
- a ``crc`` or ``junk`` fault whose bytes were taken back stays logged as injected, though the
  host's decoder never saw it.
"""

from __future__ import annotations

import json
import re

import numpy as np

from shirtecg_common.errors import UserError

RATE_KINDS = ("drop", "crc", "junk")
TIMED_KINDS = ("stall", "unplug")
_ITEM = re.compile(r"^(?P<kind>[a-z_]+)=(?P<value>[0-9.eE+-]+)(?:s)?(?:@(?P<at>[0-9.eE+-]+)s?)?$")


class FaultSpec:
    """Parsed ``--faults`` specification (see the module docstring for the grammar).

    Attributes
    ----------
    rates : dict
        ``drop``, ``crc``, ``junk`` probabilities per frame.
    junk_max : int
    timed : list of (kind, at_s, duration_s)
        Stalls and unplugs, sorted by time.
    """

    def __init__(self, rates=None, junk_max=32, timed=None, text=""):
        self.rates = {k: 0.0 for k in RATE_KINDS}
        self.rates.update(rates or {})
        self.junk_max = int(junk_max)
        self.timed = sorted(timed or [], key=lambda x: x[1])
        self.text = text

    @classmethod
    def parse(cls, text):
        """Parse ``text``; a bad item raises :class:`UserError` naming it and the grammar."""
        text = (text or "").strip()
        rates, timed, junk_max = {}, [], 32
        for item in filter(None, (s.strip() for s in text.split(","))):
            m = _ITEM.match(item)
            kind = m.group("kind") if m else item.split("=")[0]
            if m is None or kind not in RATE_KINDS + TIMED_KINDS + ("junk_max",):
                raise UserError(
                    f"--faults: cannot read {item!r}; expected drop=P, crc=P, junk=P, junk_max=N, "
                    "stall=SECONDS@TIME or unplug=SECONDS@TIME, e.g. "
                    "'drop=0.01,crc=0.005,junk=0.01,stall=2.0@3s,unplug=1.5@5s'")
            value, at = float(m.group("value")), m.group("at")
            if kind in TIMED_KINDS:
                if at is None or value <= 0 or float(at) < 0:
                    raise UserError(f"--faults: {item!r} needs a positive duration and a time, "
                                    f"e.g. {kind}=1.5@5s")
                timed.append((kind, float(at), value))
            elif at is not None:
                raise UserError(f"--faults: {item!r}: {kind} takes no @TIME")
            elif kind == "junk_max":
                if value < 1 or value != int(value):
                    raise UserError(f"--faults: junk_max must be a positive integer, got {value}")
                junk_max = int(value)
            else:
                if not 0 <= value <= 1:
                    raise UserError(f"--faults: {kind} is a probability in [0, 1], got {value}")
                rates[kind] = value
        if sum(rates.values()) > 1:
            raise UserError(f"--faults: drop + crc + junk must not exceed 1, got {sum(rates.values())}")
        return cls(rates, junk_max, timed, text)

    def to_dict(self):
        return {"rates": dict(self.rates), "junk_max": self.junk_max,
                "timed": [{"kind": k, "at_s": a, "duration_s": d} for k, a, d in self.timed]}


class FaultLog:
    """JSON-lines writer of what was injected (no-op without a path)."""

    def __init__(self, path=None):
        self._fh = open(path, "w", encoding="utf-8") if path else None
        self.records = []

    def write(self, record):
        self.records.append(record)
        if self._fh is not None:
            self._fh.write(json.dumps(record) + "\n")
            self._fh.flush()

    def close(self):
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class RandomFaults:
    """Per-frame random faults for one stream.

    Parameters
    ----------
    spec : FaultSpec
    fmt : str
        Serial format (decides how a frame is corrupted and which junk bytes are allowed).
    rng : numpy.random.Generator
    """

    def __init__(self, spec, fmt, rng):
        self.spec = spec
        self.fmt = fmt
        # separate streams for the per-frame decisions and the junk contents, so where faults
        # fall depends only on the seed and the frames sent, not on how ticks split them
        self.rng, self._rng_junk = rng.spawn(2)
        sync = {"shirt-v1": 0xA5, "openbci-cyton": 0xA0}.get(fmt)
        self._junk_values = np.array([b for b in range(256) if b != sync], dtype=np.uint8)
        r = spec.rates
        self._edges = np.cumsum([r["drop"], r["crc"], r["junk"]])
        self.active = self._edges[-1] > 0

    def draw(self, n):
        """Fault code per frame: 0 none, 1 drop, 2 crc, 3 junk before the frame."""
        if not self.active:
            return np.zeros(n, np.int8)
        return self._codes(self.rng.random(n))

    def _codes(self, u):
        code = np.zeros(u.shape, np.int8)
        code[u < self._edges[2]] = 3
        code[u < self._edges[1]] = 2
        code[u < self._edges[0]] = 1
        return code

    def junk(self):
        """One burst of junk bytes."""
        rng = self._rng_junk
        n = int(rng.integers(1, self.spec.junk_max + 1))
        if self.fmt == "ascii":
            letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyzLEADOF!", np.uint8)
            return bytes(rng.choice(letters, n)) + b"\n"
        return bytes(rng.choice(self._junk_values, n))

    def corrupt(self, frame):
        """A corrupted copy of one encoded frame (same length, fails its check)."""
        b = bytearray(frame)
        if self.fmt == "shirt-v1":
            b[-1] ^= 0xFF  # a changed CRC byte never matches
        elif self.fmt == "openbci-cyton":
            b[-1] = 0x00
        else:
            digits = [k for k, c in enumerate(b) if 0x30 <= c <= 0x39]
            b[digits[-1] if digits else 0] = ord("x")
        return bytes(b)
