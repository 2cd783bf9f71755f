"""Discrete events: flat lines (contact dropouts), railing (saturation), baseline steps.

They are found in each clean segment, kept as a small table (kind, duration, channels,
level or size), cut out of (flat, rail) or subtracted from (step) the data before the
spectral fit so the Gaussian model does not absorb them, and re-injected on synthesis as
a Poisson process at the recorded rate, each event drawn from the recorded table.
"""

from __future__ import annotations

import numpy as np

KINDS = ("flat", "rail", "step")
KIND_CODE = {k: i for i, k in enumerate(KINDS)}
MIN_FLAT_S = 0.1        # identical samples for this long: a dropout, not chance
MIN_RAIL_S = 0.02       # samples pinned at the channel's extreme this long: saturation
STEP_K = 12.0           # a jump this many robust sigmas of the sample-to-sample change
STEP_LEVEL_K = 8.0      # ... and the level moves this many robust sigmas of the signal
STEP_HOLD_S = 0.3       # ... and holds (>= 60 % of the jump) for this long
STEP_WIN_S = 0.05       # level before/after a step measured over this window
DEFAULT_DECAY_S = 1.0


def detect(segment, sfreq):
    """Find events in one segment.

    Parameters
    ----------
    segment : ndarray (n_ch, n)
        Rail levels are the segment's per-channel minimum and maximum.

    Returns
    -------
    events : list of dict
        ``kind``, ``start``, ``stop`` (samples), ``mask`` (n_ch bool), ``value`` (n_ch:
        rail level relative to the segment median, or step size, in V).
    exclude : ndarray (n,) bool
        Samples under a flat line or rail (cut out of the spectral fit).
    """
    n_ch, n = segment.shape
    extremes = np.stack([segment.min(axis=1), segment.max(axis=1)], axis=1)
    exclude = np.zeros(n, bool)
    events = []
    med = None
    d = np.diff(segment, axis=1)
    shortest = max(min(MIN_FLAT_S, MIN_RAIL_S) * sfreq, 3)
    for c in range(n_ch):
        span = extremes[c, 1] - extremes[c, 0]
        still = np.concatenate([[False], np.abs(d[c]) <= 1e-12 * max(span, 1e-30)])
        still[:-1] |= still[1:]
        # quantized recordings repeat a sample value all the time: only long runs go on
        starts, stops = _runs(still)
        long_enough = stops - starts >= shortest
        for a, b in zip(starts[long_enough].tolist(), stops[long_enough].tolist()):
            level = segment[c, a]
            at_rail = span > 0 and min(abs(level - extremes[c, 0]),
                                       abs(level - extremes[c, 1])) <= 1e-6 * span
            kind = "rail" if at_rail else "flat"
            min_len = (MIN_RAIL_S if at_rail else MIN_FLAT_S) * sfreq
            if b - a < max(min_len, 3):
                continue
            exclude[a:b] = True
            if med is None:
                med = np.median(segment, axis=1)
            value = np.zeros(n_ch)
            value[c] = level - med[c]
            mask = np.zeros(n_ch, bool)
            mask[c] = True
            events.append(dict(kind=kind, start=a, stop=b, mask=mask, value=value))
    events = _merge_simultaneous(events)
    events += _detect_steps(segment, d, sfreq, exclude)
    return events, exclude


