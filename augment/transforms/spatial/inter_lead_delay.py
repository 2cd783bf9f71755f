"""Fractional timing delays between independent leads."""

from __future__ import annotations

import numpy as np

from augment.base import BaseTransform
from augment.leads import INDEPENDENT_LEADS
from augment.transforms._common import (
    check_count,
    check_leads,
    check_pair,
    distinct_choice,
    interp_batch,
    signed_uniform,
)


class InterLeadDelay(BaseTransform):
    """Delay some independent leads against the others by a fraction of a second.

    Models devices whose channels are not sampled together (multiplexed ADCs, separate
    wireless sensors). A simultaneous-sampling front end such as the ADS1298 has no such
    skew, so keep ``p`` low (or 0) for those devices. The derived leads follow I and II.
    Delays use linear interpolation (a half-sample shift attenuates 40 Hz at 500 Hz by
    3 %); samples shifted in hold the edge value.

    Parameters
    ----------
    min_delay_ms, max_delay_ms : float
        Range of the delay magnitude in ms; the sign is random (default 10–50 ms).
    n_leads : int or (int, int)
        How many leads are delayed per record (a range is drawn uniformly).
    leads : list of str
        Leads that may be delayed (default all eight independent leads).
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record: ``delay_ms`` (8 values, 0 for leads left alone).
    """

    def __init__(self, min_delay_ms=10.0, max_delay_ms=50.0, n_leads=1,
                 leads=INDEPENDENT_LEADS, p=0.5):
        super().__init__(p=p)
        self.min_delay_ms = min_delay_ms
        self.max_delay_ms = max_delay_ms
        self.n_leads = n_leads
        self.leads = leads

    def _validate_params(self, sfreq):
        check_pair(self, "min_delay_ms", self.min_delay_ms, "max_delay_ms", self.max_delay_ms,
                   lower=0.0, upper=1000.0)
        idx = check_leads(self, "leads", self.leads, INDEPENDENT_LEADS)
        check_count(self, "n_leads", self.n_leads, len(idx))

    def randomize_parameters(self, x, sfreq, rngs):
        idx = check_leads(self, "leads", self.leads, INDEPENDENT_LEADS)
        lo, hi = check_count(self, "n_leads", self.n_leads, len(idx))
        delays = np.zeros((len(rngs), len(INDEPENDENT_LEADS)))
        for i, rng in enumerate(rngs):
            chosen = distinct_choice(rng, idx, rng.integers(lo, hi + 1))
            delays[i, chosen] = signed_uniform([rng], self.min_delay_ms, self.max_delay_ms,
                                               len(chosen))[0]
        return {"delay_ms": delays}

    supports_rows = True  # in place on a pipeline's rows: no copy of the selected records
    randomize_reads_signal = False

    def apply(self, x, sfreq, params, rows=None):
        delay = np.asarray(params["delay_ms"], dtype=np.float64) * (sfreq / 1000.0)
        rec, lead = np.nonzero(delay)
        if len(rec) == 0:
            return x
        target = rec if rows is None else np.asarray(rows)[rec]
        series = x[target, lead][:, None, :]
        pos = np.arange(x.shape[-1], dtype=np.float64)[None, :] - delay[rec, lead][:, None]
        x[target, lead] = interp_batch(series, pos[:, None, :])[:, 0]
        return x
