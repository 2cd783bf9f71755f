"""Pipelines to and from plain dicts / YAML, presets, and attaching a fitted noise profile.

YAML format (``format_version: 1``; every key but ``transforms`` optional)::

    format_version: 1
    name: displacement
    description: electrode displacement and body habitus on top of base
    recommended_copies: [5, 10]
    transforms:                      # steps, run in order
      - class: TimeShift             # a registered transform class
        name: time_shift             # optional; default: snake_case class name
        params: {p: 0.5, max_shift_s: 1.0}
      - class: OneOf                 # compositions nest their own transforms
        params: {weights: [2, 1]}
        transforms:
          - {class: LeadVectorRotation, params: {p: 1.0}}
          - {class: HeartAxisRotation, params: {p: 1.0}}
    tunable:                         # what calibration may tune, with search ranges
      time_shift__max_shift_s: [0.0, 2.0]

Unknown keys, classes or parameters raise :class:`~shirtecg_common.errors.ConfigError`
naming them, where they are and what is allowed. Files are read with ``yaml.safe_load``.
A step's ``profile`` is written as its path when it was given one, and as ``null`` when it
holds a fitted profile object: pass the profile to :func:`load_pipeline` again.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import numpy as np

from augment.compose import BaseComposition, OneOf
from augment.pipeline import Pipeline
from augment.transforms.registry import transform_registry
from shirtecg_common.config import check_keys, load_yaml
from shirtecg_common.errors import ConfigError

FORMAT_VERSION = 1
PRESETS_DIR = Path(__file__).with_name("presets")
_PIPELINE_KEYS = ("format_version", "name", "description", "recommended_copies", "transforms",
                  "tunable")
_STEP_KEYS = ("class", "name", "params", "transforms")


# --------------------------------------------------------------------------- to dict
def transform_to_dict(transform, name=None) -> dict:
    """One step as ``{class, name, params[, transforms]}``."""
    params = transform.get_params(deep=False)
    params.pop("transforms", None)
    profile = params.get("profile")
    if getattr(transform, "requires_profile", False) and not (
            profile is None or isinstance(profile, (str, os.PathLike))):
        # A fitted profile object is not YAML: it is given again to load_pipeline
        # (its content hash belongs in the run's provenance, not in the pipeline file).
        params["profile"] = None
    out = {"class": type(transform).__name__}
    if name is not None:
        out["name"] = name
    out["params"] = {k: _plain(v, f"{out['class']}.{k}") for k, v in params.items()}
    if isinstance(transform, BaseComposition):
        out["transforms"] = [transform_to_dict(t, n) for n, t in transform.named_transforms]
    return out


def pipeline_to_dict(pipe) -> dict:
    """A :class:`Pipeline` as a plain dict (the YAML format of this module)."""
    pipe.validate()
    out = {"format_version": FORMAT_VERSION}
    for key in ("name", "description", "recommended_copies"):
        value = getattr(pipe, key)
        if value is not None:
            out[key] = _plain(value, key)
    out["transforms"] = [transform_to_dict(t, n) for n, t in pipe.named_transforms]
    if pipe.tunable:
        out["tunable"] = _plain(dict(pipe.tunable), "tunable")
    return out


def _plain(value, where):
    """Numpy/tuples → YAML-safe builtins; paths → str; anything else is an error."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, where) for k, v in value.items()}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    source = getattr(value, "source_path_", None) or getattr(value, "path_", None)
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    raise ConfigError(
        f"{where}: a {type(value).__name__} cannot be written to YAML; "
        "pass a file path (e.g. the noise profile's YAML) instead of the object"
    )


# --------------------------------------------------------------------------- from dict
def pipeline_from_dict(data, where="pipeline") -> Pipeline:
    """Build a :class:`Pipeline` from :func:`pipeline_to_dict` output (or parsed YAML)."""
    check_keys(data, allowed=_PIPELINE_KEYS, required=("transforms",), where=where)
    version = data.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ConfigError(f"{where}: format_version {version!r} is not supported "
                          f"(this version reads {FORMAT_VERSION})")
    steps = _steps_from_list(data["transforms"], f"{where}: transforms")
    tunable = data.get("tunable")
    pipe = Pipeline(steps, name=data.get("name"), description=data.get("description"),
                    recommended_copies=_tuple_or_value(data.get("recommended_copies")),
                    tunable=dict(tunable) if isinstance(tunable, dict) else tunable)
    try:
        pipe.validate()
    except ValueError as err:
        raise ConfigError(f"{where}: {err}") from None
    return pipe


