"""``device.yaml``: describe a device once (DESIGN §3, COMMON contract).

Example::

    name: shirt-proto           # required
    format: shirt-v1            # required: shirt-v1 | openbci-cyton | ascii
    sfreq: 500                  # required (Hz)
    channels:                   # required: name and the lead it measures (or null)
      - {name: I, lead: I}
      - {name: V1, lead: V1}
    scale: {gain: 6, vref: 2.4} # required: {gain, vref} or {volts_per_count: x | [x, ...]}
    baud: 921600                # optional
    adc_bits: 24                # optional (default 24)
    adc_signed: true            # optional (default true); false: codes 0 … 2**adc_bits - 1
    usb: {vid: "0403", pid: "6015", serial_number: "A1B2"}   # optional, for discovery
    calibration: {...}          # optional, written by ``shirtecg calibrate adc``

Unknown keys and missing fields raise :class:`~shirtecg_common.errors.ConfigError` naming the key,
where it is, and the allowed keys. :attr:`DeviceConfig.volts_per_count` is per channel; measured
(calibrated) values win over the nominal scale.
"""

from __future__ import annotations

import copy
import numbers
from pathlib import Path

import numpy as np

from acquisition.decoders import FORMATS
from acquisition.decoders.base import scale_from_gain
from shirtecg_common.config import check_keys, dump_yaml, load_yaml
from shirtecg_common.errors import ConfigError

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
TOP_KEYS = ("name", "format", "sfreq", "channels", "scale", "baud", "adc_bits", "adc_signed",
            "usb", "calibration")
REQUIRED = ("name", "format", "sfreq", "channels", "scale")
CHANNEL_KEYS = ("name", "lead")
USB_KEYS = ("vid", "pid", "serial_number")
CALIBRATION_KEYS = ("volts_per_count", "offset_counts", "gain_rel_uncertainty", "highpass_hz",
                    "lowpass_hz", "reference")
REFERENCE_KEYS = ("kind", "amplitude_mv", "freq_hz", "session")


