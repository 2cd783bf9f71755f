"""3-D rotations and lead-matrix corrections shared by spatial and anatomical transforms.

A change of the Dower lead vectors ``D → D'`` (8 × 3) is applied to a record as the
correction ``x' = x + (D' − D) · T · x`` with ``T`` a leads → VCG matrix (inverse Dower or
Kors): only the dipolar part seen through the changed rows moves, so the non-dipolar
content of the record survives (science_anchors §3.6).
"""

from __future__ import annotations

import numpy as np

from augment import leads as _leads


def rotation_about(axis, angle_rad):
    """Rotation matrices ``(n, 3, 3)`` about unit ``axis`` ``(n, 3)`` by ``angle_rad`` ``(n,)``."""
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    c, s = np.cos(angle_rad)[:, None, None], np.sin(angle_rad)[:, None, None]
    k = cross_matrix(axis)
    return np.eye(3) + s * k + (1 - c) * (k @ k)


def rotation_xyz(angles_rad):
    """Rotations ``(n, 3, 3)`` = Rz·Ry·Rx for angles ``(n, 3)`` about X, Y, Z (radians)."""
    angles_rad = np.asarray(angles_rad, dtype=np.float64)
    n = len(angles_rad)
    out = np.broadcast_to(np.eye(3), (n, 3, 3)).copy()
    for axis in (0, 1, 2):
        unit = np.zeros((n, 3))
        unit[:, axis] = 1.0
        out = rotation_about(unit, angles_rad[:, axis]) @ out
    return out


def cross_matrix(v):
    """Skew matrices ``[v]×`` ``(…, 3, 3)`` of vectors ``(…, 3)``."""
    v = np.asarray(v)
    k = np.zeros(v.shape[:-1] + (3, 3))
    k[..., 0, 1], k[..., 0, 2] = -v[..., 2], v[..., 1]
    k[..., 1, 0], k[..., 1, 2] = v[..., 2], -v[..., 0]
    k[..., 2, 0], k[..., 2, 1] = -v[..., 1], v[..., 0]
    return k


def align_rotation(a, b):
    """Rotations ``(…, 3, 3)`` turning the directions of ``a`` onto those of ``b`` (Rodrigues)."""
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    v = np.cross(a, b)
    c = np.sum(a * b, axis=-1)[..., None, None]
    k = cross_matrix(v)
    return np.eye(3) + k + (k @ k) / np.maximum(1.0 + c, 1e-12)


def correction_matrix(new_dower, vcg_method):
    """``(n, 8, 8)`` matrices ``(D' − D) · T`` for new lead matrices ``(n, 8, 3)``."""
    return (np.asarray(new_dower) - _leads.DOWER) @ _leads.vcg_matrix(vcg_method)