def _steps_from_list(items, where):
    if not isinstance(items, list):
        raise ConfigError(f"{where}: expected a list of steps, got {type(items).__name__}")
    return [_step_from_dict(item, f"{where}[{k}]") for k, item in enumerate(items)]


def _step_from_dict(item, where):
    check_keys(item, allowed=_STEP_KEYS, required=("class",), where=where)
    registry = transform_registry()
    cls_name = item["class"]
    if cls_name not in registry or cls_name == "Pipeline":
        raise ConfigError(
            f"{where}: unknown transform class {cls_name!r}; known classes: "
            f"{', '.join(k for k in registry if k != 'Pipeline')}"
        )
    cls = registry[cls_name]
    params = item.get("params") or {}
    if not isinstance(params, dict):
        raise ConfigError(f"{where}.params: expected a mapping, got {type(params).__name__}")
    allowed = [n for n in inspect.signature(cls.__init__).parameters if n not in ("self",)]
    is_composition = issubclass(cls, BaseComposition)
    allowed_params = [n for n in allowed if n != "transforms"]
    check_keys(params, allowed=allowed_params, where=f"{where}.params ({cls_name})")
    kwargs = {k: _tuple_or_value(v) for k, v in params.items()}
    if is_composition:
        if "transforms" not in item:
            raise ConfigError(f"{where}: {cls_name} needs a 'transforms' list")
        kwargs["transforms"] = _steps_from_list(item["transforms"], f"{where}.transforms")
    elif "transforms" in item:
        raise ConfigError(f"{where}: 'transforms' is only allowed for Compose, OneOf, SomeOf")
    try:
        transform = cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where} ({cls_name}): {err}") from None
    name = item.get("name")
    if name is not None and not isinstance(name, str):
        raise ConfigError(f"{where}.name: expected a string, got {name!r}")
    return (name, transform) if name is not None else transform


def _tuple_or_value(v):
    """YAML lists of plain values → tuples (the constructors' default form for pairs)."""
    if isinstance(v, list) and all(not isinstance(e, (list, dict)) for e in v):
        return tuple(v)
    return v


# --------------------------------------------------------------------------- presets, files
def list_presets() -> list:
    """Names of the presets shipped with the package (``base``, ``displacement``, …)."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def load_pipeline(preset_or_yaml_path, profile=None) -> Pipeline:
    """A preset by name, or a pipeline YAML file, ready to call.

    Parameters
    ----------
    preset_or_yaml_path : str or path-like
        A preset name (see :func:`list_presets`) or the path of a pipeline YAML file.
    profile : noise_profiles.NoiseProfile, path or None
        Fitted device noise. It is set on every step that needs one (class attribute
        ``requires_profile``) and has none; without it those steps are dropped and
        named in ``pipeline.dropped_steps``, so e.g. ``wearable`` runs on its parametric
        artifact models only.

    Returns
    -------
    pipeline : Pipeline
    """
    text = os.fspath(preset_or_yaml_path)
    path = Path(text)
    if text in list_presets() and not path.suffix:
        path = PRESETS_DIR / f"{text}.yaml"
    elif not path.is_file():
        raise ConfigError(
            f"{text!r} is neither a preset ({', '.join(list_presets())}) nor a pipeline "
            "YAML file"
        )
    pipe = pipeline_from_dict(load_yaml(path), where=str(path))
    pipe.dropped_steps = attach_profile(pipe, profile)
    if pipe.dropped_steps and pipe.tunable:
        gone = tuple(f"{d}__" for d in pipe.dropped_steps)
        pipe.tunable = {k: v for k, v in pipe.tunable.items() if not k.startswith(gone)}
    return pipe


def attach_profile(composition, profile, prefix="") -> list:
    """Give ``profile`` to the steps that need one, or drop them if ``profile`` is None.

    Returns the dropped steps' ``step__…`` paths.
    """
    dropped, kept = [], []
    weights = getattr(composition, "weights", None) if isinstance(composition, OneOf) else None
    kept_weights = []
    for k, (name, t) in enumerate(composition.named_transforms):
        path = f"{prefix}{name}"
        if isinstance(t, BaseComposition):
            dropped += attach_profile(t, profile, prefix=f"{path}__")
            if not t.named_transforms:  # all of its steps needed a profile
                dropped.append(path)
                continue
        elif getattr(t, "requires_profile", False) and getattr(t, "profile", None) is None:
            if profile is None:
                dropped.append(path)
                continue
            t.set_params(profile=profile)
        kept.append((name, t))
        if weights is not None:
            kept_weights.append(weights[k])
    if dropped:
        composition.transforms = kept
        if weights is not None:
            composition.weights = kept_weights
    return dropped
