"""acquisition: record labelled no-ECG activity noise from the shirt over serial (DESIGN §3).

Decoders of the serial formats (:mod:`acquisition.decoders`), their encoders
(:mod:`acquisition.frames`), the device description (:mod:`acquisition.device`), synthetic
activity noise (:mod:`acquisition.activity_noise`) and a pty device emulator
(:mod:`acquisition.emulator`).
"""

from acquisition.decoders import FORMATS, DecodedBlock, Decoder, get_decoder, scale_from_gain
from acquisition.device import DeviceConfig, load_device, reconcile_info

# the emulator and the noise synthesis import scipy: reach them as acquisition.emulator /
# acquisition.activity_noise (kept out of here so ``shirtecg --help`` stays fast)

__all__ = ["FORMATS", "DecodedBlock", "Decoder", "DeviceConfig", "get_decoder", "load_device",
           "reconcile_info", "scale_from_gain"]
