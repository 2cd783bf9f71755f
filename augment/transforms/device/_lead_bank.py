"""Map a noise profile's channels to the 8 independent leads (once per bank, not per record).

Rules (documented in :class:`~augment.transforms.device.AddProfileNoise`):

1. Channels that measure one of the 12 leads are solved for the independent leads they
   determine: chest leads directly (several channels on one lead are averaged); the limb
   pair (I, II) by least squares over the measured limb leads (``III = II − I`` …), so I and
   III give II = I + III exactly.
2. A limb direction no channel determines (only one limb lead measured) gets a *donor*:
   the measured limb noise from another stretch of the bank, i.e. an independent
   realization with the same spectrum, scaled to the measured lead's level.
3. Chest leads without a channel take donors from the measured chest channels (round-robin,
   each from its own stretch of the bank); without any chest channel, from any channel.
4. Channels with no lead (``None``) only serve as donors; if no channel names a lead, the
   8 leads take channels round-robin, each from its own stretch.

Donor stretches are circular shifts of the bank by distinct fractions of its length, so a
record's crop gets noise that is independent across those leads yet cheap to crop.
"""

from __future__ import annotations

import numpy as np

from augment.leads import DERIVE_MATRIX, INDEPENDENT_LEADS, LEADS_12

LIMB_ROWS = {lead: DERIVE_MATRIX[LEADS_12.index(lead), :2] for lead in LEADS_12[:6]}


def lead_bank(data_mv, ch_leads):
    """``(8, n)`` float32 independent-lead noise from profile channels ``(n_ch, n)``.

    Returns ``(bank, sources)``: ``sources`` says for each independent lead where its
    noise came from (for the documentation of a pipeline and for tests).
    """
    data = np.asarray(data_mv, dtype=np.float64)
    n_ch, n = data.shape
    out = np.zeros((8, n))
    sources = [None] * 8
    shifts = iter(range(1, 64))

    def donor(ch, scale=1.0):
        k = next(shifts)
        return scale * np.roll(data[ch], (k * n) // 17), f"donor ch{ch} shift {k}/17"

    chest = {lead: [c for c, cl in enumerate(ch_leads) if cl == lead]
             for lead in INDEPENDENT_LEADS[2:]}
    for j, lead in enumerate(INDEPENDENT_LEADS[2:], start=2):
        if chest[lead]:
            out[j] = data[chest[lead]].mean(axis=0)
            sources[j] = f"measured {lead}"
    limb = [(c, cl) for c, cl in enumerate(ch_leads) if cl in LIMB_ROWS]
    if limb:
        a = np.array([LIMB_ROWS[cl] for _, cl in limb])
        y = data[[c for c, _ in limb]]
        sol, _, rank, _ = np.linalg.lstsq(a, y, rcond=None)
        out[:2] = sol
        if rank >= 2:
            sources[0] = sources[1] = "measured limb leads " + ",".join(cl for _, cl in limb)
        else:  # one limb direction known: add a donor along the unknown one
            r = a[0] / np.linalg.norm(a[0])
            null = np.array([-r[1], r[0]])
            d, src = donor(limb[0][0], 1.0 / np.linalg.norm(a[0]))
            out[:2] += null[:, None] * d
            sources[0] = sources[1] = f"measured {limb[0][1]} + {src} on the unmeasured direction"
    measured_chest = [c for cs in chest.values() for c in cs]
    named = [c for c, cl in enumerate(ch_leads) if cl is not None]
    pool = measured_chest or named or list(range(n_ch))
    k = 0
    for j in range(8):
        if sources[j] is None:
            if j < 2 and limb:
                continue
            ch = pool[k % len(pool)]
            k += 1
            out[j], sources[j] = donor(ch)
    return out.astype(np.float32), sources
