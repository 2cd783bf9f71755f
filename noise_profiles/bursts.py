"""Bursts as events: each recorded burst's length, shape and loudness, and the burst
weight ``u(t)`` that synthesis draws from them.

A burst is read in the common power of the regime-detection band (above
:data:`noise_profiles.regimes.DETECT_LO_HZ`) in :data:`FINE_S` windows. Its excess over
the quiet median is fitted by least squares with a flat-topped raised-cosine profile

``gain * p((t - centre) / span)``, ``p(x) = sin^4(pi d / ramp)`` within ``ramp / 2`` of an
edge (``d``: distance to the nearest edge, in spans) and 1 between,

over a grid of spans, ramps (``ramp = 1``: a pure ``sin^4`` bump, peaky; small ramps: a
plateau with short edges, each at least :data:`MIN_EDGE_S`) and centres. Synthesis draws recorded (dwell, span, ramp, gain)
rows jointly, so the recorded energy, peak and shape of each burst come back, hence the
recorded peakiness inside a window (within-window kurtosis), whatever the detection
threshold cut off. The labelled dwell keeps the recorded timing between bursts; quiet
dwells come from the recorded quantiles (semi-Markov). Profiles rise and fall
continuously: the weight never jumps (no seams).
"""

from __future__ import annotations

import itertools

import numpy as np

WIN_S = 0.25              # regime label windows
FADE_S = 0.25             # profiles without a burst table: dwell plus this either side
FINE_PER_WIN = 5          # burst profiles are read in WIN_S / FINE_PER_WIN windows
FINE_S = WIN_S / FINE_PER_WIN
MIN_RUNS = 4              # whole bursts wanted before runs cut by a segment edge are left out
MAX_BURSTS = 1024         # recorded bursts kept
MAX_GAIN = 20.0
RAMPS = (1.0, 0.6, 0.3, 0.15)
MAX_SHIFT = 3             # the fitted centre may move this many FINE_S windows
MIN_EDGE_S = 0.1          # a burst never rises or falls faster (no seams)
N_SPANS = 16
QUIET, BURST = 0, 1
N_COLUMNS = 7             # dwell (s); span (s), ramp, gain of the EMG band; of the motion band
EMG, MOTION = 1, 4        # first column of each band's (span, ramp, gain)


def runs(labels):
    """``[(state, start, stop, at_edge)]`` of constant label (window indices)."""
    change = np.flatnonzero(np.diff(labels)) + 1
    edges = np.r_[0, change, len(labels)]
    return [(int(labels[a]), int(a), int(b), a == 0 or b == len(labels))
            for a, b in itertools.pairwise(edges)]


def shape(x, ramp):
    """The burst profile at relative positions ``x`` (0 and 1: its ends); 0 outside."""
    x = np.asarray(x, float)
    d = np.minimum(x, 1.0 - x)
    s = np.sin(np.pi * np.clip(d / ramp, 0.0, 0.5))
    s *= s
    return np.where(d > 0, s * s, 0.0)


