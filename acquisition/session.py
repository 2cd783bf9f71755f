"""Session files: build ``NAME_raw.fif`` from the capture and journal, read it back.

The FIF is always built from what is on disk (``NAME.capture`` + ``NAME.journal.jsonl``,
see :mod:`acquisition.capture`), by the same code after a clean stop, a Ctrl-C, or a crash
(``shirtecg recover``), so all three give the same file. The data follow the session
contract (COMMON.md): ``ecg`` channels in volts (float64 on disk, so ``code × V/count``
comes back bit-exact), lost samples NaN and covered by ``BAD_acq_gap`` annotations,
activity annotations for the protocol steps (or, in a free recording, the activity keys'
marks), and a JSON ``info["description"]`` with
device, firmware, format, sfreq, volts_per_count, channels, counts, gaps, protocol and
``schema: shirtecg-session/1``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import numpy as np

from acquisition.activity_keys import activity_spans
from acquisition.capture import CaptureReader, capture_path, journal_path, read_journal
from acquisition.protocol import step_sample_bounds
from acquisition.stream_settings import resolve_settings
from acquisition.timeline import Timeline, gap_runs
from shirtecg_common.errors import UserError

SCHEMA = "shirtecg-session/1"
GAP_LABEL = "BAD_acq_gap"
RESTART_LABEL = "BAD_acq_restart"
COUNT_KEYS = ("frames", "crc_errors", "resyncs", "junk_bytes", "lost_samples", "reconnects")


def fif_path(out_dir, name) -> Path:
    """``DIR/NAME_raw.fif``."""
    return Path(out_dir) / f"{name}_raw.fif"


BULK_BYTES = 1 << 22  # bytes fed to the decoder at once once samples flow (memory bound)


class CaptureDecoder:
    """Decode captured chunks the way the recorder did live, block by block.

    Iterating yields ``(positions, codes, status)`` blocks (int64 sample positions, int32
    codes (n, n_ch), uint32 status) in order, holding at most :data:`BULK_BYTES` of input at
    a time, so a long capture never sits in memory whole. After a full iteration the
    attributes hold what the whole capture said. Decoding is deterministic: two iterations
    give the same blocks (a fresh decoder and timeline each time).

    Parameters
    ----------
    chunks : iterable of tuple | callable
        ``(conn, host_time, bytes)`` records (:class:`acquisition.capture.CaptureReader`),
        or a callable returning a fresh iterable of them (for more than one pass).
    fmt : str
        Stream format.
    decoder_kwargs : dict | None
        Keyword arguments the recorder gave :func:`acquisition.decoders.get_decoder`.

    Attributes
    ----------
    info : dict | None
        The first info frame.
    stats : dict
        Decoder counters.
    first_time : float | None
        Host time of the chunk with the first sample.
    timeline : Timeline
    sample_conns : list of int
        Connections that delivered samples.
    n_bytes : int
        Bytes fed to the decoder.
    """

    def __init__(self, chunks, fmt, decoder_kwargs=None):
        self.chunks, self.fmt, self.decoder_kwargs = chunks, fmt, decoder_kwargs or {}
        self.info, self.stats, self.first_time = None, {}, None
        self.timeline, self.sample_conns, self.n_bytes = Timeline(), [], 0

    def __iter__(self):
        from acquisition.decoders import get_decoder

        decoder = get_decoder(self.fmt, **self.decoder_kwargs)
        self.timeline, self.first_time, self.n_bytes = Timeline(), None, 0
        conns, conn_prev, pending = set(), None, []
        pending_bytes = 0
        bulk = self.fmt != "openbci-cyton"  # Cyton's wrap check needs each chunk's arrival time

        def place(block, conn):
            if not len(block.seq):
                return None
            conns.add(conn)
            pos, keep = self.timeline.place(block.seq, conn)
            return pos, np.asarray(block.codes)[keep], np.asarray(block.status)[keep]

        # Until the first sample, feed chunk by chunk (meas_date is the arrival time of the
        # chunk that held it); after that, a few MB at a time: decoders are chunking-invariant
        # and bulk feeding is much faster.
        chunks = self.chunks() if callable(self.chunks) else self.chunks
        for conn, t, data in chunks:
            self.n_bytes += len(data)
            if conn != conn_prev or pending_bytes >= BULK_BYTES:
                if pending:
                    out = place(decoder.feed(b"".join(pending)), conn_prev)
                    pending.clear()
                    pending_bytes = 0
                    if out is not None:
                        yield out
                if conn != conn_prev and conn_prev is not None:
                    decoder.reset()
                conn_prev = conn
            if self.first_time is None or not bulk:
                block = feed_decoder(decoder, data, t)
                if self.first_time is None and len(block.seq):
                    self.first_time = t
                out = place(block, conn)
                if out is not None:
                    yield out
            else:
                pending.append(data)
                pending_bytes += len(data)
        if pending:
            out = place(decoder.feed(b"".join(pending)), conn_prev)
            if out is not None:
                yield out
        self.info, self.stats = decoder.info, dict(decoder.stats)
        self.sample_conns = sorted(conns)


def decode_capture(chunks, fmt, decoder_kwargs=None) -> dict:
    """Decode captured chunks into whole arrays (small captures; see :class:`CaptureDecoder`).

    Parameters
    ----------
    chunks : list of tuple
        ``(conn, host_time, bytes)`` from :func:`acquisition.capture.read_capture`.
    fmt : str
        Stream format.
    decoder_kwargs : dict | None
        Keyword arguments the recorder gave :func:`acquisition.decoders.get_decoder`.

    Returns
    -------
    decoded : dict
        ``positions`` (int64), ``codes`` (int32, (n, n_ch)), ``status`` (uint32),
        ``info`` (first info frame or None), ``stats`` (decoder counters),
        ``first_time`` (host time of the chunk with the first sample),
        ``timeline`` (:class:`Timeline`), ``sample_conns``.
    """
    dec = CaptureDecoder(chunks, fmt, decoder_kwargs)
    blocks = list(dec)
    n_ch = blocks[0][1].shape[1] if blocks else 0
    return {
        "positions": np.concatenate([b[0] for b in blocks]) if blocks
        else np.zeros(0, np.int64),
        "codes": np.concatenate([b[1] for b in blocks]) if blocks
        else np.zeros((0, n_ch), np.int32),
        "status": np.concatenate([b[2] for b in blocks]) if blocks else np.zeros(0, np.uint32),
        "info": dec.info, "stats": dec.stats, "first_time": dec.first_time,
        "timeline": dec.timeline, "sample_conns": dec.sample_conns,
    }


def feed_decoder(decoder, data, host_time):
    """Feed one received chunk; Cyton also gets its arrival time (for its wrap check)."""
    if decoder.format == "openbci-cyton":
        return decoder.feed(data, t_s=host_time)
    return decoder.feed(data)


def build_session(out_dir, name):
    """Build the session's MNE Raw and metadata from ``NAME.capture`` + journal.

    Parameters
    ----------
    out_dir : path-like
        The session folder.
    name : str
        The session name.

    Returns
    -------
    raw : mne.io.RawArray
        ECG channels in volts, NaN where samples were lost, with annotations.
    meta : dict
        What goes into ``raw.info["description"]``.

    Raises
    ------
    UserError
        If the files are missing or hold no decodable sample.
    """
    import mne

    events = read_journal(journal_path(out_dir, name))
    start = events[0]
    cap = capture_path(out_dir, name)
    if not cap.is_file():
        raise UserError(f"{cap}: capture file not found")
    # Two streamed passes over the capture (memory: the output array plus a few MB): the
    # first learns the length, channel count and info frame, the second fills the array.
    reader = CaptureReader(cap)
    dec = CaptureDecoder(lambda: reader, start["format"], start.get("decoder_kwargs"))
    n_ch = n_samples = 0
    for _, codes, _ in dec:
        n_ch, n_samples = codes.shape[1], n_samples + len(codes)
    torn = reader.torn_bytes
    if n_samples == 0:
        raise UserError(f"{cap}: no {start['format']} samples could be decoded from "
                        f"{dec.n_bytes} captured bytes; nothing to save")
    settings = resolve_settings(start["format"], n_ch, info=dec.info,
                                device=start.get("device"), sfreq=start.get("sfreq"),
                                scale=start.get("scale"))
    stop = next((e for e in reversed(events) if e["event"] == "stop"), None)
    end = dec.timeline.n_times
    if stop is not None and stop.get("end_sample") is not None:
        end = min(end, int(stop["end_sample"]))
    data = np.full((n_ch, end), np.nan)
    present = np.zeros(end, bool)
    vpc = settings.volts_per_count[:, None]
    for positions, codes, _ in dec:
        keep = positions < end
        positions = positions[keep]
        data[:, positions] = codes[keep].T * vpc
        present[positions] = True
    decoded = {"info": dec.info, "stats": dec.stats, "first_time": dec.first_time,
               "timeline": dec.timeline, "sample_conns": dec.sample_conns}
    gaps = gap_runs(present)
    del present
    sfreq = settings.sfreq

    onsets, durations, labels = [], [], []
    protocol = start.get("protocol") or []
    spans = [(step["activity"], a, min(b, end))
             for step, (a, b) in zip(protocol, step_sample_bounds(protocol, sfreq)) if a < end]
    spans += activity_spans([e for e in events if e["event"] == "mark"], end)
    for activity, a, b in spans:
        onsets.append(a / sfreq)
        durations.append((b - a) / sfreq)
        labels.append(activity)
    for first, n in gaps:
        onsets.append(first / sfreq)
        durations.append(n / sfreq)
        labels.append(GAP_LABEL)
    restarts = [p for p in decoded["timeline"].restarts if p < end]
    for p in restarts:
        onsets.append(p / sfreq)
        durations.append(0.0)
        labels.append(RESTART_LABEL)

    stats = decoded["stats"]
    meta = {
        "schema": SCHEMA,
        "device": settings.device,
        "firmware": settings.firmware,
        "format": start["format"],
        "sfreq": sfreq,
        "volts_per_count": [float(v) for v in settings.volts_per_count],
        "channels": [{"name": n, "lead": lead}
                     for n, lead in zip(settings.ch_names, settings.leads)],
        "counts": {
            "frames": int(stats.get("frames", 0)),
            "crc_errors": int(stats.get("crc_errors", 0)),
            "resyncs": int(stats.get("resyncs", 0)),
            "junk_bytes": int(stats.get("junk_bytes", 0)),
            "lost_samples": int(sum(n for _, n in gaps)),
            # Connections after the first that delivered samples (from the capture itself,
            # so a crash between reconnect and journal line cannot skew it).
            "reconnects": max(0, len(decoded["sample_conns"]) - 1),
        },
        "gaps": [{"first_sample": a, "n_samples": n} for a, n in gaps],
        "protocol": protocol,
        "mode": start.get("mode", "protocol"),
        "activities": [{"activity": act, "first_sample": a, "n_samples": b - a}
                       for act, a, b in spans],
        "n_samples": int(end),
        "scale_source": settings.scale_source,
        "mismatches": settings.mismatches,
        "port": start.get("port"),
        # every port the device was read from (more than one: found again under a new name)
        "ports": list(dict.fromkeys([start.get("port")] + [e.get("port") for e in events
                                                             if e["event"] == "connect"])),
        "baud": start.get("baud"),
        "info_frame": decoded["info"],
        "device_yaml": start.get("device"),
        "decoder_stats": {k: (int(v) if isinstance(v, (int, np.integer)) else v)
                          for k, v in stats.items()},
        "out_of_order_samples": decoded["timeline"].out_of_order,
        "restarts": restarts,
        "reconnect_events": [{k: e.get(k) for k in ("time", "conn", "reason", "sample")}
                             for e in events if e["event"] == "disconnect"],
        "stop_reason": stop.get("reason") if stop else "crashed (recovered)",
        "torn_capture_bytes": int(torn),
        "start_time_utc": _utc(decoded["first_time"]).isoformat(),
        "software": start.get("software"),
    }
    info = mne.create_info(settings.ch_names, sfreq, ch_types="ecg")
    raw = mne.io.RawArray(data, info, verbose="error")
    raw.set_meas_date(_utc(decoded["first_time"]))
    with raw.info._unlock():
        raw.info["description"] = json.dumps(meta)
        raw.info["device_info"] = {"type": "ecg-shirt", "model": settings.device or "unknown"}
    raw.set_annotations(mne.Annotations(onsets, durations, labels,
                                        orig_time=raw.info["meas_date"]))
    return raw, meta


def _utc(t):
    return dt.datetime.fromtimestamp(float(t), tz=dt.timezone.utc)


def write_fif(raw, path):
    """Save ``raw`` to ``path`` atomically (temp name + rename; float64 samples)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name[:-len('_raw.fif')]}.partial{os.getpid()}_raw.fif")
    try:
        raw.save(tmp, fmt="double", overwrite=True, verbose="error")
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def finalize_session(out_dir, name):
    """Build ``DIR/NAME_raw.fif`` from the capture + journal; return ``(path, meta)``."""
    raw, meta = build_session(out_dir, name)
    return write_fif(raw, fif_path(out_dir, name)), meta


def read_session(path):
    """Read a session FIF written by the recorder.

    Parameters
    ----------
    path : path-like
        ``NAME_raw.fif``.

    Returns
    -------
    raw : mne.io.Raw
        Loaded into memory.
    meta : dict
        The parsed ``info["description"]`` (``schema`` ``shirtecg-session/1``).

    Raises
    ------
    UserError
        If the file is not a shirtecg session.
    """
    import mne

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "No such file", str(path))
    raw = mne.io.read_raw_fif(path, preload=True, verbose="error")
    try:
        meta = json.loads(raw.info["description"] or "")
    except json.JSONDecodeError:
        meta = None
    if not isinstance(meta, dict) or meta.get("schema") != SCHEMA:
        raise UserError(f"{path}: not a shirtecg session (info['description'] lacks "
                        f"schema {SCHEMA!r})")
    return raw, meta


def find_sessions(out_dir) -> list:
    """Names of the sessions (journals) in a folder, sorted."""
    suffix = ".journal.jsonl"
    return sorted(p.name[:-len(suffix)] for p in Path(out_dir).glob(f"*{suffix}"))
