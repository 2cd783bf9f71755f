"""Shared helpers of the dataset tests: layout fixtures and a small pipeline.

``GainPipeline`` follows the augment pipeline contract (per-record seeds, ``last_parameters``,
``to_dict``, ``output_sfreq``, ``output_leads``) with the simplest possible transform, so
writer tests do not depend on the transform presets.
"""

from __future__ import annotations

import numpy as np

from augment.leads import LEADS_12


class GainPipeline:
    """Multiply each record by a gain drawn from its own generator and add white noise."""

    output_leads = LEADS_12

    def __init__(self, noise_mv=0.01):
        self.noise_mv = noise_mv

    def output_sfreq(self, sfreq):
        return sfreq

    def to_dict(self):
        return {"GainPipeline": {"noise_mv": self.noise_mv}}

    def __call__(self, x, sfreq, random_state=None):
        rngs = [np.random.default_rng(s) for s in random_state]
        gains = np.array([r.uniform(0.5, 1.5) for r in rngs], dtype=np.float32)
        noise = np.stack([r.standard_normal(x.shape[1:], dtype=np.float32) for r in rngs])
        self.last_parameters = [{"gain": float(g)} for g in gains]
        return x * gains[:, None, None] + np.float32(self.noise_mv) * noise


def write_ptbxl_fixture(root, cinc_dir, record_ids, patients, folds, scp_codes):
    """A PTB-XL-layout folder from real CinC PTB-XL records (``records500`` + ``records100``).

    Signals are written with ``wfdb.wrsamp`` at PTB-XL's 1000 adu/mV; ``ptbxl_database.csv`` has
    PTB-XL's columns (``scp_codes`` as a dict literal, ``patient_id`` as a float like the
    real file).
    """
    import csv
    from pathlib import Path

    import wfdb
    from scipy.signal import resample_poly

    root = Path(root)
    rows = []
    for ecg_id, (rid, patient, fold, codes) in enumerate(
            zip(record_ids, patients, folds, scp_codes), start=1):
        rec = wfdb.rdrecord(str(Path(cinc_dir) / rid))
        for folder, fs, x, suffix in (("records500", 500, rec.p_signal, "hr"),
                                      ("records100", 100, resample_poly(rec.p_signal, 1, 5,
                                                                        axis=0), "lr")):
            d = root / folder / "00000"
            d.mkdir(parents=True, exist_ok=True)
            digital = np.round(x * 1000).astype(np.int16)
            wfdb.wrsamp(f"{ecg_id:05d}_{suffix}", fs=fs, units=["mV"] * 12,
                        sig_name=list(rec.sig_name), d_signal=digital, fmt=["16"] * 12,
                        adc_gain=[1000.0] * 12, baseline=[0] * 12, write_dir=str(d))
        rows.append({"ecg_id": ecg_id, "patient_id": f"{patient}.0", "age": 60,
                     "scp_codes": repr(codes), "strat_fold": fold,
                     "filename_lr": f"records100/00000/{ecg_id:05d}_lr",
                     "filename_hr": f"records500/00000/{ecg_id:05d}_hr"})
    with open(root / "ptbxl_database.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return root


def write_sph_fixture(root, signals, codes, patients):
    """An SPH-layout folder: ``metadata.csv`` + ``records/<ECG_ID>.h5`` (dataset ``ecg``)."""
    import csv
    from pathlib import Path

    import h5py

    root = Path(root)
    (root / "records").mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (x, code, patient) in enumerate(zip(signals, codes, patients), start=1):
        ecg_id = f"A{i:05d}"
        with h5py.File(root / "records" / f"{ecg_id}.h5", "w") as f:
            f.create_dataset("ecg", data=np.asarray(x, dtype=np.float32))
        rows.append({"ECG_ID": ecg_id, "AHA_Code": code, "Patient_ID": patient, "Age": 50,
                     "Sex": "M", "N": np.shape(x)[1], "Date": "2020-01-01"})
    with open(root / "metadata.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return root


class DevicePipeline(GainPipeline):
    """Like a device stage: keeps leads I, II, V1 and halves the rate (250 Hz from 500 Hz)."""

    output_leads = ("I", "II", "V1")

    def output_sfreq(self, sfreq):
        return sfreq / 2

    def __call__(self, x, sfreq, random_state=None):
        y = super().__call__(x, sfreq, random_state)
        return np.ascontiguousarray(y[:, [0, 1, 6], ::2])
