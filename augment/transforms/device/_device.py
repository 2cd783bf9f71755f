"""Read the numbers a device step needs from a ``device.yaml`` (cached per file version)."""

from __future__ import annotations

import functools
import os

import numpy as np


def device_config(device):
    """``None`` → None; a path → :class:`acquisition.device.DeviceConfig`; a config → itself."""
    if device is None or hasattr(device, "channels"):
        return device
    path = os.fspath(device)
    return _load(path, os.stat(path).st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _load(path, mtime_ns):
    from acquisition.device import load_device

    return load_device(path)


#: ADS1298 at gain 6, Vref 2.4 V: the default front end when no device file is given.
ADS1298_VOLTS_PER_COUNT = 2.4 / 6 / (2**23 - 1)
ADS1298_FULL_SCALE_MV = 2.4 / 6 * 1e3


def resolve(owner, name, explicit, device, getter, what, default=None):
    """``explicit`` if given, else ``getter(device_config(device))``, else ``default``.

    A device file that lacks the value is an error (it names the file); no device file and
    no default is an error too.
    """
    if explicit is not None:
        return explicit
    cfg = device_config(device)
    if cfg is None and default is not None:
        return default
    value = getter(cfg) if cfg is not None else None
    if value is None:
        where = f"the device file {os.fspath(device)!r}" if cfg is not None else "no device file"
        raise ValueError(
            f"{type(owner).__name__}: {name} is not set and {where} gives none; pass {name}= "
            f"(the {what}) or device='device.yaml'"
        )
    return value


def volts_per_count(cfg):
    """Median volts per count over the device's channels (calibrated values win)."""
    return float(np.median(cfg.volts_per_count))


def full_scale_mv(cfg):
    """ADC full scale in mV: ``volts_per_count · 2**(adc_bits − 1)``."""
    return volts_per_count(cfg) * 2 ** (int(cfg.adc_bits) - 1) * 1e3


def calibration_value(key):
    """Getter of ``calibration[key]`` (None when the device is not calibrated)."""
    def get(cfg):
        return (cfg.calibration or {}).get(key)
    return get


def owner_name_check(owner, name, value, *, positive=True):
    """Validate a scalar number parameter that may be None (filled from the device)."""
    import numbers

    if value is None:
        return
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not np.isfinite(value) \
            or (positive and value <= 0):
        raise ValueError(f"{type(owner).__name__}: {name} must be a positive number or None "
                         f"(taken from the device file), got {value!r}")
