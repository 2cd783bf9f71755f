"""Railing: the ADC saturates at its full scale (plus an electrode DC offset)."""

from __future__ import annotations

import numpy as np

from augment import noise_banks as nb
from augment.base import BaseTransform
from augment.transforms._common import check_pair
from augment.transforms.device import _device


class Clip(BaseTransform):
    """Clip each measured channel at ``±full_scale_mv`` after adding its DC offset.

    Electrode half-cell offsets (up to a few hundred mV for dry contacts) sit on top of
    the ECG at the ADC input; when offset + signal pass the full scale the channel rails
    and reads flat. The offset is drawn per independent lead and record, added, the sum
    clipped, and the offset removed again (a recording is high-passed before use), so
    only the railed stretches differ from the input.

    Parameters
    ----------
    full_scale_mv : float or None
        ADC full scale in mV. None: ``volts_per_count · 2**(adc_bits − 1)`` of the device
        (ADS1298, G = 6, Vref 2.4 V: 400 mV, also the default without a device file).
    min_offset_mv, max_offset_mv : float
        Magnitude of the DC offset, random sign (default 0–0: plain clipping).
    device : str or None
        Path of a ``device.yaml``.
    p : float
        Probability per record (default 1).

    Notes
    -----
    Drawn per record: ``offset_mv`` (8 values).
    """

    def __init__(self, full_scale_mv=None, min_offset_mv=0.0, max_offset_mv=0.0, device=None,
                 p=1.0):
        super().__init__(p=p)
        self.full_scale_mv = full_scale_mv
        self.min_offset_mv = min_offset_mv
        self.max_offset_mv = max_offset_mv
        self.device = device

    def limit_mv(self):
        """The full scale in mV."""
        return float(_device.resolve(self, "full_scale_mv", self.full_scale_mv, self.device,
                                     _device.full_scale_mv, "ADC full scale in mV",
                                     default=_device.ADS1298_FULL_SCALE_MV))

    def _validate_params(self, sfreq):
        _device.owner_name_check(self, "full_scale_mv", self.full_scale_mv)
        check_pair(self, "min_offset_mv", self.min_offset_mv, "max_offset_mv",
                   self.max_offset_mv, lower=0.0)
        self.limit_mv()

    def randomize_parameters(self, x, sfreq, rngs):
        u = nb.draw(rngs, 2 * x.shape[1])
        n_leads = x.shape[1]
        sign = np.where(u[:, n_leads:] < 0.5, -1.0, 1.0)
        return {"offset_mv": sign * nb.lerp(u[:, :n_leads], self.min_offset_mv,
                                            self.max_offset_mv)}

    def apply(self, x, sfreq, params):
        limit = np.float32(self.limit_mv())
        offset = params["offset_mv"].astype(np.float32)[:, :, None]
        if not offset.any():
            return np.clip(x, -limit, limit, out=x)
        x += offset
        np.clip(x, -limit, limit, out=x)
        x -= offset
        return x
