"""Read ECG recordings for ``noise_from_ecg`` / ``shirtecg profile from-ecg``.

Accepted: MNE FIF sessions (``*.fif``), WFDB records (``*.hea``; physical units in mV
converted to volts), and ``;``-separated ``timestamp;adc`` CSVs of the AD8232 wearable
recordings (12-bit counts converted to input-referred volts, see :data:`AD8232_V_PER_COUNT`).
Everything comes back as an MNE Raw in volts with one activity annotation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from noise_profiles.sessions import make_raw
from shirtecg_common.errors import UserError

#: 3.3 V / 4096 counts at the ADC, divided by the AD8232 board gain of 500 (assumed
#: reference; the dataset does not state it): about 1.6 µV per count input-referred.
AD8232_V_PER_COUNT = 3.3 / 4096 / 500
AD8232_MID = 2048
#: Slovak activity names of the wearable dataset → the project's activity names
WEARABLE_ACTIVITIES = {"klud": "rest", "ruky": "arm_movement", "chodza": "walking",
                       "beh": "running", "drepy": "squats"}


def read_wearable_csv(path, sfreq=500.0):
    """One ``ID_ELECTRODE_ACTIVITY.csv`` → Raw (volts), activity from the file name."""
    import pandas as pd

    path = Path(path)
    try:
        df = pd.read_csv(path, sep=";", header=None, names=["t", "adc"])
        counts = df["adc"].to_numpy(dtype=np.float64)
    except (ValueError, KeyError, pd.errors.ParserError) as err:
        raise UserError(f"{path}: not a 'timestamp;adc' CSV ({err})") from None
    act = WEARABLE_ACTIVITIES.get(path.stem.split("_")[-1], path.stem.split("_")[-1])
    volts = (counts - AD8232_MID) * AD8232_V_PER_COUNT
    return make_raw(volts[None, :], sfreq, act, ch_names=["ECG"], ch_leads=[None])


def read_recording(path, sfreq=None, activity=None):
    """Read a FIF, WFDB or wearable CSV recording as an MNE Raw in volts."""
    import mne

    path = Path(path)
    if not path.exists() and not path.with_suffix(".hea").exists():
        raise FileNotFoundError(2, "No such file", str(path))
    suffix = path.suffix.lower()
    if suffix == ".fif":
        return mne.io.read_raw_fif(path, preload=True, verbose="error")
    if suffix == ".csv":
        return read_wearable_csv(path, sfreq or 500.0)
    if suffix in (".hea", ".dat", ".mat", ""):
        import wfdb

        try:
            rec = wfdb.rdrecord(str(path.with_suffix("")))
        except Exception as err:  # wfdb raises many types for bad headers
            raise UserError(f"{path}: cannot read as a WFDB record ({err})") from None
        scale = np.array([1e-3 if (u or "mV").lower() == "mv" else
                          1e-6 if (u or "").lower() in ("uv", "µv") else 1.0
                          for u in rec.units])
        data = rec.p_signal.T * scale[:, None]
        return make_raw(data, rec.fs, activity or "unlabelled", ch_names=rec.sig_name)
    raise UserError(f"{path}: unsupported recording type {suffix!r}; accepted: .fif, "
                    ".hea (WFDB), .csv (timestamp;adc)")