def burst_table(labels, fine, sfreq, lengths, fine_motion=None):
    """Every recorded burst's row, and the burst weight ``u(t)`` they give the recording.

    Parameters
    ----------
    labels : list of (ndarray (n_windows,) | None)
        Regime of each :data:`WIN_S` window per segment.
    fine, fine_motion : list of ndarray
        Per labelled segment, the relative power of the detection (EMG) band and of the
        motion band in :data:`FINE_S` windows; each band gets its own profile per burst
        (motion and muscle bursts rise and fall differently). No ``fine_motion``: the
        motion band follows the EMG profile.
    lengths : list of int
        Samples per segment (for ``u``).

    Returns
    -------
    table : ndarray (n_bursts, 7)
        Dwell (s), then span (s), ramp, gain of the EMG band and of the motion band; gains
        scaled to a mean of 1 weighted by each burst's energy, per band. Runs cut by a segment edge are left out when at least
        :data:`MIN_RUNS` whole bursts remain.
    weights : list of (ndarray (2, n) | None) | None
        ``u(t)`` of the EMG and the motion band per segment, on the table's gain scales
        (None: no burst).
    """
    labelled = [lab for lab in labels if lab is not None]
    bands = [fine] + ([fine_motion] if fine_motion is not None else [])
    floors = []
    for powers in bands:
        quiet = np.concatenate([p.reshape(-1, FINE_PER_WIN)[lab == QUIET].ravel()
                                for p, lab in zip(powers, labelled)])
        floors.append(float(np.median(quiet)) if len(quiet) else 0.0)
    whole, cut, placed = [], [], []
    k = -1
    for s, lab in enumerate(labels):
        if lab is None:
            continue
        k += 1
        r = runs(lab)
        for i, (state, a, b, at_edge) in enumerate(r):
            if state != BURST:
                continue
            # the neighbourhood reaches halfway into the quiet runs either side
            lo = a - (r[i - 1][2] - r[i - 1][1]) // 2 if i > 0 else a
            hi = b + (r[i + 1][2] - r[i + 1][1]) // 2 if i + 1 < len(r) else b
            row, centre = [(b - a) * WIN_S], (0.5 * (a + b) - lo) * WIN_S
            for j, (powers, floor) in enumerate(zip(bands, floors)):
                excess = powers[k][lo * FINE_PER_WIN:hi * FINE_PER_WIN] - floor
                c, span, ramp, gain = _fit(excess, centre, (b - a) * WIN_S)
                centre = c if j == 0 else centre
                row += [span, ramp, gain]
            if len(bands) == 1:
                row += row[1:4]
            (cut if at_edge else whole).append(row)
            placed.append((s, lo * WIN_S + centre, row))
    rows = whole if len(whole) >= MIN_RUNS else whole + cut
    if not rows:
        return np.zeros((0, N_COLUMNS)), None
    table = np.asarray(rows, float)
    scales = []
    for c in (EMG, MOTION):
        energy = table[:, c] * _mean_shape(table[:, c + 1])
        scales.append(np.sum(table[:, c + 2] * energy) / np.sum(energy))
    if len(table) > MAX_BURSTS:
        table = table[np.linspace(0, len(table) - 1, MAX_BURSTS).round().astype(int)]
    for c, scale in zip((EMG, MOTION), scales):
        table[:, c + 2] = np.clip(table[:, c + 2] / scale, 1.0 / MAX_GAIN, MAX_GAIN)
    weights = [None if lab is None else np.zeros((2, n)) for lab, n in zip(labels, lengths)]
    for s, centre, row in placed:
        for j, (c, scale) in enumerate(zip((EMG, MOTION), scales)):
            _add(weights[s][j], int(round(centre * sfreq)), row[c] * sfreq, row[c + 1],
                 min(row[c + 2] / scale, MAX_GAIN), sfreq)
    return table, weights


def _mean_shape(ramp):
    """Mean of :func:`shape` over its span (``sin^4`` averages 3/8)."""
    return 1.0 - np.asarray(ramp) * (1.0 - 3.0 / 8.0)


def _fit(excess, centre_s, dwell_s):
    """Least-squares profile (centre, span, ramp, gain) of an excess-power sequence
    sampled every :data:`FINE_S`; the centre may move :data:`MAX_SHIFT` of them."""
    t = (np.arange(len(excess)) + 0.5) * FINE_S
    spans = np.geomspace(max(2 * FINE_S, 0.5 * dwell_s), max(4 * dwell_s, 1.0), N_SPANS)
    shifts = np.arange(-MAX_SHIFT, MAX_SHIFT + 1) * FINE_S
    x = ((t[None, None, :] - centre_s - shifts[None, :, None]) / spans[:, None, None]
         + 0.5)[None]
    ramps = np.maximum(np.asarray(RAMPS)[:, None], 2 * MIN_EDGE_S / spans[None, :])
    tmpl = shape(x, np.minimum(ramps, 1.0)[:, :, None, None])      # (R, S, H, T)
    dot = tmpl @ excess
    norm = np.maximum(np.sum(tmpl ** 2, axis=3), 1e-12)
    score = np.where(dot > 0, dot ** 2 / norm, -np.inf)
    r, i, j = np.unravel_index(np.argmax(score), score.shape)
    return (float(centre_s + shifts[j]), float(spans[i]), float(min(ramps[r, i], 1.0)),
            float(max(dot[r, i, j] / norm[r, i, j], 1e-12)))


