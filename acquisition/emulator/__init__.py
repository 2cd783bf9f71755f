"""A serial ECG device on a pseudo-terminal, for tests and demos without hardware.

:class:`Emulator` streams ``shirt-v1``, ``openbci-cyton`` or ``ascii`` frames in real time from a
:class:`SyntheticSource` (activity noise, test signal) or a :class:`PlaybackSource` (FIF, WFDB,
CSV), answers the host commands (``i`` info, ``b`` start, ``s`` stop; Cyton ``v``), injects the
faults of a :class:`FaultSpec` and logs them. The port is a symlink that stays valid across an
emulated unplug (:mod:`acquisition.emulator.pty_link`)::

    from acquisition.emulator import Emulator, SyntheticSource
    src = SyntheticSource("walking", 8, 500.0, volts_per_count=2.4 / 6 / (2**23 - 1), random_state=0)
    with Emulator("shirt-v1", src, seconds=10, faults="drop=0.01") as emu:
        record_from(emu.port)
"""

import importlib

# lazy (PEP 562): ``shirtecg --help`` imports the CLI module of this package, which must not pull
# in scipy through the sources
_LAZY = {"Emulator": "core", "FaultLog": "faults", "FaultSpec": "faults",
         "PlaybackSource": "sources", "PtyLink": "pty_link", "SyntheticSource": "sources",
         "default_ch_names": "sources"}
__all__ = ["Emulator", "FaultLog", "FaultSpec", "PlaybackSource", "PtyLink", "SyntheticSource",
           "default_ch_names"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f"acquisition.emulator.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'acquisition.emulator' has no attribute {name!r}")
