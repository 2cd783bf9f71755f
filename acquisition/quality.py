"""Live signal quality for the recorder's status line (acquisition_anchors §5.1).

Over the last second of samples: per-channel RMS in µV (mean removed), the share of
samples near the rails (≥ 90 % of the half range from mid-scale, as the OpenBCI GUI's
"Railed"; mid-scale is code 0 for a signed ADC, ``2**(adc_bits-1)`` for an unsigned one), channels
whose code did not change at all (flat line), the ADS129x lead-off bits of the latest
status word, and the share of samples lost over the whole session.
"""

from __future__ import annotations

import numpy as np

RAIL_FRACTION = 0.9


class QualityMonitor:
    """Keep the last second of codes and summarise it.

    Parameters
    ----------
    n_channels : int
        Channels in the stream.
    sfreq : float
        Sampling rate in Hz (sets the window length).
    volts_per_count : numpy.ndarray
        Scale per channel.
    adc_bits : int
        ADC resolution.
    adc_signed : bool
        True: codes in ``[-2**(adc_bits-1), 2**(adc_bits-1) - 1]`` around 0; False: codes in
        ``[0, 2**adc_bits - 1]`` around ``2**(adc_bits-1)``.
    """

    def __init__(self, n_channels, sfreq, volts_per_count, adc_bits=24, adc_signed=True):
        self.window = max(2, int(round(sfreq)))
        self.codes = np.zeros((self.window, n_channels), np.float64)
        self.filled = 0
        self.head = 0
        self.status = 0
        self.volts_per_count = np.asarray(volts_per_count, float)
        self.mid = 0 if adc_signed else 2 ** (adc_bits - 1)
        self.rail = RAIL_FRACTION * (2 ** (adc_bits - 1) - 1)

    def add(self, codes, status):
        """Append decoded samples ``codes`` (n, n_ch) and their status words."""
        n = len(codes)
        if n == 0:
            return
        self.status = int(status[-1])
        if n >= self.window:
            self.codes[:] = codes[-self.window:]
            self.head, self.filled = 0, self.window
            return
        idx = (self.head + np.arange(n)) % self.window
        self.codes[idx] = codes
        self.head = (self.head + n) % self.window
        self.filled = min(self.window, self.filled + n)

    def summary(self) -> dict:
        """``rms_uv`` (per channel), ``railed_pct``, ``flat`` (channel indices), ``lead_off``."""
        win = self.codes[:self.filled] if self.filled < self.window else self.codes
        if len(win) < 2:
            return {"rms_uv": [], "railed_pct": 0.0, "flat": [], "lead_off": []}
        rms = win.std(axis=0) * self.volts_per_count * 1e6
        railed = 100.0 * float(np.mean(np.abs(win - self.mid) >= self.rail))
        flat = np.flatnonzero(np.ptp(win, axis=0) == 0).tolist()
        return {"rms_uv": rms.tolist(), "railed_pct": railed, "flat": flat,
                "lead_off": lead_off_bits(self.status)}


def lead_off_bits(status) -> list:
    """Electrodes flagged off in an ADS129x status word, e.g. ``["1P", "3N"]``.

    The 24-bit word is ``1100`` + LOFF_STATP[7:0] + LOFF_STATN[7:0] + GPIO[7:4];
    bit k of LOFF_STATP/N is input k+1's positive/negative electrode. Words without the
    ``1100`` prefix (formats that send no status) give no flags.
    """
    status = int(status)
    if (status >> 20) != 0b1100:
        return []
    statp, statn = (status >> 12) & 0xFF, (status >> 4) & 0xFF
    return [f"{k + 1}{side}" for k in range(8) for side, word in (("P", statp), ("N", statn))
            if word >> k & 1]


def status_text(summary, ch_names, loss_pct, max_channels=8) -> str:
    """Format a :meth:`QualityMonitor.summary` for one terminal line."""
    rms = summary["rms_uv"]
    shown = " ".join(f"{v:.0f}" for v in rms[:max_channels])
    if len(rms) > max_channels:
        shown += " …"
    flat = ",".join(ch_names[k] for k in summary["flat"]) or "-"
    lead_off = ",".join(summary["lead_off"]) or "-"
    return (f"RMS µV {shown} | railed {summary['railed_pct']:.0f}% | flat {flat} | "
            f"lead-off {lead_off} | loss {loss_pct:.2f}%")
