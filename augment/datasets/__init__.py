"""Dataset readers (PTB-XL, SPH, PhysioNet/CinC WFDB, synthetic) and label maps.

Every reader yields :class:`Record` objects — record id, patient id, fold, label codes, signal
``(12, T)`` float32 mV, sampling rate — one at a time; :func:`make_reader` builds one by name.
"""

from __future__ import annotations

from augment.datasets.base import (BaseReader, Record, RecordInfo, hash_fold,
                                   parse_folds)
from augment.datasets.labels import (DEFAULT_LABEL_MAP, SYSTEM_OF_SOURCE, LabelMap,
                                     load_label_map)
from augment.datasets.ptbxl import PTBXLReader
from augment.datasets.sph import SPHReader
from augment.datasets.synthetic import CLASSES as SYNTHETIC_CLASSES
from augment.datasets.synthetic import SyntheticReader, synthesize
from augment.datasets.wfdb_folder import WFDBFolderReader
from shirtecg_common.errors import UserError

#: Reader class of each ``--dataset`` name.
READERS = {"ptbxl": PTBXLReader, "sph": SPHReader, "wfdb": WFDBFolderReader,
           "synthetic": SyntheticReader}


def make_reader(dataset, root=None, *, sfreq=500.0, duration_s=None, on_error="raise",
                n_records=100, seed=0, windows=False):
    """Build the reader of ``dataset`` (``ptbxl``, ``sph``, ``wfdb``, ``synthetic``).

    ``root`` is the dataset folder (not used by ``synthetic``); ``n_records`` and ``seed`` only
    apply to ``synthetic`` (whose records are 10 s unless ``duration_s`` says otherwise);
    ``windows`` only to ``sph``.
    """
    if dataset not in READERS:
        raise UserError(f"unknown dataset {dataset!r}; choose from {', '.join(READERS)}")
    if dataset == "synthetic":
        return SyntheticReader(n_records=n_records, sfreq=sfreq,
                               duration_s=10.0 if duration_s is None else duration_s,
                               seed=seed, on_error=on_error)
    if root is None:
        raise UserError(f"dataset {dataset!r} needs --root, the folder holding it")
    if dataset == "sph":
        return SPHReader(root, sfreq=sfreq, duration_s=duration_s, windows=windows,
                         on_error=on_error)
    return READERS[dataset](root, sfreq=sfreq, duration_s=duration_s, on_error=on_error)


__all__ = ["BaseReader", "Record", "RecordInfo", "hash_fold", "parse_folds", "LabelMap",
           "load_label_map", "DEFAULT_LABEL_MAP", "SYSTEM_OF_SOURCE", "PTBXLReader",
           "SPHReader", "WFDBFolderReader", "SyntheticReader", "SYNTHETIC_CLASSES",
           "synthesize", "READERS", "make_reader"]
