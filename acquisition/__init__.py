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

# Recording (light imports; mne is imported only when a FIF is built or read).
from acquisition.protocol import load_protocol  # noqa: E402
from acquisition.recorder import Recorder, RecordTimeouts  # noqa: E402
from acquisition.session import build_session, finalize_session, read_session  # noqa: E402

__all__ += ["RecordTimeouts", "Recorder", "build_session", "finalize_session", "load_protocol",
            "read_session"]
