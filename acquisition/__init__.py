"""acquisition: record labelled no-ECG activity noise from the shirt over serial (DESIGN §3).

Decoders of the serial formats (:mod:`acquisition.decoders`), their encoders
(:mod:`acquisition.frames`), the device description (:mod:`acquisition.device`), synthetic
activity noise (:mod:`acquisition.activity_noise`) and a pty device emulator
(:mod:`acquisition.emulator`).
"""

from acquisition.decoders import FORMATS, DecodedBlock, Decoder, get_decoder

__all__ = ["FORMATS", "DecodedBlock", "Decoder", "get_decoder"]
