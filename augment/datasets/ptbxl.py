"""PTB-XL: ``ptbxl_database.csv`` plus WFDB records in ``records100/`` or ``records500/``.

Columns used (PTB-XL 1.0.x, Wagner et al., Sci Data 7:154, 2020): ``ecg_id``, ``patient_id``,
``scp_codes`` (a Python dict literal ``{"NORM": 100.0, "SR": 0.0}``, statement → likelihood),
``strat_fold`` (1–10, patient-wise) and ``filename_lr`` / ``filename_hr`` (record paths for the
100 Hz and 500 Hz versions, relative to the dataset folder). Every statement in ``scp_codes`` is
kept as a label code whatever its likelihood (rhythm and form statements carry 0.0).
"""

from __future__ import annotations

import ast
import csv
from pathlib import Path

from augment.datasets.base import BaseReader, RecordInfo
from augment.datasets.wfdb_folder import read_wfdb_mv
from shirtecg_common.errors import UserError

REQUIRED_COLUMNS = ("ecg_id", "patient_id", "scp_codes", "strat_fold", "filename_lr",
                    "filename_hr")


def parse_scp_codes(text, where="scp_codes") -> dict:
    """Parse a ``scp_codes`` cell (a dict literal) safely with :func:`ast.literal_eval`."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise UserError(f"{where}: not a dict literal: {text!r}") from None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise UserError(f"{where}: expected a dict of SCP statement -> likelihood, got {text!r}")
    return value


def _id_text(value):
    """``"17.0"`` → ``"17"`` (pandas writes PTB-XL's patient ids as floats)."""
    try:
        f = float(value)
    except ValueError:
        return str(value)
    return str(int(f)) if f.is_integer() else str(value)


class PTBXLReader(BaseReader):
    """Reader of a PTB-XL folder (or anything laid out like it).

    Parameters
    ----------
    root : str | Path
        The folder holding ``ptbxl_database.csv``.
    sfreq : float
        Which version to read: 100 reads ``filename_lr`` (``records100/``), any other rate
        ``filename_hr`` (``records500/`` in PTB-XL; augmented PTB-XL-layout output may hold
        another device rate there). Records at another rate are errors.
    duration_s, on_error
        See :class:`~augment.datasets.base.BaseReader`.
    """

    name = "ptbxl"

    def __init__(self, root, sfreq=500.0, duration_s=None, on_error="raise"):
        super().__init__(sfreq=sfreq, duration_s=duration_s, on_error=on_error)
        self.root = Path(root)
        self.database = self.root / "ptbxl_database.csv"
        if not self.database.is_file():
            raise UserError(f"ptbxl: {self.database} not found (is --root the PTB-XL folder?)")

    def _build_index(self):
        column = "filename_lr" if self.sfreq == 100.0 else "filename_hr"
        infos = []
        with open(self.database, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise UserError(f"{self.database}: missing column {missing[0]!r}; "
                                f"needs {', '.join(REQUIRED_COLUMNS)}")
            for line, row in enumerate(reader, start=2):
                where = f"{self.database} line {line}"
                record_id = _id_text(row["ecg_id"])
                try:
                    fold = int(float(row["strat_fold"]))
                except ValueError:
                    raise UserError(f"{where}: strat_fold {row['strat_fold']!r} is not a "
                                    "number") from None
                codes = tuple(parse_scp_codes(row["scp_codes"], where=f"{where} scp_codes"))
                infos.append(RecordInfo(record_id=record_id,
                                        patient_id=_id_text(row["patient_id"]), fold=fold,
                                        codes=codes, source=self.name,
                                        location=str(self.root / row[column])))
        infos.sort(key=lambda i: (int(i.record_id) if i.record_id.isdigit() else 0,
                                  i.record_id))
        return infos

    def _read_signal(self, info):
        if not Path(info.location + ".hea").is_file():
            raise UserError(f"ptbxl record {info.record_id}: {info.location}.hea not found")
        return read_wfdb_mv(info.location)
