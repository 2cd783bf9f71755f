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
    out = np.empty(x12.shape[:-2] + (8, x12.shape[-1]), dtype=x12.dtype)
    out[..., 0:2, :] = x12[..., 0:2, :]  # slices, not fancy indexing: ~2x faster on batches
    out[..., 2:8, :] = x12[..., 6:12, :]
    return out


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
    out[..., 0:2, :] = x8[..., 0:2, :]
    out[..., 6:12, :] = x8[..., 2:8, :]
    return derive_in_place(out)


def derive_in_place(out: np.ndarray) -> np.ndarray:
    """Fill III, aVR, aVL, aVF (rows 2–5 of ``out`` ``(…, 12, T)``) from I and II (rows 0–1).

    Slices and ``out=`` ufuncs: no temporaries (this runs once per augmented batch).
    Returns ``out``.
    """
    lead_i, lead_ii = out[..., 0, :], out[..., 1, :]
    half = np.asarray(0.5, dtype=out.dtype)
    np.subtract(lead_ii, lead_i, out=out[..., 2, :])
    np.add(lead_i, lead_ii, out=out[..., 3, :])
    np.multiply(out[..., 3, :], -half, out=out[..., 3, :])
    np.multiply(lead_ii, half, out=out[..., 4, :])
    np.subtract(lead_i, out[..., 4, :], out=out[..., 4, :])
    np.multiply(lead_i, half, out=out[..., 5, :])
    np.subtract(lead_ii, out[..., 5, :], out=out[..., 5, :])
    return out


def independent_in_output(x12: np.ndarray):
    """``(out, x8)``: a fresh 12-lead buffer and the 8 independent leads of ``x12`` inside it.

    ``x8`` is the view ``out[:, 4:12]`` holding ``I II V1…V6`` (each record's 8 × T block
    contiguous), so V1–V6 already sit where the 12-lead output wants them: transforms
    that work in place on ``x8`` leave :func:`finish_in_output` only the two limb leads
    to move and the four derived leads to compute — no separate 8-lead copy, no second
    12-lead allocation.
    """
    out = np.empty(x12.shape, dtype=np.float32)
    out[:, 4:6] = x12[:, 0:2]
    out[:, 6:12] = x12[:, 6:12]
    return out, out[:, 4:12]


def finish_in_output(out: np.ndarray, x8: np.ndarray) -> np.ndarray:
    """12 leads in ``out`` from the augmented independent leads ``x8`` (see above).

    ``x8`` is either the view ``out[:, 4:12]`` (steps worked in place) or any other
    ``(n, 8, T)`` array of ``out``'s shape (a step returned a fresh array).
    """
    if x8.shape[-1] != out.shape[-1]:  # a resampling step changed the length
        return derive(np.asarray(x8, dtype=np.float32))
    work = out[:, 4:12]
    if not (x8.ctypes.data == work.ctypes.data and x8.strides == work.strides):
        out[:, 6:12] = x8[:, 2:8]
        out[:, 4:6] = x8[:, 0:2]
    # per block of records, rows 0-5 = DERIVE_MATRIX[:6, :2] @ (I, II): one matrix product
    # instead of nine passes (~2x faster). Bit-identical to derive_in_place: every product
    # is exact (coefficients 0, ±1, ±1/2) and each sum of two is rounded once.
    limb = _LIMB_ROWS.astype(out.dtype)
    tmp = np.empty((_BLOCK, 2, out.shape[-1]), dtype=out.dtype)
    for start in range(0, len(out), _BLOCK):
        block = out[start:start + _BLOCK]
        pair = tmp[:len(block)]
        pair[...] = block[:, 4:6]  # I, II (rows 4-5 become aVL, aVF)
        np.matmul(limb, pair, out=block[:, 0:6])
    return out


_BLOCK = 8  # records: 8 × 6 rows × 5000 samples × 4 B ≈ 1 MB, an L2 cache
_LIMB_ROWS = DERIVE_MATRIX[:6, :2]  # I, II, III, aVR, aVL, aVF from I and II


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


# --------------------------------------------------------------------------- VCG matrices
# Coefficients as published, transcribed in the source's own column order (V1…V6, I, II)
# and re-ordered here to INDEPENDENT_LEADS (I, II, V1…V6). VCG axes follow Frank:
# X towards the subject's left, Y towards the feet, Z towards the back.
_SOURCE_ORDER = ("V1", "V2", "V3", "V4", "V5", "V6", "I", "II")
_TO_INDEPENDENT = [_SOURCE_ORDER.index(lead) for lead in INDEPENDENT_LEADS]

