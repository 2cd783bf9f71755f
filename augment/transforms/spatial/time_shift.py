"""Circular time shift of the whole record."""

from __future__ import annotations

import numpy as np

from augment.transforms._common import check_pair, signed_uniform
from augment.transforms._time_maps import BaseTimeMapTransform
from shirtecg_common.validation import check_option


class TimeShift(BaseTimeMapTransform):
    """Shift all leads together by a whole number of samples.

    Models a different recording start. ``mode="wrap"`` rolls the record (ECG is
    quasi-periodic; the seam looks like a small baseline step), ``mode="edge"`` holds the
    first/last sample over the gap.

    Parameters
    ----------
    min_shift_s, max_shift_s : float
        Range of the shift magnitude in seconds; the sign is random (default 0–1 s).
    mode : {"wrap", "edge"}
        How the samples shifted in are filled.
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record: ``shift_s`` (positive = later).
    """

    def __init__(self, min_shift_s=0.0, max_shift_s=1.0, mode="wrap", p=0.5):
        super().__init__(p=p)
        self.min_shift_s = min_shift_s
        self.max_shift_s = max_shift_s
        self.mode = mode

    def _validate_params(self, sfreq):
        check_pair(self, "min_shift_s", self.min_shift_s, "max_shift_s", self.max_shift_s,
                   lower=0.0)
        check_option(f"{type(self).__name__}: mode", self.mode, ("wrap", "edge"))

    def randomize_parameters(self, x, sfreq, rngs):
        return {"shift_s": signed_uniform(rngs, self.min_shift_s, self.max_shift_s)}

    def apply(self, x, sfreq, params, rows=None):
        n_times = x.shape[-1]
        shifts = np.round(np.asarray(params["shift_s"]) * sfreq).astype(np.intp)
        if rows is None:
            out, rows = np.empty_like(x), range(len(x))
        else:  # in place on x[rows[j]], through a one-record copy of the input
            out, one = x, np.empty(x.shape[1:], dtype=x.dtype)
        for j, i in enumerate(rows):  # one slice copy per record: cheaper than a gather
            if out is x:
                one[...] = x[i]
                src = one
            else:
                src = x[i]
            dst = out[i]
            s = shifts[j]
            s = int(s) % n_times if self.mode == "wrap" else int(np.clip(s, -n_times, n_times))
            if self.mode == "wrap":
                dst[:, s:] = src[:, :n_times - s]
                dst[:, :s] = src[:, n_times - s:]
            elif s >= 0:
                dst[:, s:] = src[:, :n_times - s]
                dst[:, :s] = src[:, :1]
            else:
                dst[:, :n_times + s] = src[:, -s:]
                dst[:, n_times + s:] = src[:, -1:]
        return out

    def time_maps(self, params, n_times, sfreq):
        """A roll (``wrap``) or an edge-holding gather, as :meth:`apply` shifts."""
        shifts = np.round(np.asarray(params["shift_s"]) * sfreq).astype(np.intp)
        if self.mode == "wrap":
            return [("roll", int(s) % n_times) for s in shifts]
        t = np.arange(n_times)
        return [("gather", np.clip(t - int(np.clip(s, -n_times, n_times)), 0, n_times - 1))
                for s in shifts]
