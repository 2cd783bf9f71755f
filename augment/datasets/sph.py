"""SPH (Shandong Provincial Hospital 12-lead ECG database): ``metadata.csv`` + ``records/*.h5``.

Layout assumed (Liu H. et al., "A large-scale multi-label 12-lead electrocardiogram database
with standardized diagnostic statements", Sci Data 9:272, 2022; figshare files ``metadata.csv``,
``code.csv``, ``records.tar``; the column names as read by torch_ecg's SPH reader):

* ``metadata.csv`` columns ``ECG_ID`` (e.g. ``A00001``), ``AHA_Code``, ``Patient_ID``, ``Age``,
  ``Sex``, ``N`` (number of samples), ``Date``. ``AHA_Code`` lists statements separated by
  ``;``; a statement may carry modifiers joined with ``+`` in either order (``50+346``,
  ``332+160``). Primary statements are < 200, secondary 200–299, modifiers 300–399
  (Mason et al., Circulation 115:1325, 2007).
* ``records/<ECG_ID>.h5``: dataset ``ecg`` of shape ``(12, N)`` in mV, lead order
  I II III aVR aVL aVF V1–V6, 500 Hz, N from 5000 to 30000 (10–60 s).

Label codes are kept as the dataset writes them, one per statement (``"145+363"``); the label
map matches a statement by its primary code and, optionally, a required modifier.
SPH has no folds: the fold is a stable hash of ``Patient_ID``.

Variable lengths: with ``duration_s`` each record is cropped to its first ``duration_s`` seconds
(``windows=False``) or cut into consecutive non-overlapping windows of ``duration_s`` seconds
(``windows=True``, record ids ``A00001_w0``, ``A00001_w1``…, all in the patient's fold).
"""

from __future__ import annotations

import csv
from pathlib import Path

from augment.datasets.base import BaseReader, RecordInfo, hash_fold
from augment.leads import LEADS_12
from shirtecg_common.errors import UserError

REQUIRED_COLUMNS = ("ECG_ID", "AHA_Code", "Patient_ID", "N")


def parse_aha_codes(text) -> tuple:
    """Split an SPH ``AHA_Code`` cell into statements: ``"22;145+363"`` → ``("22", "145+363")``.
    """
    return tuple(s.strip().replace(" ", "") for s in str(text).split(";") if s.strip())


class SPHReader(BaseReader):
    """Reader of the SPH database folder.

    Parameters
    ----------
    root : str | Path
        Folder holding ``metadata.csv`` and ``records/``.
    sfreq : float
        500 (the database's only rate).
    duration_s : float | None
        Crop (or window) length in seconds; None keeps the native length (10–60 s).
    windows : bool
        Cut each record into consecutive ``duration_s`` windows instead of cropping.
    on_error
        See :class:`~augment.datasets.base.BaseReader`.
    """

    name = "sph"

    def __init__(self, root, sfreq=500.0, duration_s=None, windows=False, on_error="raise"):
        super().__init__(sfreq=sfreq, duration_s=duration_s, on_error=on_error)
        if windows and duration_s is None:
            raise UserError("sph: windows=True needs a window length (duration_s / --duration)")
        self.windows = windows
        self.root = Path(root)
        self.metadata = self.root / "metadata.csv"
        if not self.metadata.is_file():
            raise UserError(f"sph: {self.metadata} not found (is --root the SPH folder?)")

    def _build_index(self):
        infos = []
        with open(self.metadata, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise UserError(f"{self.metadata}: missing column {missing[0]!r}; "
                                f"needs {', '.join(REQUIRED_COLUMNS)}")
            for line, row in enumerate(reader, start=2):
                ecg_id = row["ECG_ID"].strip()
                patient = row["Patient_ID"].strip()
                codes = parse_aha_codes(row["AHA_Code"])
                location = str(self.root / "records" / f"{ecg_id}.h5")
                try:
                    n = int(float(row["N"]))
                except ValueError:
                    raise UserError(f"{self.metadata} line {line}: N {row['N']!r} is not a "
                                    "number of samples") from None
                if not self.windows:
                    infos.append(RecordInfo(ecg_id, patient, hash_fold(patient), codes,
                                            self.name, location))
                    continue
                width = int(round(self.duration_s * self.sfreq))
                for w in range(n // width):
                    infos.append(RecordInfo(f"{ecg_id}_w{w}", patient, hash_fold(patient),
                                            codes, self.name, location, start=w * width))
        return infos

    def _read_signal(self, info):
        import h5py

        path = Path(info.location)
        if not path.is_file():
            raise UserError(f"sph record {info.record_id}: {path} not found")
        with h5py.File(path, "r") as f:
            if "ecg" not in f:
                raise UserError(f"sph record {info.record_id}: {path} has no 'ecg' dataset "
                                f"(found {', '.join(f.keys()) or 'nothing'})")
            ds = f["ecg"]
            if self.windows:
                width = int(round(self.duration_s * self.sfreq))
                signal = ds[:, info.start:info.start + width]
            elif self.duration_s is not None:
                signal = ds[:, :int(round(self.duration_s * self.sfreq))]
            else:
                signal = ds[()]
        leads = list(LEADS_12) if signal.shape[0] == 12 else [f"ch{i}" for i in
                                                               range(signal.shape[0])]
        return signal, leads, self.sfreq