class DeviceConfig:
    """A validated device description; build it with :func:`load_device` or :meth:`from_dict`.

    Attributes
    ----------
    name, format : str
    sfreq : float
    channels : list of dict
        ``{"name": str, "lead": str | None}`` per channel.
    scale : dict
        ``{"gain", "vref"}`` or ``{"volts_per_count"}`` as written.
    adc_bits : int
    adc_signed : bool
        True (default): two's-complement codes in ``[-2**(adc_bits-1), 2**(adc_bits-1) - 1]``
        (ADS129x); False: unipolar codes in ``[0, 2**adc_bits - 1]`` (e.g. a 12-bit
        microcontroller ADC behind an AD8232, streamed as ``ascii``). Sets the full scale that
        ``{gain, vref}`` and the recorder's "railed" share refer to.
    baud : int | None
    usb : dict | None
    calibration : dict | None
    """

    def __init__(self, name, format, sfreq, channels, scale, adc_bits=24, baud=None, usb=None,
                 calibration=None, adc_signed=True):
        self.name = name
        self.format = format
        self.sfreq = sfreq
        self.channels = channels
        self.scale = scale
        self.adc_bits = adc_bits
        self.adc_signed = adc_signed
        self.baud = baud
        self.usb = usb
        self.calibration = calibration

    @classmethod
    def from_dict(cls, data, where="device.yaml"):
        """Validate a parsed mapping; errors name the key and ``where``."""
        check_keys(data, allowed=TOP_KEYS, required=REQUIRED, where=where)
        name = _str(data["name"], f"{where}: name")
        fmt = data["format"]
        if fmt not in FORMATS:
            raise ConfigError(f"{where}: format {fmt!r} is not supported; accepted: "
                              f"{', '.join(FORMATS)}")
        sfreq = _positive(data["sfreq"], f"{where}: sfreq")
        channels = _channels(data["channels"], where)
        adc_bits = data.get("adc_bits", 24)
        if not isinstance(adc_bits, int) or isinstance(adc_bits, bool) or not 2 <= adc_bits <= 32:
            raise ConfigError(f"{where}: adc_bits must be an integer in 2…32, got {adc_bits!r}")
        adc_signed = data.get("adc_signed", True)
        if not isinstance(adc_signed, bool):
            raise ConfigError(f"{where}: adc_signed must be true or false, got {adc_signed!r}")
        scale = _scale(data["scale"], len(channels), where)
        baud = data.get("baud")
        if baud is not None:
            baud = int(_positive(baud, f"{where}: baud", integer=True))
        usb = data.get("usb")
        if usb is not None:
            check_keys(usb, allowed=USB_KEYS, where=f"{where}: usb")
            usb = {k: str(v) for k, v in usb.items()}
        cal = data.get("calibration")
        if cal is not None:
            cal = _calibration(cal, len(channels), where)
        return cls(name, fmt, sfreq, channels, scale, adc_bits, baud, usb, cal, adc_signed)

    # -- derived ----------------------------------------------------------------------------------
    @property
    def ch_names(self):
        """Channel names in stream order."""
        return [c["name"] for c in self.channels]

    @property
    def leads(self):
        """The lead each channel measures (None where unknown)."""
        return [c.get("lead") for c in self.channels]

    @property
    def n_channels(self):
        return len(self.channels)

    @property
    def nominal_volts_per_count(self):
        """Volts per count from ``scale`` alone (ignoring calibration)."""
        # signed: vref spans the positive half; unsigned: vref spans all 2**bits codes
        full_scale = 2 ** (self.adc_bits - 1) - 1 if self.adc_signed else 2 ** self.adc_bits - 1
        if "volts_per_count" in self.scale:
            v = np.atleast_1d(np.asarray(self.scale["volts_per_count"], dtype=float))
            return np.repeat(v, self.n_channels) if v.size == 1 else v
        return scale_from_gain(self.scale["gain"], self.scale["vref"], self.n_channels) \
            * (2**23 - 1) / full_scale

    @property
    def volts_per_count(self):
        """Volts per count per channel: calibrated values win over the nominal scale."""
        cal = self.calibration or {}
        if cal.get("volts_per_count") is not None:
            return np.asarray(cal["volts_per_count"], dtype=float)
        return self.nominal_volts_per_count

    @property
    def offset_counts(self):
        """Calibrated offsets per channel (zeros when not calibrated)."""
        cal = self.calibration or {}
        if cal.get("offset_counts") is not None:
            return np.asarray(cal["offset_counts"], dtype=float)
        return np.zeros(self.n_channels)

    def to_dict(self):
        """The YAML mapping (only the keys that are set)."""
        out = {"name": self.name, "format": self.format, "sfreq": _plain(self.sfreq),
               "channels": [dict(c) for c in self.channels], "scale": _plain(self.scale)}
        if self.baud is not None:
            out["baud"] = self.baud
        if self.adc_bits != 24:
            out["adc_bits"] = self.adc_bits
        if not self.adc_signed:
            out["adc_signed"] = False
        if self.usb:
            out["usb"] = dict(self.usb)
        if self.calibration:
            out["calibration"] = _plain(self.calibration)
        return out

    def save(self, path):
        """Validate and write to ``path`` atomically (temp file + rename)."""
        data = self.to_dict()
        DeviceConfig.from_dict(copy.deepcopy(data), where=str(path))
        dump_yaml(data, path)

    def copy(self):
        return DeviceConfig.from_dict(copy.deepcopy(self.to_dict()))

    def __repr__(self):
        return (f"<DeviceConfig {self.name!r} {self.format} {self.sfreq:g} Hz "
                f"{self.n_channels} ch>")


def load_device(path) -> DeviceConfig:
    """Read and validate ``device.yaml``.

    Raises
    ------
    ConfigError
        Missing file, invalid YAML, unknown key, missing field or bad value; the message names
        the key, the file and the accepted keys or values.
    """
    path = Path(path)
    return DeviceConfig.from_dict(load_yaml(path), where=str(path))


def reconcile_info(config, info):
    """Merge a ``shirt-v1`` info frame into ``config``: the device wins, mismatches are reported.

    Parameters
    ----------
    config : DeviceConfig | None
        What device.yaml says (None: build the description from the info frame alone).
    info : dict
        The decoded info frame (``device``, ``firmware``, ``sfreq``, ``channels``, ``gain``,
        ``vref``).

    Returns
    -------
    merged : DeviceConfig
    mismatches : list of str
        One message per field where device.yaml and the device disagree.
    """
    mismatches = []
    channels_info = info.get("channels")
    if config is None:
        names = [c.get("name") if isinstance(c, dict) else str(c) for c in channels_info or []]
        data = {"name": str(info.get("device") or "shirt"), "format": "shirt-v1",
                "sfreq": info.get("sfreq"),
                "channels": [{"name": n, "lead": n if n in LEADS else None} for n in names],
                "scale": {"gain": info.get("gain"), "vref": info.get("vref")}}
        return DeviceConfig.from_dict(data, where="info frame"), mismatches
    data = copy.deepcopy(config.to_dict())
    if info.get("sfreq") is not None and float(info["sfreq"]) != float(config.sfreq):
        mismatches.append(f"sfreq: device.yaml says {config.sfreq:g} Hz, the device "
                          f"{float(info['sfreq']):g} Hz; using the device's")
        data["sfreq"] = info["sfreq"]
    if isinstance(channels_info, list) and channels_info:
        names = [c.get("name") if isinstance(c, dict) else str(c) for c in channels_info]
        if len(names) != config.n_channels:
            mismatches.append(f"channels: device.yaml lists {config.n_channels}, the device "
                              f"{len(names)}; using the device's names")
            data["channels"] = [{"name": n, "lead": n if n in LEADS else None} for n in names]
            data.pop("calibration", None)
            if "volts_per_count" in data["scale"] and "gain" not in info:
                mismatches.append("scale: per-channel volts_per_count no longer fits")
        elif names != config.ch_names:
            mismatches.append(f"channel names: device.yaml {config.ch_names}, device {names}; "
                              "using the device's (leads kept by position)")
            for c, n in zip(data["channels"], names):
                c["name"] = n
    if info.get("gain") is not None and info.get("vref") is not None:
        new = {"gain": info["gain"], "vref": info["vref"]}
        n_ch = len(data["channels"])
        nominal = scale_from_gain(info["gain"], float(info["vref"]), n_ch)
        old = config.nominal_volts_per_count
        if old.shape != nominal.shape or not np.allclose(old, nominal, rtol=1e-9):
            mismatches.append(f"scale: device.yaml {config.scale}, the device {new}; using the "
                              "device's" + (" (calibrated values still win)"
                                            if config.calibration else ""))
        data["scale"] = new
    merged = DeviceConfig.from_dict(data, where="device.yaml + info frame")
    return merged, mismatches