#: ``(8, 3)`` Dower matrix: independent leads (rows I, II, V1…V6) = ``DOWER @ vcg`` (X, Y, Z).
#: Dower, Machado & Osborne 1980, Clin Cardiol 3:87–95 (``leadcalc.m`` option ``'stan'``).
DOWER = np.array(
    [
        [-0.515, 0.157, -0.917],  # V1
        [0.044, 0.164, -1.387],  # V2
        [0.882, 0.098, -1.277],  # V3
        [1.213, 0.127, -0.601],  # V4
        [1.125, 0.127, -0.086],  # V5
        [0.831, 0.076, 0.230],  # V6
        [0.632, -0.235, 0.059],  # I
        [0.235, 1.066, -0.132],  # II
    ]
)[_TO_INDEPENDENT]

#: ``(3, 8)`` inverse Dower matrix: VCG (X, Y, Z) = ``INVERSE_DOWER @ independent leads``.
#: Edenbrandt & Pahlm 1988, J Electrocardiol 21:361–367 (BRAVEHEART ``dowermatrix.m``);
#: equal to ``pinv(DOWER)`` to 3 decimals.
INVERSE_DOWER = np.array(
    [
        [-0.172, -0.074, 0.122, 0.231, 0.239, 0.194, 0.156, -0.010],  # X
        [0.057, -0.019, -0.106, -0.022, 0.041, 0.048, -0.227, 0.887],  # Y
        [-0.229, -0.310, -0.246, -0.063, 0.055, 0.108, 0.022, 0.102],  # Z
    ]
)[:, _TO_INDEPENDENT]

#: ``(3, 8)`` Kors regression matrix: Frank VCG (X, Y, Z) = ``KORS @ independent leads``.
#: Kors, van Herpen, Sittig & van Bemmel 1990, Eur Heart J 11:1083–1092 (BRAVEHEART
#: ``korsmatrix.m``). A regression, not an inverse of :data:`DOWER` (``KORS @ DOWER != I``).
KORS = np.array(
    [
        [-0.13, 0.05, -0.01, 0.14, 0.06, 0.54, 0.38, -0.07],  # X
        [0.06, -0.02, -0.05, 0.06, -0.17, 0.13, -0.07, 0.93],  # Y
        [-0.43, -0.06, -0.14, -0.20, -0.11, 0.31, 0.11, -0.23],  # Z
    ]
)[:, _TO_INDEPENDENT]

#: Lead → VCG matrices accepted by :func:`to_vcg` (``method``).
VCG_METHODS = {"kors": KORS, "inverse_dower": INVERSE_DOWER}


def vcg_matrix(method="kors") -> np.ndarray:
    """The ``(3, 8)`` independent-leads → VCG matrix ``method`` (``kors``, ``inverse_dower``)."""
    if method not in VCG_METHODS:
        raise ValueError(
            f"VCG method must be one of {', '.join(map(repr, VCG_METHODS))}, got {method!r}"
        )
    return VCG_METHODS[method]


def to_vcg(x8: np.ndarray, method="kors") -> np.ndarray:
    """VCG ``(…, 3, T)`` (X, Y, Z) from the 8 independent leads ``(…, 8, T)``.

    Parameters
    ----------
    x8 : ndarray, shape (..., 8, T)
        Leads ``I II V1…V6`` (use :func:`independent` on 12-lead data).
    method : {"kors", "inverse_dower"}
        ``"kors"``: Kors et al. 1990 regression (closest to measured Frank leads);
        ``"inverse_dower"``: Edenbrandt & Pahlm 1988, the pseudo-inverse of :data:`DOWER`.

    Returns
    -------
    vcg : ndarray, shape (..., 3, T), dtype of ``x8``
    """
    x8 = np.asarray(x8)
    if x8.shape[-2] != 8:
        raise ValueError(
            f"expected the 8 independent leads {' '.join(INDEPENDENT_LEADS)} on axis -2, "
            f"got shape {x8.shape}"
        )
    m = vcg_matrix(method).astype(x8.dtype if x8.dtype.kind == "f" else np.float64)
    return np.einsum("vl,...lt->...vt", m, x8)


def from_vcg(vcg: np.ndarray) -> np.ndarray:
    """The 8 independent leads ``(…, 8, T)`` of a VCG ``(…, 3, T)`` through :data:`DOWER`.

    Use :func:`derive` for all 12 leads. This is a dipole-only synthesis: a record sent
    through ``from_vcg(to_vcg(x))`` loses its non-dipolar content.
    """
    vcg = np.asarray(vcg)
    if vcg.shape[-2] != 3:
        raise ValueError(f"expected a VCG with 3 components (X, Y, Z) on axis -2, got {vcg.shape}")
    m = DOWER.astype(vcg.dtype if vcg.dtype.kind == "f" else np.float64)
    return np.einsum("lv,...vt->...lt", m, vcg)
