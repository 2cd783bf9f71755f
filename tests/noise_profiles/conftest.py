"""Fixtures: short emulator-like noise sessions written as real FIF files."""

from __future__ import annotations

import mne
import numpy as np
import pytest
from np_sessions import CH, SFREQ, session_pair

from noise_profiles.sessions import make_raw
from noise_profiles.simulate import activity_noise


@pytest.fixture(scope="session")
def two_activity_fif(tmp_path_factory):
    """A FIF session with rest + walking, a NaN gap under BAD_acq_gap, and its held-out twin."""
    d = tmp_path_factory.mktemp("sessions")
    paths = []
    x = np.concatenate([activity_noise(a, 3, int(80 * SFREQ), SFREQ, random_state=5)
                        for a in ("rest", "walking")], axis=1)
    rest, walk = x[:, : int(80 * SFREQ)], x[:, int(80 * SFREQ):]
    for k, sl in enumerate((slice(0, int(40 * SFREQ)), slice(int(40 * SFREQ), None))):
        data = np.concatenate([rest[:, sl], walk[:, sl]], axis=1)
        n = data.shape[1] // 2
        raw = make_raw(data, SFREQ, None, CH, CH)
        onsets, durs, descs = [0.0, n / SFREQ], [n / SFREQ, n / SFREQ], ["rest", "walking"]
        if k == 0:   # a gap in the fitting session: 0.5 s of NaN under BAD_acq_gap
            g0 = int(10 * SFREQ)
            raw._data[:, g0:g0 + int(0.5 * SFREQ)] = np.nan
            onsets.append(g0 / SFREQ)
            durs.append(0.5)
            descs.append("BAD_acq_gap")
        raw.set_annotations(mne.Annotations(onsets, durs, descs))
        p = d / f"s{k}_raw.fif"
        raw.save(p, verbose="error")
        paths.append(p)
    return paths


@pytest.fixture(scope="session")
def walking_profile():
    """A fitted spectral profile (walking) and its held-out session."""
    from noise_profiles import fit

    train, test = session_pair("walking", seconds=240, seed=1)
    return fit(train), train, test