def _runs(mask):
    """Start and stop arrays of the True runs of a boolean mask."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.view(np.int8), [0]])))
    return edges[0::2], edges[1::2]


def _merge_simultaneous(events, tol=5):
    """One event for the same kind on several channels at (nearly) the same time."""
    events = sorted(events, key=lambda e: (e["kind"], e["start"]))
    out = []
    for e in events:
        last = out[-1] if out else None
        if (last is not None and last["kind"] == e["kind"]
                and abs(last["start"] - e["start"]) <= tol
                and not np.any(last["mask"] & e["mask"])):
            last["mask"] |= e["mask"]
            last["value"] = np.where(e["mask"], e["value"], last["value"])
            last["stop"] = max(last["stop"], e["stop"])
        else:
            out.append(e)
    return out


def _detect_steps(segment, d, sfreq, exclude):
    """Baseline steps, per channel: every test runs on all candidate samples at once.

    Candidates are sample-to-sample jumps above ``STEP_K`` robust sigmas; the level before
    and after (medians over ``STEP_WIN_S``), their spread and the hold (median over the
    rest of ``STEP_HOLD_S``) come from strided windows of the candidates only, so a bursty
    recording with tens of thousands of candidates costs a few array medians, not a
    Python loop over them.
    """
    n_ch, n = segment.shape
    w = max(int(STEP_WIN_S * sfreq), 2)
    hold_n = int(STEP_HOLD_S * sfreq)
    if hold_n - w < w or n < 2 * w:
        return []
    mad = np.median(np.abs(d - np.median(d, axis=1, keepdims=True)), axis=1) * 1.4826
    n_excl = np.concatenate([[0], np.cumsum(exclude)])
    found = []
    for c in range(n_ch):
        if mad[c] <= 0:
            continue
        t = np.flatnonzero(np.abs(d[c]) > STEP_K * mad[c]) + 1
        t = t[(t >= w) & (t + w <= n)]
        t = t[n_excl[t + w] == n_excl[t - w]]           # no dropout/rail within +-w
        if t.size == 0:
            continue
        x = segment[c]
        jump, keep = np.empty(t.size), np.zeros(t.size, bool)
        for i in range(0, t.size, _CHUNK):               # bounded memory at high rates
            sl = slice(i, i + _CHUNK)
            jump[sl], keep[sl] = _step_tests(x, t[sl], d[c, t[sl] - 1], w, hold_n)
        last = None
        for ti, ji in zip(t[keep], jump[keep]):
            if last is not None and ti - last < w:       # one step, several big samples
                continue
            found.append((int(ti), c, float(ji)))
            last = ti
    events = []
    for t, c, jump in found:
        value = np.zeros(n_ch)
        value[c] = jump
        mask = np.zeros(n_ch, bool)
        mask[c] = True
        events.append(dict(kind="step", start=t, stop=t + 1, mask=mask, value=value,
                           decay_s=_decay(segment[c], t, jump, sfreq, w)))
    return _merge_simultaneous(events)


_CHUNK = 4096


def _step_tests(x, t, d_at, w, hold_n):
    """Level change, spread and hold tests at candidate samples ``t`` of one channel."""
    win = np.lib.stride_tricks.sliding_window_view(x, w)
    before, after = win[t - w], win[t]
    m_before = np.median(before, axis=1)
    m_after = np.median(after, axis=1)
    jump = m_after - m_before
    spread = 1.4826 * 0.5 * (np.median(np.abs(before - m_before[:, None]), axis=1)
                             + np.median(np.abs(after - m_after[:, None]), axis=1))
    # a level change: large against the spread on both sides (bursts are not)
    keep = (np.abs(jump) >= 0.5 * np.abs(d_at)) & (np.abs(jump) >= STEP_LEVEL_K * spread)
    # and the new level holds for a while (motion transients come straight back); the hold
    # window is cut short at the segment's end, and must still be >= w long
    h0 = t + w
    h1 = np.minimum(t + hold_n, len(x))
    keep &= h1 - h0 >= w
    m_hold = np.full(t.size, np.nan)
    full = keep & (h1 - h0 == hold_n - w)
    if np.any(full):
        hold_win = np.lib.stride_tricks.sliding_window_view(x, hold_n - w)
        m_hold[full] = np.median(hold_win[h0[full]], axis=1)
    for i in np.flatnonzero(keep & ~full):
        m_hold[i] = np.median(x[h0[i]:h1[i]])
    with np.errstate(invalid="ignore", divide="ignore"):
        keep &= (m_hold - m_before) / jump >= 0.6
    return jump, keep


def _decay(x, t, jump, sfreq, w):
    """Time constant of the step's return to baseline (AC-coupled front ends)."""
    lag = int(sfreq)
    if t + lag + w > len(x) or jump == 0:
        return DEFAULT_DECAY_S
    pre = np.median(x[t - w:t])
    r = (np.median(x[t + lag - w // 2:t + lag + w // 2]) - pre) / jump
    if not 0.02 < r < 0.98:
        return DEFAULT_DECAY_S if r >= 0.98 else 0.25
    return float(np.clip(-1.0 / np.log(r), 0.05, 10.0))


def remove_steps(segment, events, sfreq):
    """Subtract the detected steps (with their decay) from a copy of ``segment``."""
    out = segment.copy()
    for e in events:
        if e["kind"] != "step":
            continue
        a, b = e["start"], _tail_stop(e["start"], e["decay_s"], sfreq, out.shape[1])
        shape = np.exp(-np.arange(b - a) / (e["decay_s"] * sfreq))
        out[e["mask"], a:b] -= e["value"][e["mask"], None] * shape[None, :]
    return out


#: a step's decay is cut after this many time constants (exp(-40) ~ 4e-18 of its size)
TAIL_TAUS = 40.0


def _tail_stop(start, decay_s, sfreq, n):
    return int(min(n, start + np.ceil(TAIL_TAUS * max(decay_s, 1e-3) * sfreq)))


def to_table(events, n_ch, sfreq):
    """Event list → arrays for storage (``event_kind``, ``event_duration_s``, …)."""
    return dict(
        event_kind=np.array([KIND_CODE[e["kind"]] for e in events], np.int64),
        event_duration_s=np.array([(e["stop"] - e["start"]) / sfreq for e in events], float),
        event_mask=np.array([e["mask"] for e in events], bool).reshape(len(events), n_ch),
        event_value=np.array([e["value"] for e in events], float).reshape(len(events), n_ch),
        event_decay_s=np.array([e.get("decay_s", 0.0) for e in events], float),
    )


def inject(x, table, rate_per_s, sfreq, rng):
    """Add events to synthesized noise ``x`` (n_ch, n) in place, Poisson at ``rate_per_s``."""
    n_ev = len(table["event_kind"])
    n = x.shape[1]
    if n_ev == 0 or rate_per_s <= 0:
        return x
    count = rng.poisson(rate_per_s * n / sfreq)
    picks = rng.integers(0, n_ev, count)
    starts = rng.integers(0, n, count)
    order = np.argsort(table["event_kind"][picks] == KIND_CODE["step"])[::-1]  # steps first
    for i in order:
        j, a = picks[i], starts[i]
        kind = KINDS[table["event_kind"][j]]
        mask = table["event_mask"][j]
        if kind == "step":
            tau = max(table["event_decay_s"][j], 1e-3)
            b = _tail_stop(a, tau, sfreq, n)
            shape = np.exp(-np.arange(b - a) / (tau * sfreq))
            x[mask, a:b] += table["event_value"][j][mask, None] * shape[None, :]
            continue
        b = min(n, a + max(int(round(table["event_duration_s"][j] * sfreq)), 1))
        if kind == "rail":
            x[mask, a:b] = table["event_value"][j][mask, None]
        else:
            x[mask, a:b] = x[mask, a - 1 if a > 0 else 0][:, None]
    return x
