"""The synthetic dipole generator: deterministic, exact lead algebra, classes that differ."""

from __future__ import annotations

import numpy as np
from scipy.signal import find_peaks

from augment.datasets import SyntheticReader, synthesize
from augment.leads import LEADS_12, algebra_error


def _rr(x, sfreq):
    """R-peak intervals of lead II by an independent peak picker."""
    lead = x[LEADS_12.index("II")]
    peaks, _ = find_peaks(lead, height=0.5 * lead.max(), distance=int(0.3 * sfreq))
    return np.diff(peaks) / sfreq


def test_deterministic_per_record_and_seed():
    a = SyntheticReader(12, seed=3)
    b = SyntheticReader(12, seed=3)
    c = SyntheticReader(12, seed=4)
    ra, rb, rc = a.load("syn000005"), b.load("syn000005"), c.load("syn000005")
    assert np.array_equal(ra.signal, rb.signal)
    assert not np.allclose(ra.signal, rc.signal)
    assert ra.signal.shape == (12, 5000) and ra.signal.dtype == np.float32
    assert algebra_error(ra.signal) < 1e-5
    # Two records per patient, same fold.
    infos = a.index()
    assert infos[4].patient_id == infos[5].patient_id and infos[4].fold == infos[5].fold


def test_classes_have_their_ecg_features():
    sfreq = 500.0
    feats = {}
    for name in ("normal", "af", "lbbb", "ste", "iavb"):
        rr_cv, qrs_ms, st_v2, pr_ms = [], [], [], []
        for k in range(6):
            x = synthesize(name, np.random.default_rng(k), sfreq, 5000)
            rr = _rr(x, sfreq)
            rr_cv.append(rr.std() / rr.mean())
            # QRS width: time V6 spends above 25 % of its peak around the first beat.
            v6 = np.abs(x[LEADS_12.index("V6")])
            peak = int(np.argmax(v6[:2000]))
            seg = v6[peak - 100:peak + 100] > 0.25 * v6[peak]
            qrs_ms.append(seg.sum() / sfreq * 1000)
            # ST level in V2, 120 ms after the R peak of lead II, relative to the record median.
            ii = x[LEADS_12.index("II")]
            r_peaks, _ = find_peaks(ii, height=0.5 * ii.max(), distance=150)
            v2 = x[LEADS_12.index("V2")]
            st_v2.append(np.mean(v2[r_peaks[1:-1] + 60]) - np.median(v2))
        feats[name] = (np.median(rr_cv), np.median(qrs_ms), np.median(st_v2))
    assert feats["af"][0] > 3 * feats["normal"][0]  # irregular RR
    assert feats["lbbb"][1] > 1.5 * feats["normal"][1]  # wide QRS
    assert feats["ste"][2] > feats["normal"][2] + 0.15  # ST elevation in V2 (mV)


def test_batched_records_equal_records_built_alone():
    reader = SyntheticReader(40, duration_s=3, seed=5)
    infos = reader.index()
    batch = reader.load_many(infos[:23])
    other = reader.load_many(infos[7:40])  # other neighbours, other positions
    base = batch[0].signal.base
    assert base.shape == (23, 12, 1500) and all(r.signal.base is base for r in batch)
    for k in range(7, 23):
        alone = reader.load(infos[k])
        assert np.array_equal(batch[k].signal, alone.signal)
        assert np.array_equal(other[k - 7].signal, alone.signal)
        assert batch[k].info == alone.info and batch[k].sfreq == 500.0
    # Every class is in there (AF f-waves, ectopic templates): check one of each alone.
    assert {i.location for i in infos[7:23]} == set(reader.classes)
    assert reader.load_many([]) == []


def test_a_broken_record_in_a_batch_is_named_or_skipped(monkeypatch):
    import pytest

    from augment.datasets import synthetic
    from shirtecg_common.errors import UserError

    names, (t_s, width_s, amp, dirs) = synthetic._CLASS_SHAPES["af"]
    monkeypatch.setitem(synthetic._CLASS_SHAPES, "af", (names, (t_s, 0 * width_s, amp, dirs)))
    with np.errstate(divide="ignore", invalid="ignore"):
        reader = SyntheticReader(4, duration_s=1, on_error="skip")
        records = reader.load_many(reader.index())
        assert [r is None for r in records] == [False, True, False, False]
        assert reader.skipped[0][0] == "syn000001"
        with pytest.raises(UserError, match="synthetic record syn000001: a beat template"):
            SyntheticReader(4, duration_s=1).load_many(reader.index())
