"""Writers of one shard of augmented samples: HDF5 shards and PTB-XL-layout WFDB records.

Both write under a temporary name and ``os.replace`` into place, so a file that has its final
name is complete. HDF5 files are written without timestamps (``track_times=False``), so the
same samples give the same bytes.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from shirtecg_common.errors import UserError
from shirtecg_common.files import tmp_name

#: PTB-XL stores 16-bit samples at 1000 adu/mV (1 µV steps, ±32.767 mV).
PTBXL_ADC_GAIN = 1000.0
_INT16_MV = 32767 / PTBXL_ADC_GAIN


class HDF5ShardWriter:
    """Append samples to one HDF5 shard, then :meth:`close` renames it into place.

    Datasets: ``ecg`` ``(n, n_leads, T)`` float32 (attrs ``sfreq``, ``leads``, ``units="mV"``),
    ``labels`` ``(n, n_classes)`` uint8 multi-hot (attr ``classes``), ``fold`` ``(n,)`` int8 and
    ``sample_id`` ``(n,)`` strings, in manifest order.
    """

    def __init__(self, path, *, n_leads, n_times, sfreq, leads, classes):
        import h5py

        self.path = Path(path)
        self.tmp = tmp_name(self.path)
        self._f = h5py.File(self.tmp, "w", libver="latest", track_order=False)
        opts = dict(chunks=True, track_times=False)
        self.ecg = self._f.create_dataset("ecg", shape=(0, n_leads, n_times), dtype="f4",
                                          maxshape=(None, n_leads, n_times or None),
                                          chunks=(1, max(n_leads, 1), max(n_times, 1)),
                                          track_times=False)
        self.ecg.attrs["sfreq"] = float(sfreq)
        self.ecg.attrs["leads"] = list(leads)
        self.ecg.attrs["units"] = "mV"
        n_classes = max(len(classes), 1)
        self.labels = self._f.create_dataset("labels", shape=(0, n_classes), dtype="u1",
                                             maxshape=(None, n_classes), **opts)
        self.labels.attrs["classes"] = list(classes)
        self.fold = self._f.create_dataset("fold", shape=(0,), dtype="i1", maxshape=(None,),
                                           **opts)
        self.sample_id = self._f.create_dataset("sample_id", shape=(0,), maxshape=(None,),
                                                dtype=h5py.string_dtype(), **opts)
        self.n = 0

    def append(self, x, labels, folds, sample_ids):
        """Add ``x`` ``(k, n_leads, T)`` with their multi-hot labels, folds and ids."""
        k = len(x)
        if k == 0:
            return
        if x.shape[1:] != self.ecg.shape[1:]:
            raise UserError(f"{self.path.name}: samples of shape {x.shape[1:]} cannot join "
                            f"samples of shape {self.ecg.shape[1:]} in one shard; records "
                            "differ in length, so pick one length with --duration SECONDS")
        for ds in (self.ecg, self.labels, self.fold, self.sample_id):
            ds.resize(self.n + k, axis=0)
        self.ecg[self.n:self.n + k] = x
        self.labels[self.n:self.n + k] = labels
        self.fold[self.n:self.n + k] = folds
        self.sample_id[self.n:self.n + k] = sample_ids
        self.n += k

    def close(self):
        """Finish the file and rename it to its final name."""
        self._f.close()
        os.replace(self.tmp, self.path)

    def abort(self):
        """Drop the partial file."""
        try:
            self._f.close()
        finally:
            if self.tmp.exists():
                self.tmp.unlink()


def ptbxl_record_names(ecg_id, sfreq_hr):
    """PTB-XL relative record paths ``(filename_lr, filename_hr)`` of ``ecg_id``.

    Like PTB-XL: ``records500/00000/00001_hr`` (folders of 1000 records); the low-rate copy is
    always 100 Hz (``records100/…_lr``).
    """
    folder = f"{(ecg_id // 1000) * 1000:05d}"
    hr_dir = f"records{int(round(sfreq_hr))}"
    return (f"records100/{folder}/{ecg_id:05d}_lr", f"{hr_dir}/{folder}/{ecg_id:05d}_hr")


def write_wfdb_mv(root, relpath, x, sfreq, leads):
    """Write ``x`` ``(n_leads, T)`` mV as a PTB-XL-style WFDB record (format 16, 1000 adu/mV).

    Values beyond ±32.767 mV (16-bit range) are clipped.
    """
    import wfdb

    path = Path(root) / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    signal = np.clip(np.asarray(x, dtype=np.float64).T, -_INT16_MV, _INT16_MV)
    n_leads = signal.shape[1]
    digital = np.round(signal * PTBXL_ADC_GAIN).astype(np.int16)
    wfdb.wrsamp(path.name, fs=float(sfreq), units=["mV"] * n_leads, sig_name=list(leads),
                d_signal=digital, fmt=["16"] * n_leads, adc_gain=[PTBXL_ADC_GAIN] * n_leads,
                baseline=[0] * n_leads, write_dir=str(path.parent))


def write_ptbxl_sample(root, ecg_id, x, sfreq, leads):
    """Write one sample at ``sfreq`` (``…_hr``) and at 100 Hz (``…_lr``); return both names."""
    from scipy.signal import resample_poly

    lr, hr = ptbxl_record_names(ecg_id, sfreq)
    write_wfdb_mv(root, hr, x, sfreq, leads)
    if round(sfreq) == 100:
        lr = hr
    else:
        g = math.gcd(100, int(round(sfreq)))
        x_lr = resample_poly(np.asarray(x, dtype=np.float64), 100 // g, int(round(sfreq)) // g,
                             axis=-1)
        write_wfdb_mv(root, lr, x_lr, 100.0, leads)
    return lr, hr