# -- validation helpers ---------------------------------------------------------------------------
def _str(value, where):
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} must be a non-empty string, got {value!r}")
    return value


def _positive(value, where, integer=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and value > 0 \
        and np.isfinite(value) and (not integer or float(value).is_integer())
    if not ok:
        kind = "a positive integer" if integer else "a positive number"
        raise ConfigError(f"{where} must be {kind}, got {value!r}")
    return float(value)


def _channels(channels, where):
    if not isinstance(channels, list) or not channels:
        raise ConfigError(f"{where}: channels must be a non-empty list of {{name, lead}}, "
                          f"got {channels!r}")
    out, seen = [], set()
    for k, ch in enumerate(channels):
        loc = f"{where}: channels[{k}]"
        check_keys(ch, allowed=CHANNEL_KEYS, required=("name",), where=loc)
        name = _str(ch["name"], f"{loc}: name")
        if name in seen:
            raise ConfigError(f"{loc}: duplicate channel name {name!r}")
        seen.add(name)
        lead = ch.get("lead")
        if lead is not None and lead not in LEADS:
            raise ConfigError(f"{loc}: lead {lead!r} is not a lead name; accepted: "
                              f"{', '.join(LEADS)} or null")
        out.append({"name": name, "lead": lead})
    return out


def _per_channel(value, n_ch, where, positive=False):
    arr = np.atleast_1d(np.asarray(value, dtype=object))
    try:
        arr = arr.astype(float)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be numbers, got {value!r}") from None
    if arr.ndim != 1 or arr.size not in (1, n_ch) or not np.all(np.isfinite(arr)) \
            or (positive and np.any(arr <= 0)):
        kind = "positive numbers" if positive else "finite numbers"
        raise ConfigError(f"{where} must be one or {n_ch} (one per channel) {kind}, "
                          f"got {value!r}")
    return arr


def _scale(scale, n_ch, where):
    loc = f"{where}: scale"
    if isinstance(scale, dict) and "volts_per_count" in scale:
        check_keys(scale, allowed=("volts_per_count",), where=loc)
        _per_channel(scale["volts_per_count"], n_ch, f"{loc}: volts_per_count", positive=True)
        return dict(scale)
    check_keys(scale, allowed=("gain", "vref"), required=("gain", "vref"), where=loc)
    _per_channel(scale["gain"], n_ch, f"{loc}: gain", positive=True)
    _positive(scale["vref"], f"{loc}: vref")
    return dict(scale)


def _calibration(cal, n_ch, where):
    loc = f"{where}: calibration"
    check_keys(cal, allowed=CALIBRATION_KEYS, where=loc)
    out = dict(cal)
    for key, positive in (("volts_per_count", True), ("offset_counts", False),
                          ("gain_rel_uncertainty", False)):
        if cal.get(key) is not None:
            arr = _per_channel(cal[key], n_ch, f"{loc}: {key}", positive=positive)
            out[key] = np.broadcast_to(arr, (n_ch,)).tolist()
    for key in ("highpass_hz", "lowpass_hz"):
        if cal.get(key) is not None:
            _positive(cal[key], f"{loc}: {key}")
    if cal.get("reference") is not None:
        check_keys(cal["reference"], allowed=REFERENCE_KEYS, where=f"{loc}: reference")
    return out


def _plain(obj):
    """numpy scalars/arrays → plain Python, for yaml.safe_dump."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
