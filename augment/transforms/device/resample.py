"""Resampling to the device's rate (polyphase, anti-aliased)."""

from __future__ import annotations

import numbers
from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

from augment.base import BaseTransform
from augment.transforms.device import _device


class Resample(BaseTransform):
    """Resample to ``target_sfreq`` with :func:`scipy.signal.resample_poly`.

    Changes the number of samples (``T' = ceil(T·up/down)``) and the rate the rest of the
    pipeline sees (:meth:`output_sfreq`), so it must run with ``p=1``. The polyphase FIR
    (Kaiser window, scipy's default) removes content above the new Nyquist first.

    Parameters
    ----------
    target_sfreq : float or None
        Output rate in Hz. None: the device's ``sfreq`` (no device: the rate is kept).
    device : str or None
        Path of a ``device.yaml``.
    p : float
        Must be 1.0.
    """

    def __init__(self, target_sfreq=None, device=None, p=1.0):
        super().__init__(p=p)
        self.target_sfreq = target_sfreq
        self.device = device

    def target(self, sfreq=None):
        """The output rate in Hz (``sfreq`` itself with neither a target nor a device)."""
        if self.target_sfreq is None and self.device is None:
            return sfreq
        return float(_device.resolve(self, "target_sfreq", self.target_sfreq, self.device,
                                     lambda cfg: cfg.sfreq, "output rate in Hz"))

    def ratio(self, sfreq):
        """``(up, down)`` with ``sfreq·up/down == target`` exactly."""
        if self.target(sfreq) is None or self.target(sfreq) == sfreq:
            return 1, 1
        target = self.target(sfreq)
        frac = Fraction(target / sfreq).limit_denominator(10000)
        if abs(float(frac) * sfreq - target) > 1e-6 * target:
            raise ValueError(f"Resample: cannot express {target} Hz / {sfreq} Hz as a "
                             "ratio of integers up to 10000")
        return frac.numerator, frac.denominator

    def output_sfreq(self, sfreq):
        """The target rate (``sfreq`` when neither a target nor a device is given, or p=0)."""
        if self.p == 0:
            return sfreq
        target = self.target(sfreq)
        return sfreq if target is None else target

    def _validate_params(self, sfreq):
        _device.owner_name_check(self, "target_sfreq", self.target_sfreq)
        if not isinstance(self.p, numbers.Real) or self.p not in (0.0, 1.0):
            raise ValueError(f"Resample: changes the number of samples, so p must be 1.0, "
                             f"got p={self.p!r}")
        self.target(sfreq)
        if sfreq is not None:
            self.ratio(sfreq)

    def apply(self, x, sfreq, params):
        up, down = self.ratio(sfreq)
        if up == down:
            return x
        return np.ascontiguousarray(resample_poly(x, up, down, axis=-1), dtype=np.float32)
