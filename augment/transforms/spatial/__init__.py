"""Spatial transforms: lead geometry (in VCG space), timing and per-lead gains."""

from augment.transforms.spatial.amplitude_scale import AmplitudeScale
from augment.transforms.spatial.inter_lead_delay import InterLeadDelay
from augment.transforms.spatial.lead_vector_rotation import LeadVectorRotation
from augment.transforms.spatial.time_shift import TimeShift
from augment.transforms.spatial.time_stretch import TimeStretch

__all__ = ["AmplitudeScale", "InterLeadDelay", "LeadVectorRotation", "TimeShift", "TimeStretch"]
