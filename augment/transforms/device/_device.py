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


def resolve(owner, name, explicit, device, getter, what):
    """``explicit`` if given, else ``getter(device_config(device))``; a clear error if neither."""
    if explicit is not None:
        return explicit
    cfg = device_config(device)
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
