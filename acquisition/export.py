"""EDF / BDF export of a session (FIF stays the archive; acquisition_anchors §4.1).

EDF stores 16-bit integers, BDF 24-bit. Both are written with a physical range per
channel (``physical_range="channelwise"``), so one channel's large electrode offset does
not coarsen the others. BDF's step is then at most the ADC's own LSB (its 24 bits span
at least the channel's range), so nothing is lost; EDF's step is the channel's range /
65535, which can be coarser than the ADC: :func:`export_session` reports the step it
got, in µV and in ADC counts, per channel. Neither format has NaN: lost samples are
written as 0 V and stay marked by their ``BAD_acq_gap`` annotations. Needs ``edfio``
(``pip install "shirtecg[edf]"``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from shirtecg_common.errors import UserError

DIGITAL_LEVELS = {"edf": 2 ** 16 - 1, "bdf": 2 ** 24 - 1}


def export_session(raw, path, fmt, volts_per_count=None):
    """Write ``raw`` as EDF or BDF (atomically) and say how fine the steps are.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The session (from :func:`acquisition.session.read_session`).
    path : path-like
        Output file (``.edf`` / ``.bdf``).
    fmt : {"edf", "bdf"}
        File format.
    volts_per_count : array-like | None
        The ADC scale per channel, to express the quantization step in counts.

    Returns
    -------
    report : dict
        ``path``, ``step_uv`` (per channel), ``step_counts`` (per channel, if the scale is
        given) and ``lossless`` (every step ≤ one ADC count).

    Raises
    ------
    UserError
        If ``edfio`` is missing or ``fmt`` is unknown.
    """
    import mne

    if fmt not in DIGITAL_LEVELS:
        raise UserError(f"export format must be 'edf' or 'bdf', got {fmt!r}")
    try:
        import edfio  # noqa: F401  (mne needs it)
    except ImportError:
        raise UserError("EDF/BDF export needs edfio: pip install \"shirtecg[edf]\"") from None
    path = Path(path)
    raw = raw.copy().load_data()
    data = raw.get_data(picks="all")
    data = np.where(np.isfinite(data), data, 0.0)
    raw._data[:] = data
    span = data.max(axis=1) - data.min(axis=1)
    step_v = np.where(span > 0, span, 1e-12) / DIGITAL_LEVELS[fmt]
    tmp = path.with_name(f".{path.stem}.partial{os.getpid()}{path.suffix}")
    try:
        mne.export.export_raw(tmp, raw, fmt=fmt, physical_range="channelwise",
                              add_ch_type=True, overwrite=True, verbose="error")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    report = {"path": path, "step_uv": (step_v * 1e6).tolist()}
    if volts_per_count is not None:
        counts = step_v / np.asarray(volts_per_count, float)
        report["step_counts"] = counts.tolist()
        report["lossless"] = bool(np.all(counts <= 1.0 + 1e-9))
    return report
