"""Parametric noise and artifacts, generated per electrode (RA, LA, LL, C1–C6) or on the
independent leads and then mapped to leads — never independently per derived lead.

A disturbance on one limb electrode therefore shows in the two limb leads it enters and,
through the Wilson central terminal, in all six chest leads, as on a real device.
Amplitudes are in mV; ranges are ``min_*`` / ``max_*`` pairs drawn per record.
"""

from augment.transforms.noise.baseline_shift import BaselineShift
from augment.transforms.noise.baseline_wander import BaselineWander
from augment.transforms.noise.dropout import ElectrodeDropout
from augment.transforms.noise.gaussian import GaussianNoise
from augment.transforms.noise.impedance import ImpedanceNoise
from augment.transforms.noise.muscle import MuscleNoise
from augment.transforms.noise.powerline import PowerlineNoise
from augment.transforms.noise.walking import WalkingArtifact

__all__ = [
    "BaselineShift",
    "BaselineWander",
    "ElectrodeDropout",
    "GaussianNoise",
    "ImpedanceNoise",
    "MuscleNoise",
    "PowerlineNoise",
    "WalkingArtifact",
]
