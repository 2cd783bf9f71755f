"""Discrete events: flat lines (contact dropouts), railing (saturation), baseline steps.

They are found in each clean segment, kept as a small table (kind, duration, channels,
level or size), cut out of (flat, rail) or subtracted from (step) the data before the
spectral fit so the Gaussian model does not absorb them, and re-injected on synthesis as
a Poisson process at the recorded rate, each event drawn from the recorded table.
"""

from __future__ import annotations

import numpy as np

from noise_profiles.sessions import runs_of

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
    med = np.median(segment, axis=1)
    extremes = np.stack([segment.min(axis=1), segment.max(axis=1)], axis=1)
    exclude = np.zeros(n, bool)
    events = []
    d = np.diff(segment, axis=1)
    for c in range(n_ch):
        still = np.concatenate([[False], np.abs(d[c]) <= 1e-12 * max(np.ptp(segment[c]), 1e-30)])
        still[:-1] |= still[1:]
        span = extremes[c, 1] - extremes[c, 0]
        for a, b in runs_of(still):
            level = segment[c, a]
            at_rail = span > 0 and min(abs(level - extremes[c, 0]),
                                       abs(level - extremes[c, 1])) <= 1e-6 * span
            kind = "rail" if at_rail else "flat"
            min_len = (MIN_RAIL_S if at_rail else MIN_FLAT_S) * sfreq
            if b - a < max(min_len, 3):
                continue
            exclude[a:b] = True
            value = np.zeros(n_ch)
            value[c] = level - med[c]
            mask = np.zeros(n_ch, bool)
            mask[c] = True
            events.append(dict(kind=kind, start=a, stop=b, mask=mask, value=value))
    events = _merge_simultaneous(events)
    events += _detect_steps(segment, sfreq, exclude)
    return events, exclude


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


def _detect_steps(segment, sfreq, exclude):
    n_ch, n = segment.shape
    w = max(int(STEP_WIN_S * sfreq), 2)
    d = np.diff(segment, axis=1)
    mad = np.median(np.abs(d - np.median(d, axis=1, keepdims=True)), axis=1) * 1.4826
    found = []
    for c in range(n_ch):
        if mad[c] <= 0:
            continue
        cand = np.flatnonzero(np.abs(d[c]) > STEP_K * mad[c]) + 1
        for t in cand:
            if t < w or t + w > n or exclude[max(t - w, 0):t + w].any():
                continue
            before, after = segment[c, t - w:t], segment[c, t:t + w]
            jump = np.median(after) - np.median(before)
            spread = 1.4826 * 0.5 * (np.median(np.abs(before - np.median(before)))
                                     + np.median(np.abs(after - np.median(after))))
            # a level change: large against the spread on both sides (bursts are not)
            if abs(jump) < 0.5 * abs(d[c, t - 1]) or abs(jump) < STEP_LEVEL_K * spread:
                continue
            # and the new level holds for a while (motion transients come straight back)
            hold = segment[c, t + w:t + int(STEP_HOLD_S * sfreq)]
            if len(hold) < w or (np.median(hold) - np.median(before)) / jump < 0.6:
                continue
            if found and found[-1][1] == c and t - found[-1][0] < w:
                continue
            found.append((t, c, jump))
    events = []
    for t, c, jump in found:
        value = np.zeros(n_ch)
        value[c] = jump
        mask = np.zeros(n_ch, bool)
        mask[c] = True
        events.append(dict(kind="step", start=t, stop=t + 1, mask=mask, value=value,
                           decay_s=_decay(segment[c], t, jump, sfreq, w)))
    return _merge_simultaneous(events)


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
    t = np.arange(segment.shape[1])
    for e in events:
        if e["kind"] != "step":
            continue
        tail = t >= e["start"]
        shape = np.exp(-(t[tail] - e["start"]) / (e["decay_s"] * sfreq))
        out[:, tail] -= e["value"][:, None] * shape[None, :]
    return out


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
    t = np.arange(n)
    order = np.argsort(table["event_kind"][picks] == KIND_CODE["step"])[::-1]  # steps first
    for i in order:
        j, a = picks[i], starts[i]
        kind = KINDS[table["event_kind"][j]]
        mask = table["event_mask"][j]
        if kind == "step":
            tail = t >= a
            shape = np.exp(-(t[tail] - a) / (max(table["event_decay_s"][j], 1e-3) * sfreq))
            x[:, tail] += table["event_value"][j][:, None] * shape[None, :]
            continue
        b = min(n, a + max(int(round(table["event_duration_s"][j] * sfreq)), 1))
        if kind == "rail":
            x[mask, a:b] = table["event_value"][j][mask, None]
        else:
            x[mask, a:b] = x[mask, a - 1 if a > 0 else 0][:, None]
    return x
