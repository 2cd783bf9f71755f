"""Make public 12-lead ECG records look as if the shirt recorded them.

Typical use::

    import augment
    pipe = augment.load_pipeline("wearable", profile="shirt_profile.yaml")
    out = pipe(x, sfreq=500, random_state=[seed_0, seed_1, ...])  # x: (n, 12, T) float32 mV
    pipe.last_parameters[0]          # what was drawn for record 0

Everything is re-exported flat here: the pipeline API, the compositions and every
transform class (see :func:`transform_registry`).
"""

from augment.base import BaseTransform
from augment.compose import Compose, OneOf, SomeOf
from augment.pipeline import Pipeline
from augment.serialization import (
    list_presets,
    load_pipeline,
    pipeline_from_dict,
    pipeline_to_dict,
)
from augment.transforms.anatomical import (
    ElectrodeDisplacement,
    HeartAxisRotation,
    PrecordialLimbScale,
)
from augment.transforms.registry import get_transform_class, transform_registry
from augment.transforms.spatial import (
    AmplitudeScale,
    InterLeadDelay,
    LeadVectorRotation,
    TimeShift,
    TimeStretch,
)

__all__ = [
    "AmplitudeScale",
    "BaseTransform",
    "Compose",
    "ElectrodeDisplacement",
    "HeartAxisRotation",
    "InterLeadDelay",
    "LeadVectorRotation",
    "OneOf",
    "Pipeline",
    "PrecordialLimbScale",
    "SomeOf",
    "TimeShift",
    "TimeStretch",
    "get_transform_class",
    "list_presets",
    "load_pipeline",
    "pipeline_from_dict",
    "pipeline_to_dict",
    "transform_registry",
]

# Helpers of other slices append their re-exports below (noise/device transforms, datasets).

# Datasets in, augmented datasets out (readers, label maps, HDF5/PTB-XL writers); the
# PyTorch Dataset stays opt-in as ``augment.torch`` (torch is an optional extra).
from augment import datasets, output  # noqa: E402
from augment.output import run_augmentation  # noqa: E402

__all__ += ["datasets", "output", "run_augmentation"]

# Noise/artifact and device transforms (helper C2).
from augment.transforms.device import (  # noqa: E402
    AddProfileNoise,
    Clip,
    FrequencyResponse,
    KeepDeviceLeads,
    Quantize,
    Resample,
)
from augment.transforms.noise import (  # noqa: E402
    BaselineShift,
    BaselineWander,
    ElectrodeDropout,
    GaussianNoise,
    ImpedanceNoise,
    MuscleNoise,
    PowerlineNoise,
    WalkingArtifact,
)

__all__ += ["AddProfileNoise", "BaselineShift", "BaselineWander", "Clip", "ElectrodeDropout",
            "FrequencyResponse", "GaussianNoise", "ImpedanceNoise", "KeepDeviceLeads",
            "MuscleNoise", "PowerlineNoise", "Quantize", "Resample", "WalkingArtifact"]

# Heart-rate change beat by beat, QRS width kept (calibration toward moving wearers).
from augment.transforms.spatial.heart_rate import HeartRateChange  # noqa: E402

__all__ += ["HeartRateChange"]
