"""``shirtecg calibrate adc``: a session FIF in, the device's calibration in ``device.yaml`` out.

The session holds volts (the recorder's nominal scale); dividing by that scale gives back the
ADC counts the fit needs. Only the ``test_signal`` steps are used when the session has them.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from calibration.adc import AdcGainCalibrator
from shirtecg_common.config import load_yaml
from shirtecg_common.errors import UserError

#: Annotation description of test-signal steps in a session.
TEST_SIGNAL_LABEL = "test_signal"


def session_counts(path):
    """ADC counts of a session's test-signal part.

    Returns
    -------
    counts : ndarray, shape (n_channels, n_times)
        NaN where samples were lost.
    sfreq : float
    ch_names : list of str
    nominal : ndarray
        The nominal volts per count the recorder used.
    meta : dict
        The session's description.
    """
    from acquisition.session import read_session

    raw, meta = read_session(path)
    sfreq = float(raw.info["sfreq"])
    data = raw.get_data()
    nominal = np.broadcast_to(np.asarray(meta.get("volts_per_count") or 1.0, float),
                              (data.shape[0],)).copy()
    if not np.all(np.isfinite(nominal) & (nominal > 0)):
        raise UserError(f"{path}: the session's volts_per_count {nominal.tolist()} is not usable")
    spans = [(a["onset"], a["duration"]) for a in raw.annotations
             if a["description"] == TEST_SIGNAL_LABEL]
    if spans:
        # The longest test-signal step (steps are separated by other activities).
        onset, dur = max(spans, key=lambda s: s[1])
        i0 = int(round((onset - raw.first_time) * sfreq))
        data = data[:, max(i0, 0):i0 + int(round(dur * sfreq))]
    return data / nominal[:, None], sfreq, list(raw.ch_names), nominal, meta


def calibrate_session(path, *, amplitude_mv, freq_hz, max_deviation=0.25):
    """Fit an :class:`AdcGainCalibrator` to a session; returns ``(calibrator, meta)``."""
    counts, sfreq, ch_names, nominal, meta = session_counts(path)
    cal = AdcGainCalibrator(amplitude_mv=amplitude_mv, freq_hz=freq_hz,
                            max_deviation=max_deviation)
    cal.fit(counts, sfreq=sfreq, nominal_volts_per_count=nominal, ch_names=ch_names)
    cal.nominal_volts_per_count_ = nominal
    return cal, meta


def calibration_dict(cal, *, reference):
    """The ``calibration:`` mapping of ``device.yaml`` (plain Python values)."""

    def corner(values):
        v = np.asarray(values, float)
        v = v[np.isfinite(v)]
        return None if len(v) == 0 else round(float(np.median(v)), 6)

    return {
        "volts_per_count": [float(f"{v:.9g}") for v in cal.volts_per_count_],
        "offset_counts": [round(float(v), 3) for v in cal.offset_counts_],
        "gain_rel_uncertainty": [float(f"{v:.4g}") for v in cal.gain_rel_uncertainty_],
        "highpass_hz": corner(cal.highpass_hz_),
        "lowpass_hz": corner(cal.lowpass_hz_),
        "reference": reference,
    }


def write_device_calibration(device_path, calibration, *, meta=None):
    """Write ``calibration`` into ``device_path`` atomically, creating the file if needed.

    An existing file keeps every other key; a new one is built from the session's description
    (``meta``). The result is validated with :func:`acquisition.device.load_device` before it
    replaces the old file, so a failure leaves the old file untouched.
    """
    import yaml

    device_path = Path(device_path)
    if device_path.exists():
        doc = load_yaml(device_path)
        if not isinstance(doc, dict):
            raise UserError(f"{device_path}: expected a mapping at the top level")
    else:
        if meta is None:
            raise UserError(f"{device_path} does not exist and no session describes the device")
        doc = _device_from_meta(meta)
    doc["calibration"] = calibration
    tmp = device_path.with_name(f".{device_path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(yaml.safe_dump(doc, sort_keys=False, default_flow_style=None), "utf-8")
        _validate_device(tmp, device_path)
        os.replace(tmp, device_path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return device_path


def _validate_device(tmp, shown_as):
    try:
        from acquisition.device import load_device
    except ImportError:  # the device module is optional for this step
        return
    try:
        load_device(tmp)
    except Exception as err:  # noqa: BLE001 - re-raised with the real file name
        raise UserError(f"{shown_as}: the calibrated device file would be invalid: "
                        f"{str(err).replace(str(tmp), str(shown_as))}") from None


def _device_from_meta(meta):
    vpc = meta.get("volts_per_count") or [1.0]
    channels = [{"name": c.get("name"), "lead": c.get("lead")} for c in meta.get("channels", [])]
    fmt = meta.get("format") or "shirt-v1"
    return {
        "name": str(meta.get("device") or "device"),
        "format": fmt,
        "sfreq": meta.get("sfreq"),
        "channels": channels,
        "scale": {"volts_per_count": float(np.median(vpc))},
    }


def format_table(cal):
    """A plain-text table of the fitted values with uncertainties."""
    nominal = getattr(cal, "nominal_volts_per_count_", None)
    head = (f"{'channel':<8} {'uV/count':>12} {'± rel':>9} {'vs nominal':>11} "
            f"{'offset (counts)':>18} {'HP (Hz) ± ':>17} {'LP (Hz)':>8} {'rise ms':>8} "
            f"{'resid uV':>9} {'glitches':>8}")
    lines = [head, "-" * len(head)]
    for i, name in enumerate(cal.ch_names_):
        vs = "" if nominal is None else f"{(cal.volts_per_count_[i] / nominal[i] - 1):+.3%}"
        lines.append(
            f"{name:<8} {cal.volts_per_count_[i] * 1e6:12.6f} "
            f"{cal.gain_rel_uncertainty_[i]:9.3%} {vs:>11} "
            f"{cal.offset_counts_[i]:10.1f} ± {cal.offset_uncertainty_counts_[i]:5.1f} "
            f"{_hp(cal, i):>17} {_fmt(cal.lowpass_hz_[i], 1):>8} "
            f"{_fmt(cal.rise_time_s_[i] * 1e3, 2):>8} "
            f"{cal.residual_rms_uv_[i]:9.2f} {int(cal.n_outliers_[i]):8d}")
    lines.append(f"square wave measured at {np.median(cal.freq_hz_):.5f} Hz; HP/LP '-' = "
                 "DC-coupled / faster than the sampling resolves")
    return "\n".join(lines)


def _hp(cal, i):
    if not math.isfinite(cal.highpass_hz_[i]):
        return "-"
    return f"{cal.highpass_hz_[i]:.4f} ± {cal.highpass_uncertainty_hz_[i]:.4f}"


def _fmt(v, digits):
    return "-" if not math.isfinite(v) else f"{v:.{digits}f}"


def reference_dict(kind, amplitude_mv, freq_hz, session):
    """The ``calibration.reference`` mapping."""
    return {"kind": kind, "amplitude_mv": float(amplitude_mv), "freq_hz": float(freq_hz),
            "session": str(session)}


def summary_json(cal):
    """Fitted values as JSON text (``--json``)."""
    keys = ("volts_per_count_", "offset_counts_", "gain_rel_uncertainty_", "highpass_hz_",
            "highpass_uncertainty_hz_",
            "lowpass_hz_", "rise_time_s_", "residual_rms_uv_", "freq_hz_", "n_outliers_")
    out = {"channels": cal.ch_names_}
    for k in keys:
        out[k.rstrip("_")] = [None if not np.isfinite(v) else float(v) for v in getattr(cal, k)]
    return json.dumps(out, indent=2)
