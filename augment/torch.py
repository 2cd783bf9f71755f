"""On-the-fly augmentation inside a PyTorch ``DataLoader`` (optional extra ``torch``).

Item ``i`` is copy ``i % copies`` of record ``i // copies``. Its generator is
``record_seed_sequence(seed, record_id, copy)`` at epoch 0 — the very seed ``augment run``
uses, so epoch 0 reproduces the samples written to disk — and
``SeedSequence(seed, spawn_key=(stable_hash(record_id), copy, epoch))`` at later epochs.
The draws therefore depend on the item and the epoch only: not on the worker that loads it,
the worker count or the order, so different workers never repeat each other's augmentations
(the classic bug of forked NumPy global state) and a fixed seed reproduces an epoch.
Call :meth:`AugmentedDataset.set_epoch` each epoch for new draws (as with
``DistributedSampler``).

Example::

    from torch.utils.data import DataLoader
    from augment import load_pipeline
    from augment.datasets import PTBXLReader
    from augment.torch import AugmentedDataset

    ds = AugmentedDataset(PTBXLReader("PTB-XL", sfreq=500), load_pipeline("wearable"),
                          copies=10, seed=0, folds=range(1, 9))
    loader = DataLoader(ds, batch_size=64, shuffle=True, num_workers=4)
    for epoch in range(30):
        ds.set_epoch(epoch)
        for x, y in loader:   # x (64, 12, 5000) float32 mV, y (64, 10) multi-hot
            ...
"""

from __future__ import annotations

import numpy as np

from augment.datasets.labels import SYSTEM_OF_SOURCE, load_label_map
from shirtecg_common.random import record_seed_sequence, stable_hash


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "augment.torch needs PyTorch; install the optional extra: "
            "pip install 'shirtecg[torch]' (it pins torch==2.13.0)") from None
    return torch


def item_seed(seed, record_id, copy, epoch=0) -> np.random.SeedSequence:
    """Seed of one item: the disk run's seed at epoch 0, a fresh one per later epoch."""
    if epoch == 0:
        return record_seed_sequence(seed, record_id, copy)
    return np.random.SeedSequence(int(seed), spawn_key=(stable_hash(record_id), int(copy),
                                                        int(epoch)))


class AugmentedDataset(_torch().utils.data.Dataset):
    """A map-style ``torch`` Dataset of augmented copies of a reader's records.

    Parameters
    ----------
    reader : augment.datasets.BaseReader
        The source records (read lazily, one per item).
    pipeline : augment Pipeline
        Applied to each item with its own seed.
    copies : int
        Augmented copies per record per epoch.
    seed : int
        Seed of the dataset.
    folds : iterable of int | None
        Keep only these folds.
    label_map : LabelMap | None
        Turns codes into the multi-hot target (default: the packaged ten classes).
    epoch : int
        Starting epoch (see :meth:`set_epoch`).

    Items are ``(x, y)``: ``x`` a float32 tensor ``(n_leads, T)`` in mV, ``y`` a float32
    multi-hot tensor ``(n_classes,)``.
    """

    def __init__(self, reader, pipeline, copies, seed, folds=None, label_map=None, epoch=0):
        if int(copies) < 1:
            raise ValueError(f"copies must be >= 1, got {copies}")
        self.reader = reader
        self.pipeline = pipeline
        self.copies = int(copies)
        self.seed = int(seed)
        self.infos = reader.index(list(folds) if folds is not None else None)
        self.label_map = load_label_map() if label_map is None else label_map
        self.system = SYSTEM_OF_SOURCE[reader.name]
        self.epoch = int(epoch)
        self.last_parameters = None

    def set_epoch(self, epoch):
        """Use the draws of epoch ``epoch`` (call before iterating each epoch)."""
        self.epoch = int(epoch)

    def __len__(self):
        return len(self.infos) * self.copies

    def sample(self, index):
        """Item ``index`` as NumPy: ``(x, y, info, copy, parameters)``."""
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items")
        info = self.infos[index // self.copies]
        copy = index % self.copies
        record = self.reader.load(info)
        seeds = [item_seed(self.seed, info.record_id, copy, self.epoch)]
        x = np.asarray(self.pipeline(record.signal[None], record.sfreq, random_state=seeds),
                       dtype=np.float32)[0]
        params = (getattr(self.pipeline, "last_parameters", None) or [{}])[0]
        y = self.label_map.encode(info.codes, self.system)
        return x, y, info, copy, params

    def __getitem__(self, index):
        torch = _torch()
        x, y, _, _, _ = self.sample(int(index))
        return torch.from_numpy(x), torch.from_numpy(y)
