"""PhysioNet/CinC WFDB folders: ``*.hea`` headers with ``# Dx:`` SNOMED-CT codes.

The layout of the PhysioNet/Computing in Cardiology Challenge 2020/2021 training sets (and
of ``../shared/data/cinc2021``): one WFDB record per ECG, a header comment ``# Dx: code,code``
with SNOMED-CT concept ids. These datasets carry no patient ids and no folds, so each record
is its own patient and the fold is a stable hash of the record id (:func:`hash_fold`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from augment.datasets.base import BaseReader, RecordInfo, hash_fold
from shirtecg_common.errors import UserError

_TO_MV = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "v": 1e3, "nv": 1e-6}


def parse_dx(comments) -> tuple:
    """SNOMED-CT codes from WFDB header comments (``Dx: 164889003,59118001``)."""
    for line in comments:
        key, _, value = line.partition(":")
        if key.strip().lower() == "dx":
            return tuple(c.strip() for c in value.split(",") if c.strip())
    return ()


def parse_comment(comments, key):
    """Value of ``key: value`` in WFDB header comments, or None."""
    for line in comments:
        k, _, value = line.partition(":")
        if k.strip().lower() == key.lower():
            return value.strip()
    return None


def read_wfdb_mv(path):
    """Read a WFDB record as ``(signal (n_ch, T) float32 mV, lead names, sfreq)``."""
    import wfdb

    rec = wfdb.rdrecord(str(path))
    signal = rec.p_signal.T.astype(np.float32)
    for i, unit in enumerate(rec.units or []):
        scale = _TO_MV.get(str(unit).strip().lower())
        if scale is None:
            raise UserError(f"{path}: channel {rec.sig_name[i]} has unit {unit!r}; "
                            "expected mV, uV or V")
        if scale != 1.0:
            signal[i] *= scale
    return signal, list(rec.sig_name), float(rec.fs)


class WFDBFolderReader(BaseReader):
    """Reader of a folder (searched recursively) of WFDB records with ``# Dx:`` comments.

    Parameters
    ----------
    root : str | Path
        The folder.
    sfreq : float
        Sampling rate the records must have (CinC 2021: 500 Hz for most tranches).
    duration_s, on_error
        See :class:`~augment.datasets.base.BaseReader`.
    """

    name = "wfdb"

    def __init__(self, root, sfreq=500.0, duration_s=None, on_error="raise"):
        super().__init__(sfreq=sfreq, duration_s=duration_s, on_error=on_error)
        self.root = Path(root)
        if not self.root.is_dir():
            raise UserError(f"wfdb: dataset folder {self.root} not found")

    def _build_index(self):
        import wfdb

        headers = sorted(self.root.rglob("*.hea"))
        if not headers:
            raise UserError(f"wfdb: no WFDB headers (*.hea) under {self.root}")
        infos = []
        for hea in headers:
            stem = hea.with_suffix("")
            record_id = stem.relative_to(self.root).as_posix()
            try:
                header = wfdb.rdheader(str(stem))
            except Exception as err:  # wfdb raises bare Exceptions on bad headers
                if self.on_error == "raise":
                    raise UserError(f"wfdb record {record_id}: unreadable header {hea}: "
                                    f"{err}") from None
                self.skipped.append((record_id, f"unreadable header: {err}"))
                continue
            comments = header.comments or []
            infos.append(RecordInfo(record_id=record_id, patient_id=record_id,
                                    fold=hash_fold(record_id), codes=parse_dx(comments),
                                    source=self.name, location=str(stem)))
        return infos

    def _read_signal(self, info):
        return read_wfdb_mv(info.location)
