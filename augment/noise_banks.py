"""Shared maths of the noise transforms: electrode algebra, noise banks, fast low-rate paths.

Why banks: drawing 256 × 8 × 5000 normal numbers costs ~120 ms on one core, adding a
crop of a pre-rendered bank costs ~5 ms. Each bank is rendered once per
``(kind, sfreq, band, …)`` from a fixed seed and cached for the process; records take
crops at offsets drawn from their own generators, so reproducibility is kept.

Why low rate: baseline wander, impedance modulation and envelopes live below a few Hz,
so they are generated on a coarse grid (``≈ 25 Hz``) and linearly interpolated while
being added, which costs one pass over the batch instead of a full-rate synthesis.
"""

from __future__ import annotations

import functools

import numpy as np

from augment.leads import ELECTRODE_TO_LEADS, ELECTRODES
from augment.transforms._common import check_leads

#: ``(8, 9)`` float32: independent leads = ``ELECTRODE_MATRIX @ electrode potentials``.
ELECTRODE_MATRIX = ELECTRODE_TO_LEADS.astype(np.float32)

#: ``(9, 8)`` float32: electrode potentials relative to the Wilson terminal from the
#: independent leads: RA = −(I+II)/3, LA = (2I−II)/3, LL = (2II−I)/3, Ci = Vi.
#: ``ELECTRODE_MATRIX @ POTENTIAL_MATRIX`` is the identity.
POTENTIAL_MATRIX = np.zeros((9, 8), dtype=np.float32)
POTENTIAL_MATRIX[0, :2] = (-1 / 3, -1 / 3)
POTENTIAL_MATRIX[1, :2] = (2 / 3, -1 / 3)
POTENTIAL_MATRIX[2, :2] = (-1 / 3, 2 / 3)
POTENTIAL_MATRIX[3:, 2:] = np.eye(6)

#: Rate (Hz) of the coarse grid used for components below a few Hz.
LOW_RATE_HZ = 25.0

#: Seed of every process-wide bank (banks are data, like a lookup table).
BANK_SEED = 20261127


def electrode_indices(owner, electrodes):
    """Validate a list of electrode names (subset of :data:`ELECTRODES`); return indices."""
    return check_leads(owner, "electrodes", electrodes, ELECTRODES, kind="electrode")


def draw(rngs, k):
    """``(n, k)`` float64 uniforms in [0, 1): one ``Generator.random(k)`` call per record."""
    u = np.empty((len(rngs), k))
    for rng, row in zip(rngs, u):  # into the rows: no list of arrays to convert
        rng.random(out=row)
    return u


def lerp(u, low, high):
    """Map uniforms ``u`` to ``[low, high]``."""
    return low + (high - low) * u


def event_draws(rngs, lo, hi, n_fields):
    """Per record: an event count in ``[lo, hi]`` and ``(hi, n_fields)`` uniforms.

    One ``Generator.random`` call per record; returns ``(counts (n,), u (n, hi, n_fields))``
    — record ``i`` uses the first ``counts[i]`` rows of ``u[i]``.
    """
    u = draw(rngs, 1 + hi * n_fields)
    counts = lo + np.minimum((u[:, 0] * (hi - lo + 1)).astype(np.intp), hi - lo)
    return counts, u[:, 1:].reshape(len(rngs), hi, n_fields)


def ragged(values, counts, decimals=4):
    """``[values[i, :counts[i]] as a rounded list for each record]`` (JSON-friendly)."""
    rows = np.round(values, decimals).tolist()
    return [row[:k] for row, k in zip(rows, counts)]


def seeds(rngs):
    """One 63-bit integer seed per record (for noise generated later, in ``apply``)."""
    return np.array([rng.integers(0, 2**63 - 1) for rng in rngs], dtype=np.int64)


# --------------------------------------------------------------------------- banks
@functools.lru_cache(maxsize=8)
def white_bank(n_samples=1 << 20):
    """Cached standard-normal float32 bank ``(n_samples,)`` (read-only)."""
    bank = np.random.default_rng(BANK_SEED).standard_normal(n_samples, dtype=np.float32)
    bank.setflags(write=False)
    return bank


