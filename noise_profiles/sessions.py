"""Read noise sessions and cut them into clean, gap-free segments per activity.

A session is an MNE Raw (or a path to a ``*_raw.fif`` written by ``shirtecg record``):
data in volts, activity annotations (description = activity name), lost samples NaN and
covered by ``BAD_acq_gap``. Everything under a ``BAD_*`` annotation and every NaN is
dropped, and segments end at every gap, so no estimate ever spans a gap.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from shirtecg_common.errors import UserError

#: Activities skipped when ``activities=None``: they are not body/device noise.
EXCLUDED_ACTIVITIES = ("test_signal",)
#: Name used for samples of a session that has no activity annotation at all.
UNLABELLED = "unlabelled"


@dataclass
class SessionData:
    """One session, read: data in volts, sampling rate, channels and segments."""

    data: np.ndarray                      # (n_ch, n_times) float64, NaN where lost
    sfreq: float
    ch_names: list
    ch_leads: list
    source: str                           # file path or "<Raw>" / "<array>"
    sha256: str | None
    segments: dict = field(default_factory=dict)   # activity -> list of (start, stop)


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes (provenance)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _leads_from_description(info, n_ch):
    desc = info.get("description")
    leads = [None] * n_ch
    if not desc:
        return leads
    try:
        meta = json.loads(desc)
        channels = meta.get("channels", [])
    except (ValueError, AttributeError):
        return leads
    for i, ch in enumerate(channels[:n_ch]):
        if isinstance(ch, dict):
            leads[i] = ch.get("lead")
    return leads


def read_session(session) -> SessionData:
    """Read one session (path to a FIF file or an MNE Raw) into :class:`SessionData`.

    Parameters
    ----------
    session : str | pathlib.Path | mne.io.BaseRaw
        The recording. Paths are read with :func:`mne.io.read_raw_fif`.

    Returns
    -------
    session_data : SessionData
        Segments per activity: ``(start, stop)`` sample ranges that hold finite data,
        lie inside one activity annotation and outside every ``BAD_*`` annotation.
    """
    import mne

    sha = None
    if isinstance(session, (str, Path)):
        path = Path(session)
        if not path.is_file():
            raise FileNotFoundError(2, "No such file", str(path))
        try:
            raw = mne.io.read_raw_fif(path, preload=True, verbose="error")
        except Exception as err:  # MNE raises many types for a broken file
            raise UserError(f"{path}: cannot read as an MNE FIF session ({err})") from None
        source, sha = str(path), file_sha256(path)
    elif isinstance(session, mne.io.BaseRaw):
        raw = session
        source = raw.filenames[0] if raw.filenames and raw.filenames[0] else "<Raw>"
        source = str(source)
        if source != "<Raw>" and Path(source).is_file():
            sha = file_sha256(source)
    else:
        raise TypeError(
            f"a session must be a path to a *_raw.fif file or an mne.io.Raw, "
            f"got {type(session).__name__}"
        )
    data = raw.get_data().astype(np.float64)
    sfreq = float(raw.info["sfreq"])
    out = SessionData(data, sfreq, list(raw.ch_names),
                      _leads_from_description(raw.info, len(raw.ch_names)), source, sha)
    out.segments = _activity_segments(raw, data)
    return out


def _activity_segments(raw, data):
    n = data.shape[1]
    good = np.all(np.isfinite(data), axis=0)
    activity_masks = {}
    ann = raw.annotations
    for onset, duration, desc in zip(ann.onset, ann.duration, ann.description):
        start, stop = _ann_to_samples(raw, onset, duration, n)
        if desc.upper().startswith("BAD"):
            good[start:stop] = False
        else:
            mask = activity_masks.setdefault(str(desc), np.zeros(n, bool))
            mask[start:stop] = True
    if not activity_masks:
        activity_masks[UNLABELLED] = np.ones(n, bool)
    return {act: runs_of(mask & good) for act, mask in activity_masks.items()}


def _ann_to_samples(raw, onset, duration, n):
    # Same index as raw.time_as_index(onset, use_rounding=True, origin=orig_time), computed
    # directly: MNE's version builds raw.times, which imports numba (~1 s per process).
    sfreq = raw.info["sfreq"]
    origin, meas_date = raw.annotations.orig_time, raw.info["meas_date"]
    if origin is None:  # onsets count from the first sample
        start = int(round(onset * sfreq))
    else:  # onsets count from orig_time; sample 0 of the data is first_samp after meas_date
        shift_s = (origin - meas_date).total_seconds() if meas_date is not None else 0.0
        start = int(round((onset + shift_s) * sfreq)) - raw.first_samp
    stop = start + int(round(duration * sfreq))
    return max(start, 0), min(max(stop, start + 1), n)


def runs_of(mask) -> list:
    """``(start, stop)`` ranges where a boolean mask is True."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.flatnonzero(np.diff(m.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(d[0::2], d[1::2])]


