"""Annotation onsets → sample indices agree with MNE's own ``time_as_index``."""

import datetime

import mne
import numpy as np
import pytest

from noise_profiles.sessions import _ann_to_samples


@pytest.mark.parametrize("meas_date", [None, datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)])
def test_annotation_samples_match_mne_also_after_a_crop(meas_date):
    info = mne.create_info(2, 500.0, "ecg")
    raw = mne.io.RawArray(np.zeros((2, 50_000)), info, verbose="error")
    raw.set_meas_date(meas_date)
    raw.set_annotations(mne.Annotations([1.0013, 20.5, 33.3, 70.0], [2.0, 1.0, 3.0, 0.5],
                                        ["walking", "BAD_acq_gap", "sitting", "rest"],
                                        orig_time=meas_date))
    for r in (raw, raw.copy().crop(10.0, 80.0)):  # a crop moves first_samp
        origin = r.annotations.orig_time
        for onset, duration in zip(r.annotations.onset, r.annotations.duration):
            ref = int(r.time_as_index(onset, use_rounding=True, origin=origin)[0])
            start, stop = _ann_to_samples(r, onset, duration, r.n_times)
            assert start == min(max(ref, 0), r.n_times)
            assert stop - start == min(int(round(duration * 500.0)), r.n_times - start)
