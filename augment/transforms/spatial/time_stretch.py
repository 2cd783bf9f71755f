"""Time stretch / compress with the record length kept."""

from __future__ import annotations

import numpy as np

from augment.base import BaseTransform
from augment.transforms._common import check_pair, resample_rows, signed_uniform


class TimeStretch(BaseTransform):
    """Play the record faster or slower (heart rate and all intervals change together).

    Output sample ``t`` reads the input at ``offset + t * rate`` (linear interpolation),
    with ``rate = 1 + pct/100``: ``rate > 1`` compresses (faster), ``rate < 1`` stretches.
    The length is kept: a stretched record shows a random window of the input; a
    compressed one holds its last sample over the final ``1 - 1/rate`` of the record.

    Parameters
    ----------
    min_stretch_pct, max_stretch_pct : float
        Range of ``|rate - 1|`` in percent; the sign is random (default 5–10 %).
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record: ``rate`` and ``offset_s`` (start of the window read).
    """

    def __init__(self, min_stretch_pct=5.0, max_stretch_pct=10.0, p=0.5):
        super().__init__(p=p)
        self.min_stretch_pct = min_stretch_pct
        self.max_stretch_pct = max_stretch_pct

    def _validate_params(self, sfreq):
        check_pair(self, "min_stretch_pct", self.min_stretch_pct, "max_stretch_pct",
                   self.max_stretch_pct, lower=0.0, upper=50.0)

    def randomize_parameters(self, x, sfreq, rngs):
        rate = 1.0 + signed_uniform(rngs, self.min_stretch_pct, self.max_stretch_pct) / 100.0
        span = (x.shape[-1] - 1) * np.clip(1.0 - rate, 0.0, None)  # unused input, stretch only
        frac = np.array([rng.random() for rng in rngs])
        return {"rate": rate, "offset_s": frac * span / sfreq}

    supports_rows = True  # in place on a pipeline's rows, no subset copy (C2)
    randomize_reads_signal = False

    def apply(self, x, sfreq, params, rows=None):
        rate = np.asarray(params["rate"], dtype=np.float64)[:, None]
        offset = np.asarray(params["offset_s"], dtype=np.float64)[:, None] * sfreq
        pos = offset + np.arange(x.shape[-1], dtype=np.float64)[None, :] * rate
        return resample_rows(x, pos, rows)
