"""ADC quantization: round each measured channel to the converter's step."""

from __future__ import annotations

import numpy as np

from augment.base import BaseTransform
from augment.transforms.device import _device


class Quantize(BaseTransform):
    """Round the independent leads to multiples of the ADC step ``volts_per_count`` (in mV).

    Each ADC channel measures one lead differentially, so the independent leads are what
    gets quantized; the derived leads follow exactly. At 24 bits (ADS1298, G = 6:
    48 nV per count) this is far below the noise; it matters for 16-bit or low-gain
    front ends and for checking a pipeline against a device's raw counts.

    Parameters
    ----------
    volts_per_count : float or None
        ADC step in volts (converted to mV here). None: the median of the device's
        ``volts_per_count`` (calibrated values win); without a device file, the ADS1298 at
        gain 6 (2.4 V / 6 / (2²³ − 1) ≈ 47.7 nV).
    device : str or None
        Path of a ``device.yaml``.
    p : float
        Probability per record (a device step: default 1).

    Notes
    -----
    Drawn per record: nothing but ``applied``.
    """

    def __init__(self, volts_per_count=None, device=None, p=1.0):
        super().__init__(p=p)
        self.volts_per_count = volts_per_count
        self.device = device

    def step_mv(self):
        """The quantization step in mV."""
        vpc = _device.resolve(self, "volts_per_count", self.volts_per_count, self.device,
                              _device.volts_per_count, "ADC step in volts",
                              default=_device.ADS1298_VOLTS_PER_COUNT)
        return float(vpc) * 1e3

    def _validate_params(self, sfreq):
        _device.owner_name_check(self, "volts_per_count", self.volts_per_count)
        self.step_mv()

    def apply(self, x, sfreq, params):
        step = self.step_mv()
        # float64 for the division: x/step reaches 2**23 for 24-bit codes
        codes = np.rint(x.astype(np.float64) / step)
        codes *= step
        x[...] = codes
        return x
