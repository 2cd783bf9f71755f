"""A small torso model: electrode positions and how displacing them changes lead vectors.

Geometry (cm, heart centre at the origin, Frank axes: X to the subject's left, Y to the
feet, Z to the back). The chest is an elliptic cylinder, half-width ``A_CM`` and
half-depth ``B_CM``, whose axis lies ``HEART_X_CM`` to the right of and ``TORSO_Z_CM``
behind the heart centre. Precordial electrodes sit on it: V1/V2 at the 4th intercostal
space beside the sternum, V4 at the 5th in the mid-clavicular line, V3 between, V5/V6
at V4's level on the anterior / mid-axillary lines. Standard limb electrodes act at the
limb roots (shoulders, left groin); Mason–Likar ones sit in the infraclavicular fossae
and on the left lower abdomen (Papouchado et al. 1987).

The model lead vector of an electrode at ``r`` is the infinite-medium dipole field
``r / |r|³`` (science_anchors §3.1/§3.6, FECGSYN's form); leads subtract electrodes as
the lead algebra does (Wilson terminal included). Its absolute values are crude, so it is
only used *relatively*: each Dower row is turned by the angle the model row turns and,
for precordial leads, scaled by the model's length ratio (:func:`displaced_dower`).
Limb rows keep their length: an infinite medium exaggerates how much closer torso
electrodes pick up, whereas the turn alone reproduces the published Mason–Likar effects
(R lower in I and aVL, higher in II, III, aVF, a rightward frontal axis; Papouchado 1987,
Farrell 2008).
"""

from __future__ import annotations

import numpy as np

from augment import leads as _leads
from augment.transforms._geometry import align_rotation

A_CM, B_CM = 15.0, 11.0
HEART_X_CM, TORSO_Z_CM = 3.0, 4.0
ICS_CM = 2.5  # vertical distance between intercostal spaces
HEART_Y_CM = 0.0  # height of the 4th intercostal space relative to the heart centre (+ = lower)
CHEST_ELECTRODES = ("C1", "C2", "C3", "C4", "C5", "C6")

_V1_PHI, _V2_PHI = np.arcsin(-2.5 / A_CM), np.arcsin(2.5 / A_CM)
_V4_PHI, _V5_PHI = np.arcsin(9.5 / A_CM), np.arcsin(13.0 / A_CM)
#: Angle on the chest ellipse (0 = sternum, +90° = left mid-axillary) of C1…C6.
CHEST_PHI = np.array(
    [_V1_PHI, _V2_PHI, (_V2_PHI + _V4_PHI) / 2, _V4_PHI, _V5_PHI, np.pi / 2]
)
#: Height (cm, + = down) of C1…C6 relative to the heart centre.
CHEST_Y_CM = np.array([0.0, 0.0, ICS_CM / 2, ICS_CM, ICS_CM, ICS_CM]) + HEART_Y_CM

#: Effective positions of RA, LA, LL: standard (limb roots) and Mason–Likar (torso).
LIMB_STANDARD_CM = np.array([[-20.0, -15.0, 4.0], [14.0, -15.0, 4.0], [6.0, 40.0, 4.0]])
LIMB_TORSO_CM = np.array([[-15.0, -12.0, -2.6], [9.0, -12.0, -2.6], [8.0, 22.0, -3.5]])


def chest_positions(phi, y_cm):
    """Positions ``(…, 3)`` of points on the chest ellipse at angle ``phi`` and height ``y_cm``."""
    phi, y_cm = np.broadcast_arrays(phi, y_cm)
    return np.stack(
        [A_CM * np.sin(phi) - HEART_X_CM, y_cm, TORSO_Z_CM - B_CM * np.cos(phi)], axis=-1
    )


def arc_speed(phi):
    """cm of chest surface per radian of ``phi`` (to move electrodes by cm along the arc)."""
    return np.hypot(A_CM * np.cos(phi), B_CM * np.sin(phi))


def nominal_positions():
    """``(9, 3)`` positions of RA, LA, LL, C1…C6 in the standard 12-lead placement."""
    return np.concatenate([LIMB_STANDARD_CM, chest_positions(CHEST_PHI, CHEST_Y_CM)])


def model_lead_vectors(positions):
    """Model lead vectors ``(…, 8, 3)`` of I, II, V1…V6 for electrode positions ``(…, 9, 3)``."""
    r = np.asarray(positions, dtype=np.float64)
    field = r / np.linalg.norm(r, axis=-1, keepdims=True) ** 3
    return np.einsum("le,...ek->...lk", _leads.ELECTRODE_TO_LEADS, field)


def displaced_dower(positions):
    """Dower matrices ``(…, 8, 3)`` for displaced electrode positions ``(…, 9, 3)``.

    Each Dower row is turned by the rotation that takes the model row at the standard
    positions onto the model row at ``positions``; precordial rows are also scaled by the
    model's length ratio (limb rows keep their length, see the module docstring).
    """
    m0 = model_lead_vectors(nominal_positions())
    m1 = model_lead_vectors(positions)
    rot = align_rotation(np.broadcast_to(m0, m1.shape), m1)
    scale = np.linalg.norm(m1, axis=-1) / np.linalg.norm(m0, axis=-1)
    scale[..., :2] = 1.0
    return np.einsum("...lij,lj->...li", rot, _leads.DOWER) * scale[..., None]
