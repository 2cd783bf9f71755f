"""Heart-axis rotation and VCG scaling (body habitus)."""

from __future__ import annotations

import numpy as np

from augment import leads as _leads
from augment.transforms._common import check_pair, signed_uniform, uniform
from augment.transforms._geometry import correction_matrix, rotation_xyz
from augment.transforms._linear import BaseLinearTransform
from shirtecg_common.validation import check_option


class HeartAxisRotation(BaseLinearTransform):
    """Turn and scale the heart dipole: a different heart position and body build.

    The VCG ``d`` becomes ``s · R · d`` with ``R`` small rotations about the X, Y and Z
    axes and ``s`` a common scale (thicker or thinner chest wall), applied as the
    correction ``x' = x + (s · D · R − D) · T · x``. The heart's long axis varies
    between people by about ±9° (Hoekema et al. 1999), the default range.

    Parameters
    ----------
    min_angle_deg, max_angle_deg : float
        Range of each of the three rotation angles' magnitude (sign random; default 0–10).
    min_scale, max_scale : float
        Range of the VCG scale (default 0.9–1.1).
    vcg_method : {"inverse_dower", "kors"}
        Leads → VCG matrix ``T``.
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record: ``angles_deg`` (about X, Y, Z) and ``scale``.
    """

    def __init__(self, min_angle_deg=0.0, max_angle_deg=10.0, min_scale=0.9, max_scale=1.1,
                 vcg_method="inverse_dower", p=0.5):
        super().__init__(p=p)
        self.min_angle_deg = min_angle_deg
        self.max_angle_deg = max_angle_deg
        self.min_scale = min_scale
        self.max_scale = max_scale
        self.vcg_method = vcg_method

    def _validate_params(self, sfreq):
        check_pair(self, "min_angle_deg", self.min_angle_deg, "max_angle_deg",
                   self.max_angle_deg, lower=0.0, upper=90.0)
        check_pair(self, "min_scale", self.min_scale, "max_scale", self.max_scale, lower=0.0)
        check_option(f"{type(self).__name__}: vcg_method", self.vcg_method,
                     tuple(_leads.VCG_METHODS))

    def randomize_parameters(self, x, sfreq, rngs):
        return {"angles_deg": signed_uniform(rngs, self.min_angle_deg, self.max_angle_deg, 3),
                "scale": uniform(rngs, self.min_scale, self.max_scale)}

    def lead_matrices(self, params):
        rot = rotation_xyz(np.deg2rad(np.asarray(params["angles_deg"], dtype=np.float64)))
        scale = np.asarray(params["scale"], dtype=np.float64)[:, None, None]
        new_dower = scale * (_leads.DOWER @ rot)
        return np.eye(8) + correction_matrix(new_dower, self.vcg_method)
