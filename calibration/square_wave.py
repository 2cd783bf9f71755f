"""Finding a known square-wave test signal in a recording and modelling the device's response to it.

Pure functions used by :class:`calibration.adc.AdcGainCalibrator`:

* :func:`find_edges` — the edges of a square wave of roughly known frequency, robust to drift
  (detrended by a moving mean over exactly one period), noise (hysteresis) and glitches
  (runs shorter than a third of a half-period are merged), refined to a strictly periodic edge
  train by a robust line fit of edge time against edge number;
* :func:`square_response` — the ideal square wave after a first-order high-pass of time constant
  ``tau_s`` (``inf``: DC-coupled), exact at the sample instants for edges at any sub-sample time;
* :func:`fit_step_response` — a first-order low-pass time constant from edge-aligned samples.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, optimize, signal, stats

from shirtecg_common.errors import UserError


def _fill_nan(x):
    """Linear interpolation over NaN (detection only; fitted samples exclude them)."""
    bad = ~np.isfinite(x)
    if not bad.any():
        return x
    if bad.all():
        raise UserError("the channel holds no finite samples")
    idx = np.arange(len(x))
    out = x.copy()
    out[bad] = np.interp(idx[bad], idx[~bad], x[~bad])
    return out


def find_edges(x, sfreq, freq_hz, *, freq_tol=0.1, channel="channel"):
    """Find the periodic edge train of a square wave.

    Parameters
    ----------
    x : ndarray, shape (n_times,)
        One channel (any unit; NaN allowed for lost samples).
    sfreq : float
        Sampling rate in Hz.
    freq_hz : float
        Nominal square-wave frequency; the measured one may differ by ``freq_tol`` (relative).
    freq_tol : float
        Accepted relative deviation of the measured frequency from ``freq_hz``.
    channel : str
        Name used in error messages.

    Returns
    -------
    edges : dict
        ``t0_s`` (time of edge 0), ``half_period_s``, ``freq_hz`` (measured), ``first_rising``
        (whether edge 0 goes up), ``n_edges_found``, ``edge_times_s`` (the detected, unrefined
        edge times).

    Raises
    ------
    UserError
        If no square wave near ``freq_hz`` is found.
    """
    x = _fill_nan(np.asarray(x, dtype=np.float64))
    n = len(x)
    half = sfreq / (2.0 * freq_hz)
    period = int(round(2 * half))
    if n < 4 * period:
        raise UserError(
            f"{channel}: the recording ({n / sfreq:.1f} s) is shorter than 4 periods of the "
            f"{freq_hz:g} Hz reference; record at least {4 / freq_hz:.0f} s of the test signal"
        )
    # A moving mean over exactly one period removes offset and drift but keeps the square wave.
    d = x - ndimage.uniform_filter1d(x, size=max(period, 1), mode="nearest")
    amp = np.median(np.abs(d))  # ~A/2 for a square wave, ~0.67 sigma for noise
    state = np.full(n, np.nan)
    state[d > 0.4 * amp] = 1.0
    state[d < -0.4 * amp] = 0.0
    state = _ffill(state)
    state = _debounce(state, int(max(2, half / 3)))
    change = np.flatnonzero(np.diff(state) != 0) + 1
    if len(change) < 4:
        raise UserError(
            f"{channel}: no square wave found at {freq_hz:g} Hz (only {len(change)} edges); "
            "check that the recording holds the test signal and --freq-hz"
        )
    # Sub-sample crossing of the midpoint between the local levels just before and just after
    # each detected edge (local levels, so a drooping plateau does not bias the crossing).
    times = np.empty(len(change))
    w = int(max(3, min(8, half / 4)))
    for j, i in enumerate(change):
        lo, hi = max(i - 3, 1), min(i + 3, n - 1)
        before = np.median(d[max(i - 2 - w, 0):max(i - 2, 1)])
        after = np.median(d[min(i + 2, n - 1):min(i + 2 + w, n)])
        seg = d[lo - 1:hi + 1] - 0.5 * (before + after)
        up = state[i] > 0
        s = seg > 0 if up else seg < 0
        k = np.flatnonzero(~s[:-1] & s[1:])
        if len(k) == 0:
            times[j] = (i - 0.5) / sfreq
            continue
        k = k[np.argmin(np.abs(k + lo - 1 - (i - 1)))]
        a, b = seg[k], seg[k + 1]
        frac = a / (a - b) if a != b else 0.5
        times[j] = (lo - 1 + k + frac) / sfreq
    intervals = np.diff(times)
    med = np.median(intervals)
    expected = half / sfreq
    if not (1 - freq_tol) * expected <= med <= (1 + freq_tol) * expected:
        raise UserError(
            f"{channel}: no square wave found at {freq_hz:g} Hz: the level changes found are "
            f"{med * 1e3:.1f} ms apart (median), expected {expected * 1e3:.1f} ms "
            f"(±{freq_tol:.0%}); check --freq-hz and that the test signal was on"
        )
    # Refine to a strictly periodic edge train: edge number k = round((t - t_first) / half).
    # A robust (Theil–Sen) line first, then least squares on the edges within 5 robust sigmas
    # (an edge moved by a glitch must not tilt the train).
    k = np.round((times - times[0]) / med)
    slope = stats.theilslopes(times, k)[0]
    icpt = np.median(times - slope * k)
    for _ in range(2):
        resid = times - (icpt + slope * k)
        mad = 1.4826 * np.median(np.abs(resid - np.median(resid)))
        keep = np.abs(resid) < max(5 * mad, 0.3 / sfreq)
        if keep.sum() < 4:
            raise UserError(f"{channel}: the square wave's edges are not periodic")
        slope, icpt = np.polyfit(k[keep], times[keep], 1)
    first_rising = bool(state[change[0]] > 0)
    # Move edge 0 before the start of the recording so the train covers every sample.
    shift = int(np.ceil(icpt / slope)) + 1
    icpt -= shift * slope
    if shift % 2:
        first_rising = not first_rising
    return {
        "t0_s": float(icpt),
        "half_period_s": float(slope),
        "freq_hz": float(0.5 / slope),
        "first_rising": first_rising,
        "n_edges_found": int(len(change)),
        "edge_times_s": times,
    }


def _ffill(state):
    """Forward-fill NaN (the hysteresis band keeps the previous state)."""
    idx = np.where(np.isfinite(state), np.arange(len(state)), 0)
    np.maximum.accumulate(idx, out=idx)
    out = state[idx]
    first = np.flatnonzero(np.isfinite(state))
    out[: first[0] if len(first) else len(out)] = state[first[0]] if len(first) else 0.0
    return out


def _debounce(state, min_run):
    """Merge runs shorter than ``min_run`` samples into the previous run (glitch rejection)."""
    for _ in range(5):
        bounds = np.flatnonzero(np.diff(state) != 0) + 1
        starts = np.r_[0, bounds]
        ends = np.r_[bounds, len(state)]
        short = (ends - starts) < min_run
        short[0] = False  # the first run may be cut by the recording start
        short[-1] = False
        if not short.any():
            break
        for s, e in zip(starts[short], ends[short]):
            state[s:e] = state[s - 1]
    return state


def edge_train(edges, n_times, sfreq):
    """Edge times (s) and step signs (+1 up, −1 down) covering ``n_times`` samples."""
    half = edges["half_period_s"]
    n_edges = int(np.ceil((n_times / sfreq - edges["t0_s"]) / half)) + 1
    t = edges["t0_s"] + half * np.arange(n_edges)
    sign = np.where(np.arange(n_edges) % 2 == 0, 1.0, -1.0)
    if not edges["first_rising"]:
        sign = -sign
    return t, sign


def square_response(n_times, sfreq, edge_times, edge_signs, tau_s):
    """Unit square wave (levels ±1/2) after a first-order high-pass, at the sample instants.

    Parameters
    ----------
    n_times : int
        Number of samples.
    sfreq : float
        Sampling rate in Hz.
    edge_times, edge_signs : ndarray
        From :func:`edge_train`; the first edge must precede sample 0.
    tau_s : float
        High-pass time constant in s; ``np.inf`` gives the plain square wave.

    Returns
    -------
    y : ndarray, shape (n_times,)
        Starts from the square's level at sample 0 (the unknown earlier state of the high-pass
        is left to a separate ``exp(-t/tau)`` column of the fit).
    """
    a = 0.0 if tau_s == 0 else np.exp(-1.0 / (sfreq * tau_s))
    inside = edge_times > 0
    level0 = 0.5 * edge_signs[~inside][-1] if (~inside).any() else -0.5 * edge_signs[0]
    u = np.zeros(n_times)
    u[0] = level0
    te, se = edge_times[inside], edge_signs[inside]
    n_idx = np.ceil(te * sfreq - 1e-12).astype(int)  # first sample at or after the edge
    ok = n_idx < n_times
    te, se, n_idx = te[ok], se[ok], n_idx[ok]
    decay = np.exp(-(n_idx / sfreq - te) / tau_s) if np.isfinite(tau_s) else np.ones(len(te))
    np.add.at(u, n_idx, se * decay)
    return signal.lfilter([1.0], [1.0, -a], u)


def fit_step_response(dt_s, z, sfreq):
    """Fit a first-order low-pass step response to edge-aligned normalized samples.

    Parameters
    ----------
    dt_s : ndarray
        Time of each sample relative to its (estimated) edge, in s.
    z : ndarray
        The samples normalized so the level before the edge is 0 and after it 1.
    sfreq : float
        Sampling rate in Hz.

    Returns
    -------
    tau_s : float
        Fitted time constant (s); the 10–90 % rise time is ``ln(9) * tau_s``.
    delay_s : float
        Fitted edge-time offset (s).
    """
    def model(p):
        delay, log_tau = p
        tau = np.exp(log_tau)
        t = dt_s - delay
        return np.where(t > 0, -np.expm1(-np.maximum(t, 0) / tau), 0.0)

    # A coarse grid first (the cost has local minima where delay and tau trade off), then a
    # robust least-squares refinement from the best grid point.
    delays = np.linspace(-3.0, 3.0, 61) / sfreq
    log_taus = np.linspace(np.log(0.02 / sfreq), np.log(20.0 / sfreq), 40)
    best_cost, x0 = np.inf, None
    for d in delays:
        t = dt_s[None, :] - d
        m = np.where(t > 0, -np.expm1(-np.maximum(t, 0) / np.exp(log_taus)[:, None]), 0.0)
        r = (m - z[None, :]) / 0.05
        cost = np.sum(np.sqrt(1 + r * r) - 1, axis=1)  # soft-L1, as below
        i = int(np.argmin(cost))
        if cost[i] < best_cost:
            best_cost, x0 = cost[i], [d, log_taus[i]]
    best = optimize.least_squares(
        lambda p: model(p) - z, x0=x0, loss="soft_l1", f_scale=0.05,
        bounds=([-3 / sfreq, np.log(0.01 / sfreq)], [3 / sfreq, np.log(0.5)]))
    return float(np.exp(best.x[1])), float(best.x[0])
