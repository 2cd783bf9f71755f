"""Electrode dropout: brief loss of contact on ONE electrode, seen in every lead it enters."""

from __future__ import annotations

import numpy as np

from augment import noise_banks as nb
from augment.base import BaseTransform
from augment.leads import ELECTRODES
from augment.transforms._common import check_count, check_pair
from shirtecg_common.validation import check_option


class ElectrodeDropout(BaseTransform):
    """Let one electrode lose contact for a moment.

    While the contact is lost, the electrode's potential no longer follows the body:
    ``fill="hold"`` freezes it at its last value (the amplifier input floats near where it
    was), ``fill="rail"`` drives it to ``±rail_mv`` (the bias current charges the open input
    towards a rail; Clifford: saturation for up to ~1 s). The leads are rebuilt from the
    changed potential, so a lost LA shows in I, III, aVR, aVL, aVF and, through the Wilson
    terminal, in V1–V6, while II stays clean; a lost C3 shows only in V3.

    Parameters
    ----------
    min_duration_s, max_duration_s : float
        Duration of a loss (default 0.05–1 s).
    n_events : int or (int, int)
        Number of losses per record (default 1), each on one electrode.
    fill : {"hold", "rail"}
        What the lost electrode reads (default "hold").
    min_rail_mv, max_rail_mv : float
        Level of the rail for ``fill="rail"`` (random sign; default 5–20 mV).
    electrodes : list of str
        Electrodes that may drop out (default all nine).
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record: ``electrode`` (names), ``onset_s``, ``duration_s``, ``rail_mv`` (lists,
    one entry per event).
    """

    def __init__(self, min_duration_s=0.05, max_duration_s=1.0, n_events=1, fill="hold",
                 min_rail_mv=5.0, max_rail_mv=20.0, electrodes=ELECTRODES, p=0.5):
        super().__init__(p=p)
        self.min_duration_s = min_duration_s
        self.max_duration_s = max_duration_s
        self.n_events = n_events
        self.fill = fill
        self.min_rail_mv = min_rail_mv
        self.max_rail_mv = max_rail_mv
        self.electrodes = electrodes

    def _validate_params(self, sfreq):
        check_pair(self, "min_duration_s", self.min_duration_s, "max_duration_s",
                   self.max_duration_s, lower=1.0 / sfreq)
        check_count(self, "n_events", self.n_events, 100)
        try:
            check_option("fill", self.fill, ("hold", "rail"))
        except ValueError as err:
            raise ValueError(f"ElectrodeDropout: {err}") from None
        check_pair(self, "min_rail_mv", self.min_rail_mv, "max_rail_mv", self.max_rail_mv,
                   lower=0.0)
        nb.electrode_indices(self, self.electrodes)

    def randomize_parameters(self, x, sfreq, rngs):
        lo, hi = check_count(self, "n_events", self.n_events, 100)
        duration = x.shape[-1] / sfreq
        names = np.array(list(self.electrodes), dtype=object)
        counts, u = nb.event_draws(rngs, lo, hi, 5)
        dur = nb.lerp(u[..., 0], self.min_duration_s, min(self.max_duration_s, duration))
        elec = names[np.minimum((u[..., 1] * len(names)).astype(np.intp), len(names) - 1)]
        sign = np.where(u[..., 3] < 0.5, -1.0, 1.0)
        return {
            "electrode": [list(row[:k]) for row, k in zip(elec, counts)],
            "onset_s": nb.ragged(u[..., 2] * (duration - dur), counts),
            "duration_s": nb.ragged(dur, counts),
            "rail_mv": nb.ragged(sign * nb.lerp(u[..., 4], self.min_rail_mv, self.max_rail_mv),
                                 counts),
        }

    supports_rows = True
    randomize_reads_signal = False

    def apply(self, x, sfreq, params, rows=None):
        n_times = x.shape[-1]
        for j, i in enumerate(nb.record_rows(x, rows)):
            events = zip(params["electrode"][j], params["onset_s"][j], params["duration_s"][j],
                         params["rail_mv"][j])
            for name, onset, dur, rail in events:
                e = ELECTRODES.index(name)
                a = min(int(round(onset * sfreq)), n_times - 1)
                b = min(a + max(int(round(dur * sfreq)), 1), n_times)
                phi = nb.POTENTIAL_MATRIX[e] @ x[i, :, a:b]  # the electrode's own potential
                target = phi[0] if self.fill == "hold" else np.float32(rail)
                nz = _ENTERS[e]  # only the leads the electrode enters (one for C1–C6)
                x[i, nz, a:b] += np.outer(nb.ELECTRODE_MATRIX[nz, e], target - phi)
        return x


#: For each electrode, the independent leads it enters (I/II and, via WCT, V1–V6 for limbs).
_ENTERS = [np.flatnonzero(nb.ELECTRODE_MATRIX[:, e]) for e in range(9)]
