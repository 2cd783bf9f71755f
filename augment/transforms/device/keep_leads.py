"""Output stage: keep only the leads the device measures, in its channel order."""

from __future__ import annotations

import numpy as np

from augment.base import BaseTransform
from augment.leads import DERIVE_MATRIX, LEADS_12
from augment.transforms.device import _device


class KeepDeviceLeads(BaseTransform):
    """Turn the 8 independent leads into the device's channels (``(n, n_channels, T)``).

    Each output channel is the lead it measures (any of the 12, derived exactly from
    I and II where needed). This is an output stage (``keeps_independent_leads = False``):
    it must be the last step of a pipeline, with ``p=1``; ``pipeline.output_leads`` then
    names the channels.

    Parameters
    ----------
    leads : list of str or None
        Lead names to keep, in order. None: the device's channel leads (channels with no
        lead are an error: say which lead they measure in ``device.yaml``); with no device
        file either, the 12 leads.
    device : str or None
        Path of a ``device.yaml``.
    p : float
        Must be 1.0.
    """

    keeps_independent_leads = False

    def __init__(self, leads=None, device=None, p=1.0):
        super().__init__(p=p)
        self.leads = leads
        self.device = device

    @property
    def output_leads(self):
        """Names of the output channels."""
        names = _device.resolve(self, "leads", self.leads, self.device,
                                lambda cfg: cfg.leads, "lead names to keep", default=LEADS_12)
        names = list(names)
        bad = [n for n in names if n not in LEADS_12]  # None: a channel without a lead
        if bad or not names:
            raise ValueError(f"KeepDeviceLeads: leads must be names out of {', '.join(LEADS_12)}"
                             f", got {names!r}")
        return tuple(names)

    def _validate_params(self, sfreq):
        if self.p not in (0.0, 1.0):  # p=0 (switched off) is allowed, partial is not
            raise ValueError(f"KeepDeviceLeads: an output stage must have p=1.0, got {self.p!r}")
        self.output_leads  # noqa: B018 - validates

    def apply(self, x, sfreq, params):
        rows = [LEADS_12.index(n) for n in self.output_leads]
        m = DERIVE_MATRIX[rows].astype(np.float32)
        return np.matmul(m, x)