def band_gain(freqs, low_hz, high_hz, order=4):
    """Butterworth-shaped magnitude of a band-pass (``low_hz`` may be 0: low-pass only)."""
    f = np.maximum(freqs, 1e-12)
    gain = 1.0 / np.sqrt(1.0 + (f / high_hz) ** (2 * order))
    if low_hz > 0:
        gain = gain / np.sqrt(1.0 + (low_hz / f) ** (2 * order))
    return gain


@functools.lru_cache(maxsize=16)
def band_bank(sfreq, low_hz, high_hz, n_channels=9, seconds=64.0, order=4):
    """Cached independent band-limited noise ``(n_channels, n)`` float32, unit RMS per channel.

    Shaped in the frequency domain with a Butterworth magnitude (``order``), so the
    spectrum is flat inside ``[low_hz, high_hz]`` and falls ``20·order`` dB/decade outside.
    The bank is periodic (an FFT synthesis), so crops may wrap around without a seam.
    """
    n = int(round(seconds * sfreq))
    rng = np.random.default_rng([BANK_SEED, int(sfreq * 1000), int(low_hz * 1000),
                                 int(high_hz * 1000), n_channels])
    spec = np.fft.rfft(rng.standard_normal((n_channels, n)), axis=-1)
    spec *= band_gain(np.fft.rfftfreq(n, 1.0 / sfreq), low_hz, high_hz, order)
    data = np.fft.irfft(spec, n=n, axis=-1)
    data /= data.std(axis=-1, keepdims=True)
    data = data.astype(np.float32)
    data.setflags(write=False)
    return data


def crop(bank, offset, n_times):
    """``bank[..., offset:offset+n_times]`` with wrap-around (periodic banks)."""
    n = bank.shape[-1]
    offset = int(offset) % n
    if offset + n_times <= n:
        return bank[..., offset:offset + n_times]
    idx = (offset + np.arange(n_times)) % n
    return bank[..., idx]