def _add(u, centre, length, ramp, gain, sfreq, cap=None):
    """``u = max(u, gain * profile)`` for a burst of ``length`` samples centred on sample
    ``centre`` (and ``cap = max(cap, profile)``); edges last at least :data:`MIN_EDGE_S`."""
    length = max(int(round(length)), 2)
    ramp = min(max(ramp, 2 * MIN_EDGE_S * sfreq / length), 1.0)
    a = centre - length // 2
    lo, hi = max(a, 0), min(a + length, len(u))
    if hi > lo:
        piece = shape((np.arange(lo - a, hi - a) + 0.5) / length, ramp)
        u[lo:hi] = np.maximum(u[lo:hi], gain * piece)
        if cap is not None:
            cap[lo:hi] = np.maximum(cap[lo:hi], piece)


def burst_fraction(dwell):
    """Long-run share of time in the burst regime implied by the dwell quantiles."""
    mean = np.trapezoid(dwell, np.linspace(0, 1, dwell.shape[1]), axis=1)
    return float(mean[BURST] / max(mean.sum(), 1e-12))


def weights(state, n_times, sfreq, rng):
    """Burst profile ``w(t)`` in [0, 1], (n_times,): the first output of :func:`path`."""
    return path(state, n_times, sfreq, rng)[0]


def path(state, n_times, sfreq, rng):
    """The semi-Markov regime path: profile ``w(t)`` in [0, 1] and the burst weights
    ``u(t) = g_k w_k(t)`` of the EMG and the motion band, (n_times,) and (2, n_times).

    Quiet dwells come from the recorded quantiles; each burst is a recorded row of
    ``regime_bursts`` (dwell; span, ramp, gain per band), its profiles centred on its
    dwell. A profile without the table (schema /2) draws the burst dwell from the
    quantiles, a ``sin^4`` span of the dwell plus :data:`FADE_S` either side and gain 1
    for both bands."""
    n = int(n_times)
    dwell = np.asarray(state["regime_dwell_s"], float)
    table = np.asarray(state.get("regime_bursts", np.zeros((0, N_COLUMNS))), float)
    table = table.reshape(-1, N_COLUMNS)
    grid = np.linspace(0, 1, dwell.shape[1])
    spans = table[:, [EMG, MOTION]]
    longest = max(dwell[BURST, -1] + 2 * FADE_S, spans.max() if len(table) else 0.0)
    pad = int(np.ceil(longest * sfreq)) + 2
    total = n + 2 * pad
    w, u = np.zeros(total), np.zeros((2, total))
    current = int(rng.random() < float(state["regime_fraction"]))
    # enter in the middle of a dwell (stationary start, approximately)
    t = -int(rng.random() * _draw(dwell[current], grid, rng) * sfreq)
    while t < total:
        if current == BURST and len(table):
            row = table[rng.integers(len(table))]
            d_s = row[0]
        else:
            d_s = _draw(dwell[current], grid, rng)
            row = np.r_[d_s, [d_s + 2 * FADE_S, 1.0, 1.0] * 2]
        d = max(int(round(d_s * sfreq)), 1)
        if current == BURST:
            for j, c in enumerate((EMG, MOTION)):
                _add(u[j], t + d // 2, row[c] * sfreq, row[c + 1], row[c + 2], sfreq, cap=w)
        t, current = t + d, 1 - current
    return w[pad:pad + n], u[:, pad:pad + n]


def mean_weight(state, sfreq, seconds=4000.0):
    """Long-run means of ``w`` and of each band's ``u`` (:func:`path`) at ``sfreq``, one
    fixed-seed draw: (float, ndarray (2,))."""
    n = int(seconds * sfreq)
    w, u = path(state, n, sfreq, np.random.default_rng(0))
    return float(w.mean()), u.mean(axis=1)


def _draw(quantiles, grid, rng):
    return float(np.interp(rng.random(), grid, quantiles))
