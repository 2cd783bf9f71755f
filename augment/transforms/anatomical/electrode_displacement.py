"""Shirt electrode displacement: chest electrodes on/off the V1–V6 arc, limb ones on the torso."""

from __future__ import annotations

import numpy as np

from augment import leads as _leads
from augment.transforms._common import check_leads, check_pair
from augment.transforms._geometry import correction_matrix
from augment.transforms._linear import BaseLinearTransform
from augment.transforms.anatomical import torso_model
from shirtecg_common.validation import check_option


class ElectrodeDisplacement(BaseLinearTransform):
    """Move the electrodes as a shirt does, and re-project the heart dipole.

    The chest electrodes are woven into one garment, so they move together: the whole
    set shifts by ``shift_cm`` in a direction on the chest surface (0° = up, 90° = towards
    the subject's left along the V1–V6 arc, 180° = down), plus an independent jitter per
    electrode. The limb electrodes move from the limb roots towards Mason–Likar torso
    positions by a fraction ``limb_fraction`` (1 = fully on the torso). The new lead
    vectors come from :mod:`~augment.transforms.anatomical.torso_model` and are applied as
    the correction ``x' = x + (D' − D) · T · x``, which keeps non-dipolar content.

    Parameters
    ----------
    min_shift_cm, max_shift_cm : float
        Range of the common chest shift (default 0–3 cm; placement scatter in practice
        averages 2.9 cm, Wenger & Kligfield 1996).
    min_direction_deg, max_direction_deg : float
        Range of its direction on the chest (default 0–360: any).
    jitter_cm : float
        Standard deviation of each chest electrode's own extra shift per direction.
    electrodes : list of str
        Chest electrodes that move (out of C1…C6; default all).
    min_limb_fraction, max_limb_fraction : float
        Range of the limb electrodes' move towards the torso, 0–1 (default 0–1).
    vcg_method : {"inverse_dower", "kors"}
        Leads → VCG matrix ``T``.
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record: ``shift_cm``, ``direction_deg``, ``limb_fraction`` and
    ``chest_offsets_cm`` (per chest electrode: [up, along-arc] in cm, jitter included).
    """

    def __init__(self, min_shift_cm=0.0, max_shift_cm=3.0, min_direction_deg=0.0,
                 max_direction_deg=360.0, jitter_cm=0.5,
                 electrodes=torso_model.CHEST_ELECTRODES, min_limb_fraction=0.0,
                 max_limb_fraction=1.0, vcg_method="inverse_dower", p=0.5):
        super().__init__(p=p)
        self.min_shift_cm = min_shift_cm
        self.max_shift_cm = max_shift_cm
        self.min_direction_deg = min_direction_deg
        self.max_direction_deg = max_direction_deg
        self.jitter_cm = jitter_cm
        self.electrodes = electrodes
        self.min_limb_fraction = min_limb_fraction
        self.max_limb_fraction = max_limb_fraction
        self.vcg_method = vcg_method

    def _validate_params(self, sfreq):
        check_pair(self, "min_shift_cm", self.min_shift_cm, "max_shift_cm", self.max_shift_cm,
                   lower=0.0, upper=10.0)
        check_pair(self, "min_direction_deg", self.min_direction_deg, "max_direction_deg",
                   self.max_direction_deg, lower=-360.0, upper=720.0)
        check_pair(self, "jitter_cm", self.jitter_cm, "jitter_cm", self.jitter_cm,
                   lower=0.0, upper=5.0)
        check_pair(self, "min_limb_fraction", self.min_limb_fraction, "max_limb_fraction",
                   self.max_limb_fraction, lower=0.0, upper=1.0)
        check_leads(self, "electrodes", self.electrodes, torso_model.CHEST_ELECTRODES)
        check_option(f"{type(self).__name__}: vcg_method", self.vcg_method,
                     tuple(_leads.VCG_METHODS))

    def randomize_parameters(self, x, sfreq, rngs):
        moving = check_leads(self, "electrodes", self.electrodes, torso_model.CHEST_ELECTRODES)
        # two generator calls per record (3 uniforms, 12 normals), the rest vectorized
        u = np.empty((len(rngs), 3))
        jitter = np.empty((len(rngs), 6, 2))
        for i, rng in enumerate(rngs):
            u[i] = rng.random(3)
            jitter[i] = rng.standard_normal((6, 2))
        jitter *= self.jitter_cm
        shift = self.min_shift_cm + (self.max_shift_cm - self.min_shift_cm) * u[:, 0]
        direction = self.min_direction_deg + (
            self.max_direction_deg - self.min_direction_deg) * u[:, 1]
        limb = self.min_limb_fraction + (
            self.max_limb_fraction - self.min_limb_fraction) * u[:, 2]
        theta = np.deg2rad(direction)
        common = np.stack([np.cos(theta), np.sin(theta)], axis=-1) * shift[:, None]
        offsets = np.zeros((len(rngs), 6, 2))
        offsets[:, moving] = common[:, None, :] + jitter[:, moving]
        return {"shift_cm": shift, "direction_deg": direction, "limb_fraction": limb,
                "chest_offsets_cm": offsets}

    def lead_matrices(self, params):
        positions = self.positions(params["chest_offsets_cm"], params["limb_fraction"])
        new_dower = torso_model.displaced_dower(positions)
        return np.eye(8) + correction_matrix(new_dower, self.vcg_method)

    @staticmethod
    def positions(chest_offsets_cm, limb_fraction):
        """Electrode positions ``(n, 9, 3)`` for chest offsets ``(n, 6, [up, along])`` in cm."""
        offsets = np.asarray(chest_offsets_cm, dtype=np.float64)
        frac = np.asarray(limb_fraction, dtype=np.float64)[:, None, None]
        phi = torso_model.CHEST_PHI + offsets[..., 1] / torso_model.arc_speed(torso_model.CHEST_PHI)
        chest = torso_model.chest_positions(phi, torso_model.CHEST_Y_CM - offsets[..., 0])
        limbs = (1 - frac) * torso_model.LIMB_STANDARD_CM + frac * torso_model.LIMB_TORSO_CM
        return np.concatenate([limbs, chest], axis=1)