# --------------------------------------------------------------------------- low rate
def low_grid(n_times, sfreq, rate_hz=LOW_RATE_HZ):
    """``(factor, n_low)``: the coarse grid has one point every ``factor`` samples.

    ``n_low`` points cover ``n_times`` samples (the last point at or after the end).
    """
    factor = max(1, int(round(sfreq / rate_hz)))
    n_low = -(-(n_times - 1) // factor) + 1
    return factor, max(n_low, 2)


def upsample(low, factor, n_times, out=None):
    """Linear interpolation of ``low`` ``(L, n_low)`` (values at samples ``0, factor, …``).

    Returns ``out`` ``(L, n_times)`` float32 (allocated when None). The whole grid is one
    small matrix product ``[a_k, a_k+1] @ [[1 − w], [w]]`` whose output rows are exactly the
    ``factor``-sample blocks of ``out`` (~3× faster than broadcasting over a short axis,
    ~10× faster than ``np.interp`` per row).
    """
    n_leads = low.shape[0]
    if out is None:
        out = np.empty((n_leads, n_times), dtype=np.float32)
    n_full = min(n_times // factor, low.shape[-1] - 1)
    pairs = np.empty((n_leads, n_full, 2), dtype=np.float32)
    pairs[:, :, 0] = low[:, :n_full]
    pairs[:, :, 1] = low[:, 1:n_full + 1]
    if n_full * factor == n_times:  # the blocks are contiguous rows of ``out``
        np.matmul(pairs.reshape(-1, 2), _weights(factor),
                  out=out.reshape(n_leads * n_full, factor))
    else:
        out[:, :n_full * factor] = (pairs.reshape(-1, 2) @ _weights(factor)).reshape(
            n_leads, n_full * factor)
    rest = n_times - n_full * factor
    if rest:
        w = _weights(factor)[1, :rest]
        out[:, n_full * factor:] = low[:, n_full, None]
        if low.shape[-1] > n_full + 1:
            out[:, n_full * factor:] += (low[:, n_full + 1, None] - low[:, n_full, None]) * w
    return out


@functools.lru_cache(maxsize=64)
def _weights(factor):
    w = np.arange(factor, dtype=np.float32) / np.float32(factor)
    both = np.stack([1 - w, w])
    both.setflags(write=False)
    return both


def add_upsampled(x, low, factor, rows=None, chunk=4):
    """``x[rows[j]] += upsample(low[j])`` in place (``rows`` None: every record of ``x``).

    ``chunk`` records are upsampled per call (fewer numpy calls; the temporary, 4 × 8 ×
    5000 × 4 B = 640 kB, stays in cache).
    """
    n_leads, n_times = x.shape[1:]
    buf = np.empty((chunk * n_leads, n_times), dtype=np.float32)
    low = low.astype(np.float32, copy=False)
    rows = list(record_rows(x, rows))
    for c0 in range(0, len(rows), chunk):
        c1 = min(c0 + chunk, len(rows))
        k = (c1 - c0) * n_leads
        up = upsample(low[c0:c1].reshape(k, -1), factor, n_times, out=buf[:k])
        for j in range(c0, c1):
            x[rows[j]] += up[(j - c0) * n_leads:(j - c0 + 1) * n_leads]
    return x


def record_rows(x, rows):
    """The records of ``x`` an ``apply(…, rows=…)`` works on (all of them when None)."""
    return range(len(x)) if rows is None else rows


#: Channels and length of a coarse-grid bank (32 × 2**14 points: 11 min at 25 Hz each).
LOW_BANK_SHAPE = (32, 1 << 14)


@functools.lru_cache(maxsize=16)
def low_bank(low_rate, low_hz, high_hz, slope=1.0):
    """Cached coarse-grid noise ``(32, 2**14 + 2**12)`` float32, periodic, extended.

    Power only in ``[low_hz, high_hz]``, falling as ``1/f**slope`` inside (slope 1: pink-like
    drift). The first ``2**12`` points are repeated at the end, so any crop of up to that
    length starting in the first ``2**14`` points is a plain slice (no wrap-around).
    """
    n_channels, n_samples = LOW_BANK_SHAPE
    rng = np.random.default_rng([BANK_SEED, int(low_rate * 1000), int(low_hz * 1e4),
                                 int(high_hz * 1e4), int(slope * 100)])
    freqs = np.fft.rfftfreq(n_samples, 1.0 / low_rate)
    gain = np.where((freqs >= low_hz) & (freqs <= high_hz),
                    1.0 / np.maximum(freqs, 1e-9) ** (slope / 2), 0.0)
    if not gain.any():  # band narrower than the bank's resolution: nearest bin
        gain[np.argmin(np.abs(freqs - 0.5 * (low_hz + high_hz)))] = 1.0
    spec = rng.standard_normal((n_channels, len(freqs), 2)).view(np.complex128)[..., 0]
    data = np.fft.irfft(spec * gain, n=n_samples, axis=-1)
    data /= data.std(axis=-1, keepdims=True)
    data = np.concatenate([data, data[:, : 1 << 12]], axis=1).astype(np.float32)
    data.setflags(write=False)
    return data


def low_picks(u):
    """Map uniforms ``u`` (any shape) to (channel, offset) picks of a coarse-grid bank."""
    n_channels, n_samples = LOW_BANK_SHAPE
    return np.minimum((np.asarray(u) * (n_channels * n_samples)).astype(np.int64),
                      n_channels * n_samples - 1)


def low_noise(picks, n_low, low_rate, low_hz, high_hz, slope=1.0):
    """Coarse-grid noise per record and series: ``(n, k, n_low)`` float32.

    ``picks`` ``(n, k)`` come from :func:`low_picks` (drawn in ``randomize_parameters``).
    Each series is made zero-mean with unit standard deviation over its ``n_low`` points,
    so an amplitude parameter is the RMS the record really gets. Records longer than the
    bank's extension (``2**12`` points, 164 s at 25 Hz) wrap around.
    """
    bank = low_bank(float(low_rate), float(low_hz), float(high_hz), float(slope))
    n_samples = LOW_BANK_SHAPE[1]
    picks = np.asarray(picks, dtype=np.int64)
    ch, off = picks // n_samples, picks % n_samples
    if n_low <= bank.shape[1] - n_samples:
        windows = np.lib.stride_tricks.sliding_window_view(bank, n_low, axis=-1)
        sig = windows[ch, off]
    else:
        sig = bank[ch[..., None], (off[..., None] + np.arange(n_low)) % n_samples]
    sig = sig - sig.mean(axis=-1, keepdims=True)
    sig /= np.maximum(sig.std(axis=-1, keepdims=True), 1e-12)
    return sig
