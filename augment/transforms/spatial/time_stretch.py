"""Time stretch / compress with the record length kept."""

from __future__ import annotations

import numpy as np

from augment.transforms._common import check_rate_range, draw_rates, resample_rows
from augment.transforms._time_maps import BaseTimeMapTransform


class TimeStretch(BaseTimeMapTransform):
    """Play the record faster or slower (heart rate and all intervals change together).

    Output sample ``t`` reads the input at ``offset + t * rate`` (linear interpolation),
    with ``rate = 1 + pct/100``: ``rate > 1`` compresses (faster), ``rate < 1`` stretches.
    The length is kept: a stretched record shows a random window of the input; a
    compressed one runs out of input after ``1/rate`` of the record and goes on from the
    record's start (one seam, as a :class:`TimeShift` roll makes).

    Parameters
    ----------
    min_stretch_pct, max_stretch_pct : float
        Range of ``|rate - 1|`` in percent (default 5–10 %); at most 50 %, or 100 % with
        ``direction="faster"`` (a rate of 2 doubles the heart rate).
    direction : {"both", "faster", "slower"}
        ``"both"`` (default) draws the sign at random; ``"faster"`` only compresses (a wearer
        who moves has a higher heart rate than a resting hospital patient), ``"slower"`` only
        stretches.
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record: ``rate`` and ``offset_s`` (start of the window read).
    """

    def __init__(self, min_stretch_pct=5.0, max_stretch_pct=10.0, direction="both", p=0.5):
        super().__init__(p=p)
        self.min_stretch_pct = min_stretch_pct
        self.max_stretch_pct = max_stretch_pct
        self.direction = direction

    def _validate_params(self, sfreq):
        check_rate_range(self, "min_stretch_pct", self.min_stretch_pct, "max_stretch_pct",
                         self.max_stretch_pct, self.direction)

    def randomize_parameters(self, x, sfreq, rngs):
        return draw_rates(rngs, self.min_stretch_pct, self.max_stretch_pct, self.direction,
                          x.shape[-1], sfreq)

    def apply(self, x, sfreq, params, rows=None):
        return resample_rows(x, _positions(params, x.shape[-1], sfreq), rows)

    def time_maps(self, params, n_times, sfreq):
        """Linear interpolation at ``offset + t·rate`` (the taps :meth:`apply` reads).

        Positions in float64 for 16 records at a time (the temporaries stay in cache);
        taps in int32 (half the memory of the maps the fused pass holds).
        """
        rate = np.asarray(params["rate"], dtype=np.float64)
        offset = np.asarray(params["offset_s"], dtype=np.float64) * sfreq
        t = np.arange(n_times, dtype=np.float64)
        pos = np.empty((16, n_times))
        maps = []
        for c0 in range(0, len(rate), len(pos)):
            c1 = min(c0 + len(pos), len(rate))
            p = np.multiply(t, rate[c0:c1, None], out=pos[:c1 - c0])
            p += offset[c0:c1, None]
            _wrap(p, n_times)
            i0 = np.minimum(p.astype(np.int32), n_times - 2)
            p -= i0
            w = p.astype(np.float32)
            i1 = i0 + np.int32(1)
            maps.extend(("interp", i0[j], i1[j], w[j]) for j in range(c1 - c0))
        return maps


def _positions(params, n_times, sfreq):
    """``(n, T)`` float64 input positions read by each output sample."""
    rate = np.asarray(params["rate"], dtype=np.float64)[:, None]
    offset = np.asarray(params["offset_s"], dtype=np.float64)[:, None] * sfreq
    return _wrap(offset + np.arange(n_times, dtype=np.float64)[None, :] * rate, n_times)


def _wrap(pos, n_times):
    """Positions past the last sample go on from the first one (in place; rate <= 2).

    A compressed record runs out of input: it continues from the record's start, one seam
    as :class:`TimeShift`'s roll makes, instead of a flat hold that no device records.
    """
    end = n_times - 1
    pos[pos > end] -= end
    return pos
