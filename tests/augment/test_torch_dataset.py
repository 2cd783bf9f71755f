"""``augment.torch.AugmentedDataset`` inside a real ``DataLoader`` with worker processes."""

from __future__ import annotations

import numpy as np
import pytest
from dataset_helpers import GainPipeline

from augment.datasets import SyntheticReader
from shirtecg_common.random import record_seed_sequence

torch = pytest.importorskip("torch", reason="the optional 'torch' extra is not installed")

from augment.torch import AugmentedDataset  # noqa: E402


def _epoch(ds, num_workers):
    loader = torch.utils.data.DataLoader(ds, batch_size=3, shuffle=False,
                                         num_workers=num_workers)
    xs, ys = zip(*loader)
    return torch.cat(xs).numpy(), torch.cat(ys).numpy()


def test_workers_draw_distinct_reproducible_augmentations():
    reader = SyntheticReader(4, duration_s=1)
    ds = AugmentedDataset(reader, GainPipeline(), copies=3, seed=5)
    assert len(ds) == 12
    x0, y0 = _epoch(ds, num_workers=0)
    x2, y2 = _epoch(ds, num_workers=2)  # items split over two worker processes
    assert x2.shape == (12, 12, 500) and x2.dtype == np.float32
    np.testing.assert_array_equal(x0, x2)  # the worker count changes nothing
    np.testing.assert_array_equal(y0, y2)
    # Items loaded by different workers (batches 0 and 1) differ: same record, other copy.
    gains = [np.median(x2[i] / reader.load("syn000000").signal) for i in range(3)]
    assert len({round(float(g), 4) for g in gains}) == 3
    # A fixed seed reproduces an epoch; another epoch draws anew; set_epoch(0) goes back.
    x_again, _ = _epoch(AugmentedDataset(reader, GainPipeline(), copies=3, seed=5), 2)
    np.testing.assert_array_equal(x_again, x0)
    ds.set_epoch(1)
    x1, _ = _epoch(ds, 0)
    assert not np.allclose(x1, x0)
    ds.set_epoch(0)
    np.testing.assert_array_equal(_epoch(ds, 0)[0], x0)
    # Epoch 0 equals what `augment run` writes (same per-record seeds).
    ref = GainPipeline()(reader.load("syn000001").signal[None], 500.0,
                         random_state=[record_seed_sequence(5, "syn000001", 2)])[0]
    np.testing.assert_array_equal(x0[1 * 3 + 2], ref)
    assert y0[3].tolist() == [0, 1] + [0] * 8  # syn000001 is AF


def test_index_errors_and_folds():
    reader = SyntheticReader(6, duration_s=1)
    ds = AugmentedDataset(reader, GainPipeline(), copies=2, seed=0, folds=[reader.index()[0].fold])
    assert len(ds) == 2 * sum(1 for i in reader.index() if i.fold == reader.index()[0].fold)
    with pytest.raises(IndexError):
        ds[len(ds)]
    with pytest.raises(ValueError, match="copies must be >= 1"):
        AugmentedDataset(reader, GainPipeline(), copies=0, seed=0)
