"""Anatomical transforms: where the shirt's electrodes sit and the body they sit on."""

from augment.transforms.anatomical.electrode_displacement import ElectrodeDisplacement
from augment.transforms.anatomical.heart_axis_rotation import HeartAxisRotation
from augment.transforms.anatomical.precordial_limb_scale import PrecordialLimbScale

__all__ = ["ElectrodeDisplacement", "HeartAxisRotation", "PrecordialLimbScale"]
