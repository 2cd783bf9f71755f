"""Profile files: ``name.yaml`` (metadata, scalars, schema version) + ``name.npz`` (arrays).

Loading checks everything it reads and names the file and the field in every error:
unknown schema version, missing or corrupt ``.npz``, missing arrays, shape mismatches
and non-finite values. Arrays load with ``allow_pickle=False``; YAML with ``safe_load``.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from noise_profiles import envelope, lines, regimes
from shirtecg_common.config import check_keys, dump_yaml, load_yaml
from shirtecg_common.errors import ConfigError

SCHEMA = "shirtecg-noise-profile/6"
#: older schemas still read: /1 has no regimes (loaded with the regime model off), /2 no
#: recorded burst table (bursts then draw their dwell from the quantiles, gain 1), /3 no
#: mains level wander (the line then keeps a constant level), /4 no baseline-wander
#: envelope (the wander then stays stationary), /5 no amplifier rails (nothing is clipped)
OLD_SCHEMAS = ("shirtecg-noise-profile/1", "shirtecg-noise-profile/2",
               "shirtecg-noise-profile/3", "shirtecg-noise-profile/4",
               "shirtecg-noise-profile/5")
SEP = "::"
TOP_KEYS = ("schema", "params", "sfreq", "units", "channels", "provenance", "arrays",
            "content_hash", "activities")
# per-activity array fields and their shapes ("C": channels; letters: shared free sizes)
COMMON_ARRAYS = {
    "rms_v": ("C",), "line_harmonics_hz": ("H",), "line_amplitudes": ("H", "C"),
    "qp_freqs_hz": ("L",), "qp_widths_hz": ("L",), "qp_amplitudes": ("L", "C"),
    "qp_family": ("L",), "qp_harmonic": ("L",),
    "event_kind": ("E",), "event_duration_s": ("E",), "event_mask": ("E", "C"),
    "event_value": ("E", "C"), "event_decay_s": ("E",),
    "env_quantiles": (envelope.N_BANDS, envelope.N_QUANTILES),
    "env_acf": (envelope.N_BANDS, envelope.ACF_LAGS),
    "env_corr": (envelope.N_BANDS, envelope.N_BANDS),
    "env_sigma_ln": (envelope.N_BANDS,), "env_natural_sigma_ln": (envelope.N_BANDS,),
    "regime_dwell_s": (2, regimes.N_DWELL_QUANTILES), "regime_freqs": ("G",),
    "regime_csd": (2, "G", "C", "C"), "regime_bursts": ("B", 7),
    "line_level_psd": (lines.N_LEVEL_FREQS,),
    "env_low_quantiles": (envelope.N_QUANTILES,), "env_low_acf": (envelope.ACF_LAGS,),
    "env_low_sigma_ln": (2,), "rail_v": ("C", 2), "rail_on": ("C", 2),
}
#: fields added by schema /2 (absent from /1 files)
V2_ARRAYS = ("regime_dwell_s", "regime_freqs", "regime_csd")
V2_SCALARS = ("regime_enabled", "regime_fraction")
#: fields added by schema /3
V3_ARRAYS = ("regime_bursts",)
#: fields added by schema /4
V4_ARRAYS = ("line_level_psd",)
#: fields added by schema /5
V5_ARRAYS = ("env_low_quantiles", "env_low_acf", "env_low_sigma_ln")
#: fields added by schema /6
V6_ARRAYS = ("rail_v", "rail_on")
MODEL_ARRAYS = {
    "spectral": {"freqs": ("F",), "csd": ("F", "C", "C")},
    "var": {"var_coefs_high": ("P", "C", "C"), "var_sigma_high": ("C", "C"),
            "var_coefs_low": ("Q", "C", "C"), "var_sigma_low": ("C", "C")},
}
COMMON_SCALARS = ("duration_s", "n_frames", "line_freq_hz", "event_rate_per_s", "env_enabled",
                  *V2_SCALARS)
MODEL_SCALARS = {"spectral": (), "var": ("var_low_sfreq",)}


def npz_path(path) -> Path:
    """The arrays file that goes with a profile YAML."""
    return Path(path).with_suffix(".npz")


def save_profile(profile, path):
    """Write ``path`` (.yaml) and its sibling ``.npz`` atomically; returns the YAML path."""
    path = Path(path)
    if path.suffix not in (".yaml", ".yml"):
        raise ConfigError(f"{path}: a profile is saved as .yaml (plus a sibling .npz)")
    model = profile.model
    arrays, activities = {}, {}
    for act in profile.activities_:
        state = profile.models_[act]
        scalars = {}
        for key, value in state.items():
            if key in COMMON_ARRAYS or key in MODEL_ARRAYS[model]:
                arrays[f"{act}{SEP}{key}"] = np.asarray(value)
            else:
                scalars[key] = float(value)
        activities[act] = scalars
    npz = npz_path(path)
    tmp = npz.with_name(f".{npz.name}.tmp{os.getpid()}.npz")
    try:
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, npz)
    finally:
        if tmp.exists():
            tmp.unlink()
    doc = {
        "schema": SCHEMA,
        "params": {k: (list(v) if isinstance(v, tuple) else v)
                   for k, v in profile.get_params().items()},
        "sfreq": float(profile.sfreq_),
        "units": profile.units_,
        "channels": [{"name": n, "lead": ld} for n, ld in zip(profile.ch_names_,
                                                               profile.ch_leads_)],
        "provenance": profile.provenance_,
        "arrays": npz.name,
        "content_hash": profile.content_hash(),
        "activities": activities,
    }
    dump_yaml(doc, path)
    return path


def load_profile(path):
    """Read a profile written by :meth:`NoiseProfile.save`, checking every field.

    Raises
    ------
    ConfigError
        Unknown schema version, unknown/missing key, missing or corrupt ``.npz``, missing
        array, shape mismatch or non-finite values; the message names file and field.
    """
    from noise_profiles.profile import NoiseProfile

    path = Path(path)
    doc = load_yaml(path)
    check_keys(doc, allowed=TOP_KEYS, required=TOP_KEYS[:-2] + ("activities",), where=str(path))
    if doc["schema"] != SCHEMA and doc["schema"] not in OLD_SCHEMAS:
        raise ConfigError(f"{path}: schema: unknown profile schema version {doc['schema']!r}; "
                          f"this version of shirtecg reads {', '.join((SCHEMA, *OLD_SCHEMAS))}")
    version = int(str(doc["schema"]).rsplit("/", 1)[1])
    try:
        profile = NoiseProfile(**doc["params"])
    except TypeError as err:
        raise ConfigError(f"{path}: params: {err}") from None
    model = profile.model
    if model not in MODEL_ARRAYS:
        raise ConfigError(f"{path}: params.model: {model!r}; accepted: {', '.join(MODEL_ARRAYS)}")
    channels = doc["channels"]
    if not isinstance(channels, list) or not channels:
        raise ConfigError(f"{path}: channels: expected a non-empty list of {{name, lead}}")
    for i, ch in enumerate(channels):
        check_keys(ch, allowed=("name", "lead"), required=("name", "lead"),
                   where=f"{path}: channels[{i}]")
    n_ch = len(channels)
    npz = path.with_name(str(doc["arrays"]))
    arrays = _read_npz(npz)
    if not isinstance(doc["activities"], dict) or not doc["activities"]:
        raise ConfigError(f"{path}: activities: expected a mapping of activity -> scalars")
    models = {}
    for act, scalars in doc["activities"].items():
        where = f"{path}: activities.{act}"
        need = COMMON_SCALARS + MODEL_SCALARS[model]
        if version < 2:
            need = tuple(k for k in need if k not in V2_SCALARS)
        check_keys(scalars, allowed=need, required=need, where=where)
        state = {}
        for key in need:
            value = scalars[key]
            if not isinstance(value, (int, float)) or not np.isfinite(value):
                raise ConfigError(f"{where}.{key}: expected a finite number, got {value!r}")
            state[key] = float(value)
        sizes = {"C": n_ch}
        for key, shape in {**COMMON_ARRAYS, **MODEL_ARRAYS[model]}.items():
            if not ((version < 2 and key in V2_ARRAYS) or (version < 3 and key in V3_ARRAYS)
                    or (version < 4 and key in V4_ARRAYS)
                    or (version < 5 and key in V5_ARRAYS)
                    or (version < 6 and key in V6_ARRAYS)):
                state[key] = _check_array(arrays, npz, act, key, shape, sizes)
        if version < 2:
            state.update(regimes.disabled(n_ch))
        elif version < 3:
            state["regime_bursts"] = regimes.disabled(n_ch)["regime_bursts"]
        models[act] = state
    profile.sfreq_ = float(doc["sfreq"])
    profile.units_ = str(doc["units"])
    profile.ch_names_ = [str(ch["name"]) for ch in channels]
    profile.ch_leads_ = [ch["lead"] for ch in channels]
    profile.provenance_ = list(doc["provenance"] or [])
    profile.models_ = models
    profile.activities_ = list(models)
    profile._cache = {}
    return profile


def _read_npz(npz):
    if not npz.is_file():
        raise ConfigError(f"{npz}: profile arrays file not found (it must sit next to the YAML)")
    try:
        with np.load(npz, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise ConfigError(f"{npz}: corrupt profile arrays file ({err})") from None


def _check_array(arrays, npz, act, key, shape, sizes):
    name = f"{act}{SEP}{key}"
    if name not in arrays:
        raise ConfigError(f"{npz}: field {name!r} is missing")
    a = arrays[name]
    if a.ndim != len(shape):
        raise ConfigError(f"{npz}: field {name!r} has {a.ndim} dimensions, expected {len(shape)}")
    for dim, want in zip(a.shape, shape):
        if isinstance(want, str):
            want = sizes.setdefault(want, dim)
        if dim != want:
            raise ConfigError(f"{npz}: field {name!r} has shape {a.shape}, expected "
                              f"{tuple(sizes.get(s, s) for s in shape)} (channels: {sizes['C']})")
    if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
        raise ConfigError(f"{npz}: field {name!r} holds NaN or infinite values")
    return a
