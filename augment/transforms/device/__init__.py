"""The device: fitted profile noise and the shirt's own signal path.

Typical order at the end of a pipeline: :class:`AddProfileNoise` → :class:`FrequencyResponse`
→ :class:`Clip` → :class:`Quantize` → :class:`Resample` → :class:`KeepDeviceLeads` (the
output stage). Every step takes its numbers from a ``device.yaml``
(``device="path/device.yaml"``, :func:`acquisition.device.load_device`) or from explicit
arguments, which win.
"""

from augment.transforms.device.clip import Clip
from augment.transforms.device.frequency_response import FrequencyResponse
from augment.transforms.device.keep_leads import KeepDeviceLeads
from augment.transforms.device.profile_noise import AddProfileNoise
from augment.transforms.device.quantize import Quantize
from augment.transforms.device.resample import Resample

__all__ = ["AddProfileNoise", "Clip", "FrequencyResponse", "KeepDeviceLeads", "Quantize",
           "Resample"]
