"""Lead names and the lead algebra of the standard 12-lead ECG.

Only 8 leads are independent (``I II V1…V6``); the other four follow from I and II:
``III = II − I``, ``aVR = −(I+II)/2``, ``aVL = I − II/2``, ``aVF = II − I/2``.
Transforms act on the independent leads (or on electrode potentials) and the other
four are re-derived, so the algebra stays exact (DESIGN §2).
"""

from __future__ import annotations

import numpy as np

#: Canonical 12-lead order (DESIGN §2).
LEADS_12 = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
#: The 8 independent leads, in the order transforms see them.
INDEPENDENT_LEADS = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")
#: Positions of the independent leads inside :data:`LEADS_12`.
INDEPENDENT_INDEX = np.array([LEADS_12.index(lead) for lead in INDEPENDENT_LEADS])
#: Electrodes of the 12-lead set, in the order noise generators use.
ELECTRODES = ("RA", "LA", "LL", "C1", "C2", "C3", "C4", "C5", "C6")

#: ``(12, 8)`` matrix: 12 leads = ``DERIVE_MATRIX @ independent leads``.
DERIVE_MATRIX = np.zeros((12, 8))
for _i, _lead in enumerate(INDEPENDENT_LEADS):
    DERIVE_MATRIX[LEADS_12.index(_lead), _i] = 1.0
DERIVE_MATRIX[2, :2] = (-1.0, 1.0)  # III = II - I
DERIVE_MATRIX[3, :2] = (-0.5, -0.5)  # aVR = -(I + II)/2
DERIVE_MATRIX[4, :2] = (1.0, -0.5)  # aVL = I - II/2
DERIVE_MATRIX[5, :2] = (-0.5, 1.0)  # aVF = II - I/2

#: ``(8, 9)`` matrix: independent leads = ``ELECTRODE_TO_LEADS @ electrode potentials``.
#: I = LA − RA, II = LL − RA, Vi = Ci − WCT with WCT = (RA + LA + LL)/3.
ELECTRODE_TO_LEADS = np.zeros((8, 9))
ELECTRODE_TO_LEADS[0, [0, 1]] = (-1.0, 1.0)
ELECTRODE_TO_LEADS[1, [0, 2]] = (-1.0, 1.0)
ELECTRODE_TO_LEADS[2:, :3] = -1.0 / 3.0
ELECTRODE_TO_LEADS[2:, 3:] = np.eye(6)


def independent(x12: np.ndarray) -> np.ndarray:
    """Take the 8 independent leads ``(…, 8, T)`` out of 12-lead data ``(…, 12, T)``."""
    if x12.shape[-2] != 12:
        raise ValueError(
            f"expected 12 leads in the order {' '.join(LEADS_12)} on axis -2, got shape {x12.shape}"
        )
    return x12[..., INDEPENDENT_INDEX, :]


def derive(x8: np.ndarray) -> np.ndarray:
    """Build 12 leads ``(…, 12, T)`` from the 8 independent leads ``(…, 8, T)``.

    The dtype of ``x8`` is kept; the derived leads are computed in that dtype, so
    ``III == II − I`` to its rounding.
    """
    if x8.shape[-2] != 8:
        raise ValueError(
            f"expected the 8 independent leads {' '.join(INDEPENDENT_LEADS)} on axis -2, "
            f"got shape {x8.shape}"
        )
    out = np.empty(x8.shape[:-2] + (12, x8.shape[-1]), dtype=x8.dtype)
    out[..., INDEPENDENT_INDEX, :] = x8
    lead_i, lead_ii = x8[..., 0, :], x8[..., 1, :]
    out[..., 2, :] = lead_ii - lead_i
    out[..., 3, :] = -(lead_i + lead_ii) / 2
    out[..., 4, :] = lead_i - lead_ii / 2
    out[..., 5, :] = lead_ii - lead_i / 2
    return out


def electrodes_to_leads(potentials: np.ndarray) -> np.ndarray:
    """Independent leads ``(…, 8, T)`` from electrode potentials ``(…, 9, T)`` (RA, LA, LL, C1–C6)."""
    if potentials.shape[-2] != 9:
        raise ValueError(
            f"expected 9 electrode potentials {' '.join(ELECTRODES)} on axis -2, "
            f"got shape {potentials.shape}"
        )
    m = ELECTRODE_TO_LEADS.astype(potentials.dtype)
    return np.einsum("le,...et->...lt", m, potentials)


def algebra_error(x12: np.ndarray) -> float:
    """Largest violation of the lead algebra in 12-lead data (0 for exact data)."""
    x12 = np.asarray(x12, dtype=np.float64)
    return float(np.max(np.abs(x12 - derive(independent(x12)))))
