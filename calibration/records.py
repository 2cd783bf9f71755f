"""Device records for calibration: FIF sessions, WFDB records or wearable CSVs, cut into windows.

Every file becomes windows of ``window_s`` seconds in mV, one row per lead the device measures.
Windows touching lost samples (NaN, ``BAD_*`` annotations) are left out. Supported inputs:

* ``*_raw.fif`` / ``*.fif`` — a shirtecg session (volts; each channel's lead from the session's
  description), optionally only some activities;
* ``*.hea`` / WFDB record path — any WFDB record (``wfdb.rdrecord``, physical units converted to
  mV; signal names ``I``, ``II``, ``MLII``, ``V1``… map to leads);
* ``*.csv`` — the wearable single-lead format ``timestamp;adc`` (12-bit counts, mid-scale
  removed, scaled by ``csv_volts_per_count``; the lead is ``csv_lead``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from shirtecg_common.errors import UserError

LEADS_12 = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
#: AD8232 board: 3.3 V / 4096 counts at the ADC, front-end gain 500 (SOURCES.md §7).
CSV_VOLTS_PER_COUNT = 3.3 / 4096 / 500
_ALIASES = {"MLII": "II", "MLI": "I", "MLIII": "III", "AVR": "aVR", "AVL": "aVL", "AVF": "aVF",
            "ECG": None}


@dataclasses.dataclass
class DeviceRecords:
    """Windows of device recordings.

    Attributes
    ----------
    data : ndarray, shape (n_windows, n_leads, n_times)
        mV, float32.
    sfreq : float
    leads : list of str
    ids : list of str
        ``file#window`` per row.
    activities : list of str | None
        Activity of each window where known.
    """

    data: np.ndarray
    sfreq: float
    leads: list
    ids: list
    activities: list


def lead_name(name):
    """Standard lead name of a channel/signal name, or None."""
    if name is None:
        return None
    s = str(name).strip()
    for lead in LEADS_12:
        if s.lower() == lead.lower():
            return lead
    return _ALIASES.get(s.upper(), None)


def load_device_records(paths, *, window_s=10.0, leads=None, activities=None,
                        csv_lead="II", csv_sfreq=500.0, csv_volts_per_count=CSV_VOLTS_PER_COUNT):
    """Read device recordings and cut them into windows.

    Parameters
    ----------
    paths : sequence of path-like
        FIF sessions, WFDB records (``.hea`` or the record path without extension) or CSVs.
    window_s : float
        Window length in seconds (the tail shorter than a window is dropped).
    leads : sequence of str | None
        Leads to keep (default: those every file has, in the first file's order).
    activities : sequence of str | None
        FIF only: keep windows inside these activity annotations.
    csv_lead : str
        The lead a CSV's single channel measures.
    csv_sfreq : float
        A CSV's sampling rate (the wearable files are 500 Hz nominal).
    csv_volts_per_count : float
        Scale of the CSV counts.

    Returns
    -------
    DeviceRecords
    """
    if not paths:
        raise UserError("no device records given (--device-records FILE ...)")
    pieces = []
    for p in paths:
        p = Path(p)
        suffix = p.suffix.lower()
        if suffix == ".fif":
            pieces.append(_read_fif(p, activities))
        elif suffix == ".csv":
            pieces.append(_read_csv(p, csv_lead, csv_sfreq, csv_volts_per_count))
        elif suffix in (".hea", ".dat", "") or p.with_suffix(".hea").exists():
            pieces.append(_read_wfdb(p))
        else:
            raise UserError(f"{p}: unknown device record format {suffix!r}; use a session "
                            "*_raw.fif, a WFDB record (.hea) or a wearable CSV (timestamp;adc)")
    sfreqs = {round(s, 6) for _, s, _, _, _ in pieces}
    if len(sfreqs) > 1:
        raise UserError(f"device records have different sampling rates {sorted(sfreqs)} Hz; "
                        "calibrate one device rate at a time")
    sfreq = pieces[0][1]
    common = [lead for lead in pieces[0][2] if lead is not None
              and all(lead in pc[2] for pc in pieces)]
    if leads is not None:
        missing = [lead for lead in leads if lead not in common]
        if missing:
            raise UserError(f"lead {missing[0]!r} is not in every device record "
                            f"(leads found in all: {', '.join(common) or 'none'})")
        common = list(leads)
    if not common:
        raise UserError("the device records share no standard lead (I, II, …, V6); name the "
                        "channels' leads in the session / device.yaml or use --csv-lead")
    n_win = int(round(window_s * sfreq))
    data, ids, acts = [], [], []
    for path, _, lds, x, act in pieces:
        x = x[[lds.index(lead) for lead in common]]
        for k in range(x.shape[1] // n_win):
            seg = x[:, k * n_win:(k + 1) * n_win]
            a = act[k * n_win:(k + 1) * n_win] if act is not None else None
            if not np.all(np.isfinite(seg)):
                continue
            if a is not None:
                vals = set(a)
                if len(vals) != 1 or None in vals:
                    continue  # straddles two activities or none of the wanted ones
            data.append(seg)
            ids.append(f"{path.name}#{k}")
            acts.append(a[0] if a is not None else None)
    if len(data) < 2:
        raise UserError(f"the device records give {len(data)} usable {window_s:g}-s windows; "
                        "at least 2 are needed (record more, or use a shorter --window-s)")
    return DeviceRecords(np.stack(data).astype(np.float32), float(sfreq), common, ids, acts)


def _read_fif(path, activities):
    from acquisition.session import read_session

    raw, meta = read_session(path)
    sfreq = float(raw.info["sfreq"])
    x = raw.get_data() * 1e3  # V → mV
    chans = meta.get("channels") or [{"name": n, "lead": None} for n in raw.ch_names]
    leads = [lead_name(c.get("lead")) or lead_name(c.get("name")) for c in chans]
    n = x.shape[1]
    act = None
    labels = np.full(n, None, dtype=object)
    for a in raw.annotations:
        i0 = int(round((a["onset"] - raw.first_time) * sfreq))
        i1 = i0 + int(round(a["duration"] * sfreq))
        desc = a["description"]
        if desc.upper().startswith("BAD"):
            x[:, max(i0, 0):i1] = np.nan
        elif activities is None or desc in activities:
            labels[max(i0, 0):i1] = desc
    if activities is not None or any(v is not None for v in labels):
        act = labels
    if activities is not None and not any(v is not None for v in labels):
        found = sorted({a["description"] for a in raw.annotations})
        raise UserError(f"{path}: none of the activities {', '.join(activities)} is in the "
                        f"session (it has: {', '.join(found) or 'no annotations'})")
    return path, sfreq, leads, x, act


def _read_csv(path, lead, sfreq, vpc):
    if not path.is_file():
        raise FileNotFoundError(2, "No such file", str(path))
    try:
        import pandas as pd

        df = pd.read_csv(path, sep=";", header=None, names=["t", "adc"], usecols=[0, 1])
        adc = pd.to_numeric(df["adc"], errors="coerce").to_numpy(float)
    except (ValueError, OSError) as err:
        raise UserError(f"{path}: cannot read as 'timestamp;adc' CSV: {err}") from None
    if len(adc) == 0 or np.isnan(adc).mean() > 0.01:
        raise UserError(f"{path}: expected ';'-separated 'timestamp;adc' rows with integer ADC "
                        "counts (the wearable CSV format)")
    std_lead = lead_name(lead)
    if std_lead is None:
        raise UserError(f"--csv-lead {lead!r} is not a standard lead (I, II, …, V6)")
    mv = (adc - np.nanmedian(adc)) * vpc * 1e3
    return path, float(sfreq), [std_lead], mv[None], None


def _read_wfdb(path):
    import wfdb

    rec_path = path.with_suffix("") if path.suffix.lower() in (".hea", ".dat") else path
    try:
        rec = wfdb.rdrecord(str(rec_path), physical=True)
    except (FileNotFoundError, ValueError, OSError) as err:
        raise UserError(f"{path}: cannot read WFDB record: {err}") from None
    units = [u.lower() if u else "mv" for u in rec.units]
    factor = np.array([{"mv": 1.0, "uv": 1e-3, "v": 1e3}.get(u, 1.0) for u in units])
    x = rec.p_signal.T * factor[:, None]
    leads = [lead_name(n) for n in rec.sig_name]
    return path, float(rec.fs), leads, x, None


def describe(records):
    """A one-line summary of device records."""
    acts = sorted({a for a in records.activities if a})
    extra = f"; activities: {', '.join(acts)}" if acts else ""
    return (f"{len(records.data)} windows × {records.data.shape[-1] / records.sfreq:g} s, "
            f"leads {', '.join(records.leads)}, {records.sfreq:g} Hz{extra}")

