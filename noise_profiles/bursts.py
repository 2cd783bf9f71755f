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
N_COLUMNS = 4             # dwell (s), span (s), ramp, gain


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


def burst_table(labels, fine, sfreq, lengths):
    """Every recorded burst's row, and the burst weight ``u(t)`` they give the recording.

    Parameters
    ----------
    labels : list of (ndarray (n_windows,) | None)
        Regime of each :data:`WIN_S` window per segment.
    fine : list of ndarray
        Per labelled segment, the relative detection-band power in :data:`FINE_S`
        windows.
    lengths : list of int
        Samples per segment (for ``u``).

    Returns
    -------
    table : ndarray (n_bursts, 4)
        Dwell (s), span (s), ramp, gain; gains scaled to a mean of 1 weighted by each
        burst's energy. Runs cut by a segment edge are left out when at least
        :data:`MIN_RUNS` whole bursts remain.
    weights : list of (ndarray (n,) | None) | None
        ``u(t)`` per segment on the table's gain scale (None: no burst).
    """
    labelled = [lab for lab in labels if lab is not None]
    quiet = np.concatenate([p.reshape(-1, FINE_PER_WIN)[lab == QUIET].ravel()
                            for p, lab in zip(fine, labelled)])
    floor = float(np.median(quiet)) if len(quiet) else 0.0
    whole, cut, placed = [], [], []
    it = iter(fine)
    for s, lab in enumerate(labels):
        if lab is None:
            continue
        p = next(it)
        r = runs(lab)
        for i, (state, a, b, at_edge) in enumerate(r):
            if state != BURST:
                continue
            # the neighbourhood reaches halfway into the quiet runs either side
            lo = a - (r[i - 1][2] - r[i - 1][1]) // 2 if i > 0 else a
            hi = b + (r[i + 1][2] - r[i + 1][1]) // 2 if i + 1 < len(r) else b
            excess = p[lo * FINE_PER_WIN:hi * FINE_PER_WIN] - floor
            centre, span, ramp, gain = _fit(excess, (0.5 * (a + b) - lo) * WIN_S,
                                            (b - a) * WIN_S)
            (cut if at_edge else whole).append(((b - a) * WIN_S, span, ramp, gain))
            placed.append((s, lo * WIN_S + centre, span, ramp, gain))
    rows = whole if len(whole) >= MIN_RUNS else whole + cut
    if not rows:
        return np.zeros((0, N_COLUMNS)), None
    table = np.asarray(rows, float)
    energy = table[:, 1] * _mean_shape(table[:, 2])
    scale = np.sum(table[:, 3] * energy) / np.sum(energy)
    if len(table) > MAX_BURSTS:
        table = table[np.linspace(0, len(table) - 1, MAX_BURSTS).round().astype(int)]
    table[:, 3] = np.clip(table[:, 3] / scale, 1.0 / MAX_GAIN, MAX_GAIN)
    weights = [None if lab is None else np.zeros(n) for lab, n in zip(labels, lengths)]
    for s, centre, span, ramp, gain in placed:
        _add(weights[s], int(round(centre * sfreq)), span * sfreq, ramp,
             min(gain / scale, MAX_GAIN), sfreq)
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
    """The semi-Markov regime path: profile ``w(t)`` in [0, 1] and burst weight
    ``u(t) = g_k w(t)``, both (n_times,).

    Quiet dwells come from the recorded quantiles; each burst is a recorded row of
    ``regime_bursts`` (dwell, span, ramp, gain), its profile centred on its dwell. A
    profile without the table (schema /2) draws the burst dwell from the quantiles, a
    ``sin^4`` span of the dwell plus :data:`FADE_S` either side and gain 1."""
    n = int(n_times)
    dwell = np.asarray(state["regime_dwell_s"], float)
    table = np.asarray(state.get("regime_bursts", np.zeros((0, N_COLUMNS))), float)
    table = table.reshape(-1, N_COLUMNS)
    grid = np.linspace(0, 1, dwell.shape[1])
    longest = max(dwell[BURST, -1] + 2 * FADE_S, table[:, 1].max() if len(table) else 0.0)
    pad = int(np.ceil(longest * sfreq)) + 2
    total = n + 2 * pad
    w, u = np.zeros(total), np.zeros(total)
    current = int(rng.random() < float(state["regime_fraction"]))
    # enter in the middle of a dwell (stationary start, approximately)
    t = -int(rng.random() * _draw(dwell[current], grid, rng) * sfreq)
    while t < total:
        if current == BURST and len(table):
            d_s, span_s, ramp, gain = table[rng.integers(len(table))]
        else:
            d_s = _draw(dwell[current], grid, rng)
            span_s, ramp, gain = d_s + 2 * FADE_S, 1.0, 1.0
        d = max(int(round(d_s * sfreq)), 1)
        if current == BURST:
            _add(u, t + d // 2, span_s * sfreq, ramp, gain, sfreq, cap=w)
        t, current = t + d, 1 - current
    return w[pad:pad + n], u[pad:pad + n]


def mean_weight(state, sfreq, seconds=4000.0):
    """Long-run means of ``w`` and ``u`` (:func:`path`) at ``sfreq``, one fixed-seed draw."""
    n = int(seconds * sfreq)
    w, u = path(state, n, sfreq, np.random.default_rng(0))
    return float(w.mean()), float(u.mean())


def _draw(quantiles, grid, rng):
    return float(np.interp(rng.random(), grid, quantiles))
