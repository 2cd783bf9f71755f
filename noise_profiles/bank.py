"""``NoiseBank``: a long pre-rendered noise record that augmentation crops from."""

from __future__ import annotations

import numpy as np

from shirtecg_common.errors import UserError
from shirtecg_common.random import check_random_state


class NoiseBank:
    """Pre-rendered noise of one activity.

    Cropping is a slice, so drawing thousands of records a second costs almost nothing;
    a crop never wraps around, so it has no seam.

    Parameters
    ----------
    data : ndarray (n_ch, n_bank) float32
        Volts.
    sfreq : float
    ch_names, ch_leads : list
    activity : str
    """

    def __init__(self, data, sfreq, ch_names, ch_leads, activity):
        self.data = np.ascontiguousarray(data, dtype=np.float32)
        self.sfreq = float(sfreq)
        self.ch_names = list(ch_names)
        self.ch_leads = list(ch_leads)
        self.activity = activity

    @property
    def n_times(self) -> int:
        """Length of the bank in samples."""
        return self.data.shape[1]

    def crop(self, n_times, rng=None) -> np.ndarray:
        """A random ``(n_ch, n_times)`` window (a view of the bank: copy before writing)."""
        n_times = int(n_times)
        if not 0 < n_times <= self.n_times:
            raise UserError(
                f"cannot crop {n_times} samples from a noise bank of {self.n_times} samples "
                f"({self.n_times / self.sfreq:g} s at {self.sfreq:g} Hz); make the bank longer "
                "(noise_bank(seconds=...))")
        start = check_random_state(rng).integers(0, self.n_times - n_times + 1)
        return self.data[:, start:start + n_times]

    def __repr__(self):
        return (f"NoiseBank(activity={self.activity!r}, n_ch={self.data.shape[0]}, "
                f"seconds={self.n_times / self.sfreq:g}, sfreq={self.sfreq:g})")
