"""Serial stream decoders: ``shirt-v1``, ``openbci-cyton``, ``ascii`` (DESIGN §3).

Every decoder takes byte chunks split anywhere (:meth:`Decoder.feed`), resynchronises after junk
or a corrupted frame, and keeps the counters ``frames``, ``crc_errors``, ``resyncs``,
``junk_bytes`` and ``lost_samples`` in :attr:`Decoder.stats`::

    dec = get_decoder("shirt-v1")
    block = dec.feed(port.read(4096))      # DecodedBlock: seq (n,), codes (n, n_ch), status (n,)
    volts = block.codes * dec.volts_per_count
"""

from __future__ import annotations

from acquisition.decoders.ascii import AsciiDecoder
from acquisition.decoders.base import (
    ADC_FULL_SCALE,
    STAT_KEYS,
    DecodedBlock,
    Decoder,
    scale_from_gain,
)
from acquisition.decoders.cyton import CytonDecoder
from acquisition.decoders.shirt_v1 import ShirtV1Decoder

DECODERS = {
    "shirt-v1": ShirtV1Decoder,
    "openbci-cyton": CytonDecoder,
    "ascii": AsciiDecoder,
}
FORMATS = tuple(DECODERS)


def get_decoder(fmt, *, n_channels=None, sfreq=None, volts_per_count=None, **kwargs) -> Decoder:
    """Make the decoder of serial format ``fmt``.

    Parameters
    ----------
    fmt : str
        One of ``"shirt-v1"``, ``"openbci-cyton"``, ``"ascii"``.
    n_channels : int | None
        Number of channels (None: learnt from the stream or the info frame).
    sfreq : float | None
        Sampling rate in Hz, when known.
    volts_per_count : float | sequence of float | None
        Scale of the codes (None: the format's default or the info frame).
    **kwargs
        Format-specific options (``counter`` for ``ascii``).

    Returns
    -------
    decoder : Decoder
    """
    if fmt not in DECODERS:
        raise ValueError(f"unknown serial format {fmt!r}; accepted formats: {', '.join(FORMATS)}")
    return DECODERS[fmt](n_channels=n_channels, sfreq=sfreq, volts_per_count=volts_per_count,
                         **kwargs)


__all__ = [
    "ADC_FULL_SCALE",
    "DECODERS",
    "FORMATS",
    "STAT_KEYS",
    "AsciiDecoder",
    "CytonDecoder",
    "DecodedBlock",
    "Decoder",
    "ShirtV1Decoder",
    "get_decoder",
    "scale_from_gain",
]
