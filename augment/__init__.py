"""Make public 12-lead ECG records look as if the shirt recorded them.

Typical use::

    import augment
    pipe = augment.load_pipeline("wearable", profile="shirt_profile.yaml")
    out = pipe(x, sfreq=500, random_state=[seed_0, seed_1, ...])  # x: (n, 12, T) float32 mV
    pipe.last_parameters[0]          # what was drawn for record 0

Everything is re-exported flat here: the pipeline API, the compositions and every
transform class (see :func:`transform_registry`).

The names are imported on first use (``shirtecg_common.lazy``, PEP 562): ``import augment`` and
``import augment.<submodule>`` stay cheap, so ``shirtecg --help`` and the worker processes of
``augment run`` do not pay for scikit-learn, SciPy and every transform before they need them.
"""

from __future__ import annotations

from shirtecg_common.lazy import lazy_exports

#: Public name -> module that defines it (imported when the name is first used).
_EXPORTS = {
    "BaseTransform": "augment.base",
    "Compose": "augment.compose",
    "OneOf": "augment.compose",
    "SomeOf": "augment.compose",
    "Pipeline": "augment.pipeline",
    "list_presets": "augment.serialization",
    "load_pipeline": "augment.serialization",
    "pipeline_from_dict": "augment.serialization",
    "pipeline_to_dict": "augment.serialization",
    "ElectrodeDisplacement": "augment.transforms.anatomical",
    "HeartAxisRotation": "augment.transforms.anatomical",
    "PrecordialLimbScale": "augment.transforms.anatomical",
    "get_transform_class": "augment.transforms.registry",
    "transform_registry": "augment.transforms.registry",
    "AmplitudeScale": "augment.transforms.spatial",
    "HeartRateChange": "augment.transforms.spatial.heart_rate",
    "InterLeadDelay": "augment.transforms.spatial",
    "LeadVectorRotation": "augment.transforms.spatial",
    "TimeShift": "augment.transforms.spatial",
    "TimeStretch": "augment.transforms.spatial",
    # Datasets in, augmented datasets out (readers, label maps, HDF5/PTB-XL writers); the
    # PyTorch Dataset stays opt-in as ``augment.torch`` (torch is an optional extra).
    "run_augmentation": "augment.output",
    # Noise/artifact and device transforms.
    "AddProfileNoise": "augment.transforms.device",
    "Clip": "augment.transforms.device",
    "FrequencyResponse": "augment.transforms.device",
    "KeepDeviceLeads": "augment.transforms.device",
    "Quantize": "augment.transforms.device",
    "Resample": "augment.transforms.device",
    "BaselineShift": "augment.transforms.noise",
    "BaselineWander": "augment.transforms.noise",
    "ElectrodeDropout": "augment.transforms.noise",
    "GaussianNoise": "augment.transforms.noise",
    "ImpedanceNoise": "augment.transforms.noise",
    "MuscleNoise": "augment.transforms.noise",
    "PowerlineNoise": "augment.transforms.noise",
    "WalkingArtifact": "augment.transforms.noise",
}
#: Subpackages re-exported as attributes (``augment.datasets``, ``augment.output``).
_SUBMODULES = ("datasets", "output")

# The names of the two tables above (a test checks they match; a literal for linters).
__all__ = [
    "AddProfileNoise", "AmplitudeScale", "BaseTransform", "BaselineShift", "BaselineWander",
    "Clip", "Compose", "ElectrodeDisplacement", "ElectrodeDropout", "FrequencyResponse",
    "GaussianNoise", "HeartAxisRotation", "HeartRateChange", "ImpedanceNoise", "InterLeadDelay",
    "KeepDeviceLeads", "LeadVectorRotation", "MuscleNoise", "OneOf", "Pipeline", "PowerlineNoise",
    "PrecordialLimbScale", "Quantize", "Resample", "SomeOf", "TimeShift", "TimeStretch",
    "WalkingArtifact", "datasets", "get_transform_class", "list_presets", "load_pipeline",
    "output", "pipeline_from_dict", "pipeline_to_dict", "run_augmentation", "transform_registry",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, _SUBMODULES)
