"""Sudden baseline and amplitude shifts on one electrode (contact interruptions)."""

from __future__ import annotations

import numpy as np

from augment import noise_banks as nb
from augment.base import BaseTransform
from augment.leads import ELECTRODES
from augment.transforms._common import check_count, check_pair


class BaselineShift(BaseTransform):
    """Let an electrode's contact jump: a baseline step that relaxes, and a gain change.

    When a shirt electrode slides or briefly lifts, its half-cell potential jumps and
    then relaxes as the double layer re-forms (skin-stretch potentials are mV-scale,
    de Talhouet & Webster 1996; Clifford: rapid baseline jumps). At ``onset`` the
    electrode's potential gets ``offset_mv · exp(−(t − onset)/tau)`` and, for
    ``gain_duration_s``, its body potential is scaled by ``gain`` (partial contact). The
    leads are rebuilt from the changed potential (one electrode → the leads it enters).

    Parameters
    ----------
    min_offset_mv, max_offset_mv : float
        Size of the jump, random sign (default 0.2–2 mV).
    min_tau_s, max_tau_s : float
        Relaxation time constant (default 0.2–3 s).
    min_gain, max_gain : float
        Gain of the electrode's potential after the jump (default 0.5–1).
    min_gain_duration_s, max_gain_duration_s : float
        How long the gain change lasts (default 0.2–2 s).
    n_events : int or (int, int)
        Shifts per record (default 1–3).
    electrodes : list of str
        Electrodes that may shift (default all nine).
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record (lists, one entry per event): ``electrode``, ``onset_s``,
    ``offset_mv``, ``tau_s``, ``gain``, ``gain_duration_s``.
    """

    def __init__(self, min_offset_mv=0.2, max_offset_mv=2.0, min_tau_s=0.2, max_tau_s=3.0,
                 min_gain=0.5, max_gain=1.0, min_gain_duration_s=0.2, max_gain_duration_s=2.0,
                 n_events=(1, 3), electrodes=ELECTRODES, p=0.5):
        super().__init__(p=p)
        self.min_offset_mv = min_offset_mv
        self.max_offset_mv = max_offset_mv
        self.min_tau_s = min_tau_s
        self.max_tau_s = max_tau_s
        self.min_gain = min_gain
        self.max_gain = max_gain
        self.min_gain_duration_s = min_gain_duration_s
        self.max_gain_duration_s = max_gain_duration_s
        self.n_events = n_events
        self.electrodes = electrodes

    def _validate_params(self, sfreq):
        check_pair(self, "min_offset_mv", self.min_offset_mv, "max_offset_mv",
                   self.max_offset_mv, lower=0.0)
        check_pair(self, "min_tau_s", self.min_tau_s, "max_tau_s", self.max_tau_s,
                   lower=1.0 / sfreq)
        check_pair(self, "min_gain", self.min_gain, "max_gain", self.max_gain, lower=0.0)
        check_pair(self, "min_gain_duration_s", self.min_gain_duration_s,
                   "max_gain_duration_s", self.max_gain_duration_s, lower=0.0)
        check_count(self, "n_events", self.n_events, 100)
        nb.electrode_indices(self, self.electrodes)

    def randomize_parameters(self, x, sfreq, rngs):
        lo, hi = check_count(self, "n_events", self.n_events, 100)
        duration = x.shape[-1] / sfreq
        names = np.array(list(self.electrodes), dtype=object)
        counts, u = nb.event_draws(rngs, lo, hi, 7)
        elec = names[np.minimum((u[..., 5] * len(names)).astype(np.intp), len(names) - 1)]
        sign = np.where(u[..., 6] < 0.5, -1.0, 1.0)
        return {
            "electrode": [list(row[:k]) for row, k in zip(elec, counts)],
            "onset_s": nb.ragged(u[..., 0] * duration, counts),
            "offset_mv": nb.ragged(sign * nb.lerp(u[..., 1], self.min_offset_mv,
                                                  self.max_offset_mv), counts),
            "tau_s": nb.ragged(nb.lerp(u[..., 2], self.min_tau_s, self.max_tau_s), counts),
            "gain": nb.ragged(nb.lerp(u[..., 3], self.min_gain, self.max_gain), counts),
            "gain_duration_s": nb.ragged(nb.lerp(u[..., 4], self.min_gain_duration_s,
                                                 self.max_gain_duration_s), counts),
        }

    supports_rows = True
    randomize_reads_signal = False

    def apply(self, x, sfreq, params, rows=None):
        n_times = x.shape[-1]
        for j, i in enumerate(nb.record_rows(x, rows)):
            xi = x[i]
            events = zip(params["electrode"][j], params["onset_s"][j], params["offset_mv"][j],
                         params["tau_s"][j], params["gain"][j], params["gain_duration_s"][j])
            for name, onset, offset, tau, gain, gain_dur in events:
                e = _INDEX[name]
                rs, col = _ENTERS[e]  # the leads the electrode enters (one for C1–C6)
                a = min(int(round(onset * sfreq)), n_times - 1)
                b = min(a + max(int(round(gain_dur * sfreq)), 0), n_times)
                if b > a and gain != 1.0:  # gain first: it scales the body potential only
                    phi = nb.POTENTIAL_MATRIX[e] @ xi[:, a:b]
                    phi *= np.float32(gain) - 1
                    xi[rs, a:b] += col * phi
                # the relaxation is below 1e-5 of the jump after 12 time constants
                end = min(n_times, a + int(np.ceil(12 * tau * sfreq)) + 1)
                step = np.arange(end - a, dtype=np.float32)
                step *= np.float32(-1.0 / (tau * sfreq))
                np.exp(step, out=step)
                step *= np.float32(offset)
                xi[rs, a:end] += col * step
        return x


_INDEX = {name: e for e, name in enumerate(ELECTRODES)}
#: Per electrode: the rows of the independent leads it enters, as a slice (limb electrodes
#: enter I or II and, via the Wilson terminal, V1–V6: all 8 rows, a 0 where it does not
#: enter), and its ``(rows, 1)`` column of the electrode matrix. Slices, not index lists:
#: no fancy-index copy and write-back per event.
_ENTERS = [(slice(0, 8), nb.ELECTRODE_MATRIX[:, e, None]) if e < 3
           else (slice(e - 1, e), nb.ELECTRODE_MATRIX[e - 1:e, e, None]) for e in range(9)]
