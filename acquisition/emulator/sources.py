"""What the emulated device samples: synthetic activity noise, or a recording played back.

A source yields integer ADC codes ``(n, n_channels)`` on request (:meth:`read`), with its
``sfreq``, ``ch_names`` and ``volts_per_count``. Playback is bit-exact: the codes streamed are
the file's own digital values (WFDB, integer CSV columns) or ``round(volts / volts_per_count)``
(FIF, float CSV columns), so a test can compare what the recorder stored with the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import signal

from acquisition.activity_noise import ActivityNoise
from acquisition.decoders.base import ADC_FULL_SCALE, scale_from_gain
from shirtecg_common.errors import UserError

CODE_MIN, CODE_MAX = -(2**23), 2**23 - 1
DEFAULT_NAMES = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")
UNITS_V = {"V": 1.0, "mV": 1e-3, "uV": 1e-6}


def default_ch_names(n_channels):
    """I, II, V1…V6 (the 8 independent leads), then ch9, ch10…"""
    return [DEFAULT_NAMES[k] if k < len(DEFAULT_NAMES) else f"ch{k + 1}"
            for k in range(n_channels)]


class SyntheticSource:
    """Activity noise quantized by an ADC that may carry a known gain error and offset.

    ``codes = round(volts / (volts_per_count · (1 + gain_error)) + offset_counts)``, clipped to
    24 bits: a calibration that recovers ``volts_per_count · (1 + gain_error)`` and
    ``offset_counts`` per channel is right. Optional first-order high-pass / low-pass filters
    model the front end's frequency response.
    """

    def __init__(self, activity, n_channels, sfreq, volts_per_count, random_state=None,
                 gain_error=None, offset_counts=None, amplitude_mv=1.0, freq_hz=1.0,
                 highpass_hz=None, lowpass_hz=None, line_freq=50.0):
        self.sfreq = float(sfreq)
        self.n_channels = int(n_channels)
        self.ch_names = default_ch_names(self.n_channels)
        self.leads = None  # the lead each channel measures, announced in the info frame if set
        self.volts_per_count = np.broadcast_to(np.asarray(volts_per_count, float),
                                               (self.n_channels,)).copy()
        self.gain_error = _per_channel(gain_error, self.n_channels, "gain_error")
        self.offset_counts = _per_channel(offset_counts, self.n_channels, "offset_counts")
        if np.any(self.gain_error <= -1):
            raise UserError("gain_error must be > -1 (a relative error, e.g. 0.02 for +2 %)")
        self.n_times = None
        self.activity = activity
        self._noise = ActivityNoise(activity, self.n_channels, self.sfreq, random_state,
                                    line_freq=line_freq, amplitude_mv=amplitude_mv,
                                    freq_hz=freq_hz)
        self.highpass_hz, self.lowpass_hz = highpass_hz, lowpass_hz
        self._filters = []
        for kind, f in (("highpass", highpass_hz), ("lowpass", lowpass_hz)):
            if f is not None:
                if not 0 < f < self.sfreq / 2:
                    raise UserError(f"{kind}_hz must lie in (0, {self.sfreq / 2:g}) Hz, got {f}")
                sos = signal.butter(1, f, kind, fs=self.sfreq, output="sos")
                self._filters.append([sos, np.zeros((1, self.n_channels, 2))])

    def read(self, n):
        """The next ``n`` samples as int32 codes, shape (n, n_channels)."""
        v = self._noise.read(n)
        for f in self._filters:
            v, f[1] = signal.sosfilt(f[0], v, axis=-1, zi=f[1])
        true_vpc = self.volts_per_count * (1 + self.gain_error)
        codes = np.rint(v / true_vpc[:, None] + self.offset_counts[:, None])
        return np.clip(codes, CODE_MIN, CODE_MAX).astype(np.int32).T

    def describe(self):
        """What the log should say about this source (the truth calibration should find)."""
        return {"source": "synthetic", "activity": self.activity,
                "volts_per_count_nominal": self.volts_per_count.tolist(),
                "gain_error": self.gain_error.tolist(),
                "offset_counts": self.offset_counts.tolist(),
                "volts_per_count_true": (self.volts_per_count * (1 + self.gain_error)).tolist(),
                "highpass_hz": self.highpass_hz, "lowpass_hz": self.lowpass_hz,
                "test_amplitude_mv": self._noise.amplitude_mv, "test_freq_hz": self._noise.freq_hz}


class PlaybackSource:
    """Codes read from a FIF, WFDB or CSV file, streamed once from the start.

    Parameters
    ----------
    path : str | Path
        ``*.fif`` (MNE), a WFDB record (``.hea``/``.dat``; path with or without extension) or
        ``*.csv``/``*.txt`` (numeric columns; non-numeric columns such as timestamps are ignored,
        a header row is detected; delimiter ``,`` ``;`` tab or spaces).
    sfreq : float | None
        Required for CSV (which has no rate); FIF and WFDB carry their own.
    volts_per_count : float | None
        Scale for FIF without our session metadata and for float CSV columns
        (default ``2.4 / 6 / (2**23 - 1)``); integer CSV columns are codes as they are.
    csv_unit : {"V", "mV", "uV"}
        Unit of float CSV columns.
    n_channels : int | None
        Keep only the first ``n_channels`` channels.
    """

    def __init__(self, path, sfreq=None, volts_per_count=None, csv_unit="mV", n_channels=None):
        path = Path(path)
        self.nan_samples = 0
        vpc_default = float(volts_per_count) if volts_per_count else scale_from_gain(6, 2.4)[0]
        suffix = path.suffix.lower()
        if suffix == ".fif" or path.name.endswith(".fif.gz"):
            codes, sfreq, names, vpc, self.nan_samples = _read_fif(path, vpc_default)
        elif suffix in (".hea", ".dat") or (suffix == "" and path.with_suffix(".hea").exists()):
            codes, sfreq, names, vpc = _read_wfdb(path)
        elif suffix in (".csv", ".txt", ".tsv"):
            if sfreq is None:
                raise UserError(f"{path}: a CSV file has no sampling rate; pass --sfreq")
            codes, names, vpc = _read_csv(path, vpc_default, csv_unit)
        else:
            raise UserError(f"{path}: cannot play back this file type; accepted: .fif, WFDB "
                            "(.hea/.dat), .csv/.txt/.tsv")
        if n_channels is not None:
            if n_channels > codes.shape[1]:
                raise UserError(f"{path} has {codes.shape[1]} channels, --channels asks for "
                                f"{n_channels}")
            codes, names, vpc = codes[:, :n_channels], names[:n_channels], vpc[:n_channels]
        if codes.size and (codes.min() < CODE_MIN or codes.max() > CODE_MAX):
            raise UserError(f"{path}: codes outside the 24-bit range; pass a larger "
                            "volts-per-count scale (--scale)")
        self.path = str(path)
        self.codes = np.ascontiguousarray(codes, dtype=np.int32)
        self.sfreq = float(sfreq)
        self.ch_names = list(names)
        self.volts_per_count = np.asarray(vpc, float)
        self.n_channels = self.codes.shape[1]
        self.n_times = self.codes.shape[0]
        self._pos = 0

    def pad_channels(self, n_channels):
        """Add zero channels up to ``n_channels`` (Cyton packets always carry 8)."""
        extra = n_channels - self.n_channels
        if extra > 0:
            self.codes = np.hstack([self.codes, np.zeros((self.n_times, extra), np.int32)])
            self.ch_names += [f"pad{k + 1}" for k in range(extra)]
            self.volts_per_count = np.concatenate([self.volts_per_count,
                                                   np.repeat(self.volts_per_count[-1], extra)])
            self.n_channels = n_channels

    def read(self, n):
        """The next ``n`` samples (fewer at the end of the file)."""
        out = self.codes[self._pos:self._pos + n]
        self._pos += out.shape[0]
        return out

    def describe(self):
        return {"source": "playback", "path": self.path, "n_times": self.n_times,
                "nan_samples_as_zero": self.nan_samples,
                "volts_per_count": self.volts_per_count.tolist()}


def _per_channel(value, n, name):
    if value is None:
        return np.zeros(n)
    arr = np.atleast_1d(np.asarray(value, float))
    if arr.size not in (1, n):
        raise UserError(f"{name} needs 1 or {n} values, got {arr.size}")
    return np.broadcast_to(arr, (n,)).copy()


def _read_fif(path, vpc_default):
    import mne

    raw = mne.io.read_raw_fif(path, preload=True, verbose="error")
    data = raw.get_data(picks="all")
    vpc = np.full(data.shape[0], vpc_default)
    try:
        meta = json.loads(raw.info.get("description") or "")
        if isinstance(meta, dict) and meta.get("volts_per_count"):
            vpc = np.broadcast_to(np.asarray(meta["volts_per_count"], float), vpc.shape).copy()
    except ValueError:
        pass
    # lost samples of a recorded session (NaN) play back as code 0; describe() counts them
    codes = np.rint(np.nan_to_num(data, nan=0.0) / vpc[:, None]).T
    return codes, raw.info["sfreq"], list(raw.ch_names), vpc, int(np.isnan(data).any(0).sum())


def _read_wfdb(path):
    import wfdb

    base = str(path.with_suffix("")) if path.suffix in (".hea", ".dat") else str(path)
    rec = wfdb.rdrecord(base, physical=False)
    unit_v = {"mv": 1e-3, "uv": 1e-6, "v": 1.0}
    vpc = np.array([unit_v.get((u or "mV").lower(), 1e-3) / g
                    for u, g in zip(rec.units, rec.adc_gain)], float)
    codes = rec.d_signal.astype(np.int64) - np.asarray(rec.baseline, np.int64)[None, :]
    return codes, rec.fs, list(rec.sig_name), vpc


def _read_csv(path, vpc_default, unit):
    import pandas as pd

    if unit not in UNITS_V:
        raise UserError(f"csv unit must be one of {', '.join(UNITS_V)}, got {unit!r}")
    with open(path, encoding="utf-8", errors="replace") as fh:
        first = fh.readline()
    sep = next((s for s in (";", "\t", ",") if s in first), r"\s+")
    df = pd.read_csv(path, sep=sep, header=None, engine="c" if sep != r"\s+" else "python",
                     dtype=str, skip_blank_lines=True)
    numeric = df.apply(pd.to_numeric, errors="coerce")
    header = bool(numeric.iloc[0].isna().all() and len(df) > 1) or \
        bool(numeric.iloc[0].isna().any() and not numeric.iloc[1:].isna().any().any())
    names = [str(x) for x in df.iloc[0]] if header else None
    body = numeric.iloc[1:] if header else numeric
    keep = [c for c in body.columns if body[c].notna().all()]
    if not keep:
        raise UserError(f"{path}: no fully numeric column to play back")
    values = body[keep].to_numpy(dtype=float)
    names = [names[c] for c in keep] if names else [f"ch{k + 1}" for k in range(len(keep))]
    if np.all(values == np.rint(values)):
        return values.astype(np.int64), names, np.full(len(keep), vpc_default)
    volts = values * UNITS_V[unit]
    return np.rint(volts / vpc_default), names, np.full(len(keep), vpc_default)


def gain_vref_for(volts_per_count, vref=2.4):
    """Per-channel gains that express ``volts_per_count`` in the info frame's (gain, vref)."""
    return (vref / (np.asarray(volts_per_count, float) * ADC_FULL_SCALE)).tolist(), vref