def read_sessions(sessions) -> list:
    """Read several sessions and check they share channels and sampling rate."""
    if isinstance(sessions, (str, Path)) or not hasattr(sessions, "__iter__"):
        sessions = [sessions]
    out = [read_session(s) for s in sessions]
    if not out:
        raise UserError("no sessions given; pass at least one *_raw.fif file")
    first = out[0]
    for s in out[1:]:
        if s.ch_names != first.ch_names:
            raise UserError(
                f"{s.source}: channels {s.ch_names} differ from {first.source}'s "
                f"{first.ch_names}; a profile needs the same channels in every session"
            )
        if s.sfreq != first.sfreq:
            raise UserError(
                f"{s.source}: sampling rate {s.sfreq} Hz differs from {first.source}'s "
                f"{first.sfreq} Hz"
            )
    return out


def collect_segments(sessions_data, activities=None, min_samples=1) -> dict:
    """Gather the data segments of each activity: ``{activity: [array (n_ch, n), ...]}``.

    ``activities=None`` takes every activity found except :data:`EXCLUDED_ACTIVITIES`.
    """
    found = {}
    for s in sessions_data:
        for act, runs in s.segments.items():
            found.setdefault(act, []).extend(
                s.data[:, a:b] for a, b in runs if b - a >= min_samples)
    if activities is None:
        names = [a for a in found if a not in EXCLUDED_ACTIVITIES]
    else:
        if isinstance(activities, str):
            activities = [activities]
        names = list(activities)
        missing = [a for a in names if not found.get(a)]
        if missing:
            raise UserError(
                f"activity {missing[0]!r} has no usable data in the sessions (no stretch of "
                f"{min_samples} samples between gaps); found: {', '.join(sorted(found)) or 'none'}"
            )
    out = {a: found[a] for a in names if found.get(a)}
    if not out:
        raise UserError(
            f"the sessions hold no usable activity data: found {', '.join(sorted(found))}, "
            f"but no stretch between gaps and BAD_* marks is {min_samples} samples long "
            f"({', '.join(EXCLUDED_ACTIVITIES)} is skipped unless asked for)"
        )
    return out


def collect_blocks(sessions_data, activities=None, min_samples=1) -> dict:
    """Like :func:`collect_segments`, but keep where the segments sit.

    Returns ``{activity: [(block, runs), ...]}``: one ``block`` (n_ch, n) per session and
    activity spanning its segments, NaN wherever data are missing or marked bad, and
    ``runs``, the ``(start, stop)`` of its segments inside the block. Gap-aware estimators
    (lag products whose samples are both present) need the positions.
    """
    names = list(collect_segments(sessions_data, activities, min_samples))
    out = {a: [] for a in names}
    for s in sessions_data:
        for act in names:
            runs = [(a, b) for a, b in s.segments.get(act, []) if b - a >= min_samples]
            if not runs:
                continue
            lo, hi = runs[0][0], runs[-1][1]
            block = np.full((s.data.shape[0], hi - lo), np.nan)
            for a, b in runs:
                block[:, a - lo:b - lo] = s.data[:, a:b]
            out[act].append((block, [(a - lo, b - lo) for a, b in runs]))
    return out


def make_raw(data, sfreq, activity=None, ch_names=None, ch_leads=None):
    """Wrap an array in volts as an MNE Raw session (one activity annotation).

    A convenience for tests, benchmarks and ``from-ecg`` on CSV/array input.
    """
    import mne

    data = np.atleast_2d(np.asarray(data, dtype=np.float64))
    n_ch = data.shape[0]
    ch_names = list(ch_names) if ch_names is not None else [f"ch{i}" for i in range(n_ch)]
    info = mne.create_info(ch_names, float(sfreq), ch_types="ecg")
    if ch_leads is not None:
        info["description"] = json.dumps(
            {"channels": [{"name": n, "lead": ld} for n, ld in zip(ch_names, ch_leads)]})
    raw = mne.io.RawArray(data, info, verbose="error")
    if activity is not None:
        raw.set_annotations(mne.Annotations([0.0], [data.shape[1] / float(sfreq)], [activity]))
    return raw
