"""What a stream is: sampling rate, channel names and leads, volts per count.

The values come from several places; this module decides, in one place, which wins
(the recorder uses it live and :mod:`acquisition.session` again when it builds the FIF):

- sampling rate: ``--sfreq`` > the ``shirt-v1`` info frame > ``device.yaml`` > 250 Hz
  for the Cyton;
- channel names: the info frame > ``device.yaml`` > ``ch1…chN``; leads from
  ``device.yaml`` (matched by name, else by position), else the name itself when it is
  a standard lead name (``I``, ``V1``…);
- volts per count: ``--scale`` > a measured ``calibration:`` in ``device.yaml`` > the info
  frame (``vref / gain / (2**23 - 1)``) > ``device.yaml``'s nominal scale > the Cyton
  default (``4.5 / 24 / (2**23 - 1)``).

Every disagreement between the info frame and ``device.yaml`` is reported in
``mismatches`` (and printed by the recorder), never silently resolved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shirtecg_common.errors import UserError

FULL_SCALE_24 = 2 ** 23 - 1
LEAD_NAMES = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
CYTON_VOLTS_PER_COUNT = 4.5 / 24 / FULL_SCALE_24
CYTON_SFREQ = 250.0


@dataclass
class StreamSettings:
    """The resolved description of a stream (see the module docstring for precedence)."""

    sfreq: float
    ch_names: list
    leads: list
    volts_per_count: np.ndarray
    device: str = ""
    firmware: str = ""
    adc_bits: int = 24
    adc_signed: bool = True
    scale_source: str = ""
    mismatches: list = field(default_factory=list)


def device_to_dict(device, path=None) -> dict | None:
    """A JSON-friendly copy of a loaded ``DeviceConfig`` (stored in the journal)."""
    if device is None:
        return None
    calibration = getattr(device, "calibration", None)
    return {
        "path": None if path is None else str(path),
        "name": device.name,
        "format": device.format,
        "sfreq": float(device.sfreq),
        "channels": [dict(c) for c in device.channels],
        "volts_per_count": [float(v) for v in np.asarray(device.volts_per_count, float).ravel()],
        "calibrated": bool(calibration and calibration.get("volts_per_count")),
        "adc_bits": int(getattr(device, "adc_bits", 24) or 24),
        "adc_signed": bool(getattr(device, "adc_signed", True)),
        "baud": getattr(device, "baud", None),
        "usb": getattr(device, "usb", None),
    }


def info_volts_per_count(info, n_channels):
    """Volts per count from a ``shirt-v1`` info frame (``vref / gain / (2**23-1)``), or None."""
    if not info:
        return None
    if info.get("volts_per_count") is not None:
        return _per_channel(info["volts_per_count"], n_channels, "info frame volts_per_count")
    gain, vref = info.get("gain"), info.get("vref")
    if gain is None or vref is None:
        return None
    gain = _per_channel(gain, n_channels, "info frame gain")
    return float(vref) / gain / FULL_SCALE_24


def _per_channel(value, n_channels, what):
    arr = np.asarray(value, dtype=float).ravel()
    if arr.size == 1:
        return np.full(n_channels, arr[0])
    if arr.size != n_channels:
        raise UserError(f"{what} has {arr.size} values for {n_channels} channels")
    return arr


def _info_channel_names(info):
    names = []
    for ch in (info or {}).get("channels") or []:
        names.append(str(ch.get("name")) if isinstance(ch, dict) else str(ch))
    return names


def _info_leads(info):
    """Leads from info-frame channels given as ``{"name", "lead"}`` objects, else None."""
    chans = (info or {}).get("channels") or []
    if not chans or not all(isinstance(ch, dict) and "lead" in ch for ch in chans):
        return None
    return [ch["lead"] if ch["lead"] in LEAD_NAMES else None for ch in chans]


def resolve_settings(fmt, n_channels, *, info=None, device=None, sfreq=None, scale=None):
    """Decide sampling rate, channel names/leads and scale for a stream.

    Parameters
    ----------
    fmt : str
        Stream format (``shirt-v1``, ``openbci-cyton``, ``ascii``).
    n_channels : int
        Channels the decoder found in the stream.
    info : dict | None
        The ``shirt-v1`` info frame.
    device : dict | None
        :func:`device_to_dict` of the ``device.yaml``.
    sfreq, scale : float | None
        Command-line overrides (``--sfreq``, ``--scale`` in V/count).

    Returns
    -------
    settings : StreamSettings

    Raises
    ------
    UserError
        If no sampling rate or scale is known (say which option gives it).
    """
    mismatches = []
    dev_names = [c["name"] for c in device["channels"]] if device else []
    info_names = _info_channel_names(info)
    if info and device:
        if info.get("sfreq") is not None and float(info["sfreq"]) != device["sfreq"]:
            mismatches.append(f"sfreq: info frame {float(info['sfreq']):g} Hz, "
                              f"device.yaml {device['sfreq']:g} Hz (using the info frame)")
        if info_names and info_names != dev_names:
            mismatches.append(f"channels: info frame {info_names}, device.yaml {dev_names} "
                              "(using the info frame's names)")
    if device and len(dev_names) != n_channels:
        mismatches.append(f"channel count: stream has {n_channels}, device.yaml lists "
                          f"{len(dev_names)}")

    rate = sfreq if sfreq is not None else (info or {}).get("sfreq")
    if rate is None and device:
        rate = device["sfreq"]
    if rate is None and fmt == "openbci-cyton":
        rate = CYTON_SFREQ  # the Cyton's fixed serial rate
    if rate is None:
        raise UserError(f"{fmt}: sampling rate unknown; give --sfreq HZ or --device device.yaml")

    if len(info_names) == n_channels:
        names = info_names
    elif len(dev_names) == n_channels:
        names = dev_names
    else:
        names = [f"ch{k + 1}" for k in range(n_channels)]
    lead_of = {c["name"]: c.get("lead") for c in device["channels"]} if device else {}
    if device and all(n in lead_of for n in names):
        leads = [lead_of[n] for n in names]
    elif device and len(dev_names) == n_channels:
        leads = [c.get("lead") for c in device["channels"]]
    elif names == info_names and _info_leads(info) is not None:  # the info frame's own leads
        leads = _info_leads(info)
    else:  # no device.yaml: a channel named like a standard lead measures that lead
        leads = [n if n in LEAD_NAMES else None for n in names]

    dev_vpc = None
    if device:
        values = device["volts_per_count"]
        if len(values) == n_channels or len(set(values)) == 1:  # one scale fits any count
            dev_vpc = _per_channel(values if len(values) == n_channels else values[:1],
                                   n_channels, "device.yaml scale")
    from_info = info_volts_per_count(info, n_channels)
    if from_info is not None and dev_vpc is not None and not device["calibrated"] \
            and not np.allclose(from_info, dev_vpc, rtol=1e-9):
        mismatches.append(f"scale: info frame {from_info[0]:.6g} V/count, device.yaml "
                          f"{dev_vpc[0]:.6g} V/count (using the info frame)")
    if scale is not None:
        vpc, source = np.full(n_channels, float(scale)), "--scale"
    elif dev_vpc is not None and device["calibrated"]:
        vpc, source = dev_vpc, "device.yaml calibration"
    elif from_info is not None:
        vpc, source = from_info, "info frame"
    elif dev_vpc is not None:
        vpc, source = dev_vpc, "device.yaml"
    elif fmt == "openbci-cyton":
        vpc, source = np.full(n_channels, CYTON_VOLTS_PER_COUNT), "Cyton default (gain 24)"
    elif device:
        raise UserError(f"{fmt}: device.yaml gives {len(device['volts_per_count'])} different "
                        f"per-channel scales but the stream has {n_channels} channels; fix "
                        "device.yaml or give --scale VOLTS_PER_COUNT")
    else:
        raise UserError(f"{fmt}: scale unknown; give --scale VOLTS_PER_COUNT or "
                        "--device device.yaml")
    return StreamSettings(
        sfreq=float(rate), ch_names=names, leads=leads, volts_per_count=np.asarray(vpc, float),
        device=str((info or {}).get("device") or (device or {}).get("name") or ""),
        firmware=str((info or {}).get("firmware") or ""),
        adc_bits=int((device or {}).get("adc_bits") or 24),
        adc_signed=bool((device or {}).get("adc_signed", True)),
        scale_source=source, mismatches=mismatches)
