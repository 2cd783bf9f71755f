"""The device's frequency response: Butterworth high-pass and low-pass corners, optional HF shelf."""

from __future__ import annotations

import numbers

import numpy as np
from scipy.signal import bilinear_zpk, butter, sosfilt, sosfilt_zi, sosfiltfilt, zpk2sos

from augment.base import BaseTransform
from augment.transforms.device import _device


class FrequencyResponse(BaseTransform):
    """Filter the independent leads with the device's high-pass and low-pass corners.

    Butterworth sections (:func:`scipy.signal.butter`, SOS form) with −3 dB at
    ``highpass_hz`` and ``lowpass_hz``; causal (:func:`~scipy.signal.sosfilt`, what the device
    does; the state starts settled on the first sample, so there is no start-up transient)
    or zero-phase (:func:`~scipy.signal.sosfiltfilt`; there the order is halved per pass so
    the magnitude at the corner stays −3 dB). Float32 throughout.

    An optional first-order high-frequency shelf models a dry or textile electrode's skin
    interface (R_e ∥ C_e in series with the amplifier's input impedance): a lead–lag network
    ``(1 + s/ωz) / (1 + s/ωp)`` with the zero at ``shelf_hz`` and the pole at
    ``shelf_hz · 10**(shelf_gain_db / 20)``, so the gain is 0 dB at DC and ``shelf_gain_db``
    at high frequency (exactly at Nyquist: bilinear transform with the zero pre-warped).

    Parameters
    ----------
    highpass_hz, lowpass_hz : float or None
        Corners in Hz; None: ``calibration.highpass_hz`` / ``lowpass_hz`` of the device file
        (a corner the device file leaves empty is skipped; with neither a device file nor
        a value the corner is off).
    highpass_order, lowpass_order : int
        Filter orders (default 1 for the AC coupling, 2 for the anti-alias roll-off).
    zero_phase : bool
        Use forward-backward filtering (default False).
    shelf_hz : float or None
        Corner (the zero) of the high-frequency shelf in Hz, below Nyquist; None: no shelf
        (default).
    shelf_gain_db : float
        High-frequency gain of the shelf relative to DC, in dB, 0…12 (default 0: no shelf).
        With ``zero_phase`` each pass gets half of it, so the cascade still reaches it.
    device : str or None
        Path of a ``device.yaml``.
    p : float
        Probability per record (default 1).
    """

    def __init__(self, highpass_hz=None, lowpass_hz=None, highpass_order=1, lowpass_order=2,
                 zero_phase=False, shelf_hz=None, shelf_gain_db=0.0, device=None, p=1.0):
        super().__init__(p=p)
        self.highpass_hz = highpass_hz
        self.lowpass_hz = lowpass_hz
        self.highpass_order = highpass_order
        self.lowpass_order = lowpass_order
        self.zero_phase = zero_phase
        self.shelf_hz = shelf_hz
        self.shelf_gain_db = shelf_gain_db
        self.device = device

    def corners(self):
        """``(highpass_hz, lowpass_hz)``, each None when off."""
        cfg = _device.device_config(self.device)
        cal = (cfg.calibration or {}) if cfg is not None else {}
        hp = self.highpass_hz if self.highpass_hz is not None else cal.get("highpass_hz")
        lp = self.lowpass_hz if self.lowpass_hz is not None else cal.get("lowpass_hz")
        return hp, lp

    def _validate_params(self, sfreq):
        _device.owner_name_check(self, "highpass_hz", self.highpass_hz)
        _device.owner_name_check(self, "lowpass_hz", self.lowpass_hz)
        for name in ("highpass_order", "lowpass_order"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or not 1 <= v <= 8:
                raise ValueError(f"FrequencyResponse: {name} must be an int in 1…8, got {v!r}")
            if self.zero_phase and v % 2:
                raise ValueError(f"FrequencyResponse: zero_phase=True needs an even {name} "
                                 f"(each pass gets half of it), got {v}")
        g = self.shelf_gain_db
        if (not isinstance(g, numbers.Real) or isinstance(g, bool) or not np.isfinite(g)
                or not 0.0 <= g <= _MAX_SHELF_GAIN_DB):
            raise ValueError(f"FrequencyResponse: shelf_gain_db must be a number in "
                             f"0…{_MAX_SHELF_GAIN_DB:g} dB, got {g!r}")
        f = self.shelf_hz
        if f is not None and (not isinstance(f, numbers.Real) or isinstance(f, bool)
                              or not 0.0 < f < sfreq / 2):
            raise ValueError(f"FrequencyResponse: shelf_hz must be None or a frequency in Hz "
                             f"between 0 and Nyquist ({sfreq / 2} Hz), got {f!r}")
        hp, lp = self.corners()
        if lp is not None and lp >= sfreq / 2:
            raise ValueError(f"FrequencyResponse: lowpass_hz ({lp}) must be below Nyquist "
                             f"({sfreq / 2} Hz)")
        if hp is not None and lp is not None and hp >= lp:
            raise ValueError(f"FrequencyResponse: highpass_hz ({hp}) must be below lowpass_hz "
                             f"({lp})")

    def sos(self, sfreq):
        """The second-order sections of the whole response (float64), or None."""
        hp, lp = self.corners()
        div = 2 if self.zero_phase else 1
        parts = []
        if hp is not None:
            parts.append(_butter(self.highpass_order // div, hp, "highpass", sfreq,
                                 2 if self.zero_phase else 1))
        if lp is not None:
            parts.append(_butter(self.lowpass_order // div, lp, "lowpass", sfreq,
                                 2 if self.zero_phase else 1))
        if self.shelf_hz is not None and self.shelf_gain_db > 0:
            parts.append(_shelf(self.shelf_hz, self.shelf_gain_db / (2 if self.zero_phase else 1),
                                sfreq))
        return np.concatenate(parts) if parts else None

    def apply(self, x, sfreq, params):
        sos = self.sos(sfreq)
        if sos is None:
            return x
        sos32 = sos.astype(np.float32)
        if self.zero_phase:
            return np.ascontiguousarray(sosfiltfilt(sos32, x, axis=-1), dtype=np.float32)
        zi = sosfilt_zi(sos).astype(np.float32)  # (n_sections, 2): settled on a unit step
        zi = zi[:, None, None, :] * x[None, :, :, :1]
        out, _ = sosfilt(sos32, x, axis=-1, zi=zi)
        return np.asarray(out, dtype=np.float32)


#: Upper bound of ``shelf_gain_db`` (×4 in amplitude): well above a skin–electrode interface.
_MAX_SHELF_GAIN_DB = 12.0


def _shelf(zero_hz, gain_db, sfreq):
    """One SOS of ``G·(s + ωz)/(s + G·ωz)``: 0 dB at DC, ``gain_db`` at Nyquist."""
    gain = 10.0 ** (gain_db / 20.0)
    wz = 2.0 * sfreq * np.tan(np.pi * zero_hz / sfreq)  # pre-warped: the zero lands at zero_hz
    z, p, k = bilinear_zpk([-wz], [-gain * wz], gain, fs=sfreq)
    return zpk2sos(z, p, k)


def _butter(order, corner, btype, sfreq, passes):
    """Butterworth SOS whose cascade of ``passes`` passes is −3 dB at ``corner``."""
    if passes == 1:
        return butter(order, corner, btype, fs=sfreq, output="sos")
    # |H|² per pass must be 1/√2 at the corner: shift the design corner accordingly
    k = (np.sqrt(2.0) - 1.0) ** (1.0 / (2 * order))  # |H(f)|² = 1/(1 + (f/fc)^2n) = 2^-1/2
    warped = np.tan(np.pi * corner / sfreq)
    design = np.arctan(warped / k if btype == "lowpass" else warped * k) * sfreq / np.pi
    return butter(order, design, btype, fs=sfreq, output="sos")
