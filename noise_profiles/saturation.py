"""Amplifier saturation: the output range a recording's front end clips at.

A wearable front end with a small output range (the AD8232 boards of the wearable
recordings: ±3.3 mV input-referred) clips large, slow motion swings: the samples pile up
at two levels, the rails, where the ADC still jitters by a few counts (so they are no
exact flat line for :mod:`noise_profiles.events`). A Gaussian model drawn without those
limits comes back with swings the device cannot record and with the wrong amplitude
statistics (clipped noise is platykurtic: kurtosis 2.2-2.4 on the dry-electrode walking
and running recordings, 2.9 drawn unclipped). Rails are found as pile-ups at the ends of
a channel's amplitude distribution (:func:`rails`); synthesis clips at them (relative to
the recording's mean: the synthesized noise has none).
"""

from __future__ import annotations

import numpy as np

from noise_profiles.sessions import runs_of

TOLERANCE = 0.01          # of the channel's span: ADC jitter on a saturated output
MIN_FRACTION = 0.002      # of the samples at one rail: a pile-up, not one excursion
TAIL_FRACTION = 0.05      # a rail is looked for among this share of the extreme samples
CONTRAST = 2.0            # a rail holds this many times the samples just inside it


def rails(x):
    """Rail levels of ``x`` (n_ch, n): ``(levels, found)``, both (n_ch, 2) for the low and
    the high rail; ``found`` is False where that end shows no pile-up (NaN ignored).

    A rail is the densest ``2 TOLERANCE``-wide stretch among the extreme
    :data:`TAIL_FRACTION` of a channel's samples, when it holds :data:`MIN_FRACTION` of
    them and :data:`CONTRAST` times as many as the stretch just inside it (a Gaussian
    tail thins out towards the extreme; a rail piles up there). Not necessarily the
    extreme sample: an ECG beat subtracted on a railed stretch pokes beyond the rail.
    """
    x = np.atleast_2d(np.asarray(x, float))
    levels = np.zeros((x.shape[0], 2))
    found = np.zeros((x.shape[0], 2), bool)
    for c, row in enumerate(x):
        row = np.sort(row[np.isfinite(row)])
        n = len(row)
        if n < 10:
            continue
        tol = TOLERANCE * (row[-1] - row[0])
        k = max(int(TAIL_FRACTION * n), 1)
        for side, t in ((0, -row[::-1]), (1, row)):         # t ascending, the side's end last
            cand = t[-k:]
            count = np.searchsorted(t, cand + tol, "right") - np.searchsorted(t, cand - tol)
            best = int(np.argmax(count))
            level = cand[best]
            for _ in range(2):          # centre on the pile (the window also holds tail)
                level = np.median(t[np.searchsorted(t, level - tol):
                                    np.searchsorted(t, level + tol, "right")])
            inside = (np.searchsorted(t, level - tol) - np.searchsorted(t, level - 3 * tol))
            levels[c, side] = level if side else -level
            found[c, side] = (count[best] >= max(3, MIN_FRACTION * n)
                              and count[best] >= CONTRAST * max(inside, 1))
    return levels, found


def railed(x, min_run=3):
    """Where ``x`` (n_ch, n) sits on a rail of its own (:func:`rails`): (n_ch, n) int8,
    -1 on the low rail, +1 on the high one, 0 elsewhere. A sample is on a rail when it
    is within the ADC jitter (:data:`TOLERANCE` of the span) of it or beyond it, in a
    run of at least ``min_run`` such samples (a signal crossing the rail's level once is
    no saturation)."""
    x = np.atleast_2d(np.asarray(x, float))
    out = np.zeros(x.shape, np.int8)
    levels, found = rails(x)
    for c, row in enumerate(x):
        fin = row[np.isfinite(row)]
        if not found[c].any() or fin.size == 0:
            continue
        tol = TOLERANCE * (fin.max() - fin.min())
        for side, sign in ((0, -1), (1, 1)):
            if not found[c, side]:
                continue
            with np.errstate(invalid="ignore"):
                at = sign * (row - levels[c, side]) >= -tol
            out[c, _runs_at_least(at, min_run)] = sign
    return out


def _runs_at_least(mask, k):
    """``mask`` without its runs of True shorter than ``k``."""
    out = np.zeros(len(mask), bool)
    for a, b in runs_of(mask):
        if b - a >= k:
            out[a:b] = True
    return out


def fit(segments, clean):
    """Rails of an activity's data: found on all of it (``segments``, rails included),
    placed relative to the mean of the ``clean`` segments (events cut out), the level the
    synthesized noise sits at.

    Returns
    -------
    state : dict
        ``rail_v`` (n_ch, 2): low and high rail minus the clean mean (V);
        ``rail_on`` (n_ch, 2): 1.0 where that rail was found, else 0.0.
    """
    levels, found = rails(np.concatenate(segments, axis=1))
    mean = np.mean(np.concatenate(clean, axis=1), axis=1)
    return dict(rail_v=np.where(found, levels - mean[:, None], 0.0),
                rail_on=found.astype(float))


def not_at_rails(found_events, state):
    """The events minus the ``rail`` events of channels with a rail: clipping gives those
    back where the noise runs into the rail, not as a jump at a random time."""
    on = np.asarray(state["rail_on"], bool).any(axis=1)
    return [e for e in found_events
            if not (e["kind"] == "rail" and np.all(on[np.asarray(e["mask"], bool)]))]


def clip(x, state):
    """Clip ``x`` (n_ch, n) in place at the profile's rails (nothing for profiles without
    them: schema /5 and older, or no pile-up in the recording)."""
    on = np.asarray(state.get("rail_on", np.zeros((0, 2))), bool)
    if not on.any():
        return x
    r = np.asarray(state["rail_v"], float)
    lo = np.where(on[:, 0], r[:, 0], -np.inf)[:, None]
    hi = np.where(on[:, 1], r[:, 1], np.inf)[:, None]
    np.clip(x, lo, hi, out=x)
    return x
