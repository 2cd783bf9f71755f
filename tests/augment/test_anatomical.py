"""Anatomical transforms: torso-model sanity, exact algebra, and physics on real LUDB records."""

import numpy as np
import pytest
import scipy.signal

from augment import ElectrodeDisplacement, HeartAxisRotation, PrecordialLimbScale, leads
from augment.transforms.anatomical import torso_model
from tests.augment.ecg_fixtures import synthetic_ecg

SFREQ = 500.0
LUDB_RECORD = "ludb/1"


def _fixed_displacement(up_cm=0.0, limb_fraction=0.0, electrodes=torso_model.CHEST_ELECTRODES,
                        direction_deg=0.0):
    return ElectrodeDisplacement(min_shift_cm=up_cm, max_shift_cm=up_cm,
                                 min_direction_deg=direction_deg, max_direction_deg=direction_deg,
                                 jitter_cm=0.0, electrodes=electrodes,
                                 min_limb_fraction=limb_fraction,
                                 max_limb_fraction=limb_fraction, p=1.0)


def test_torso_model_rows_point_like_dower_and_nominal_is_identity():
    """Model lead vectors lie within 30° of the Dower rows; no move → D' = D, x' = x."""
    m = torso_model.model_lead_vectors(torso_model.nominal_positions())
    norms = np.linalg.norm(m, axis=1) * np.linalg.norm(leads.DOWER, axis=1)
    cos = np.sum(m * leads.DOWER, 1) / norms
    assert np.all(np.degrees(np.arccos(cos)) < 30), np.degrees(np.arccos(cos))
    np.testing.assert_allclose(torso_model.displaced_dower(torso_model.nominal_positions()[None]),
                               leads.DOWER[None], atol=1e-12)
    x = synthetic_ecg(2, seconds=1.0)
    np.testing.assert_allclose(_fixed_displacement()(x, SFREQ, 0), x, atol=1e-6)


def test_displacement_grows_with_distance_and_v2_is_sensitive():
    """Larger shifts change the precordial rows more; V2's row changes more than V6's."""
    t = ElectrodeDisplacement()
    changes = []
    for shift in (1.0, 2.0, 3.0):
        offsets = np.zeros((1, 6, 2))
        offsets[0, :, 0] = shift  # all chest electrodes up
        d_new = torso_model.displaced_dower(t.positions(offsets, np.zeros(1)))[0]
        changes.append(np.linalg.norm(d_new - leads.DOWER, axis=1))
    changes = np.array(changes)
    assert np.all(np.diff(changes[:, 2:], axis=0) > 0)
    assert changes[-1, leads.INDEPENDENT_LEADS.index("V2")] > changes[-1, -1]


def test_heart_axis_rotation_exact_on_dipolar_data():
    """On x = D·v the output equals D·(s·R·v) with R = Rz·Ry·Rx from the drawn angles."""
    vcg = np.random.default_rng(0).normal(size=(2, 3, 400))
    x8 = (leads.DOWER @ vcg).astype(np.float32)
    t = HeartAxisRotation(p=1.0)
    out = leads.independent(t(leads.derive(x8), SFREQ, random_state=[4, 5]))
    for i, rec in enumerate(t.last_parameters):
        ax, ay, az = np.deg2rad(rec["angles_deg"])
        rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
        ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
        rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
        ref = leads.DOWER @ (rec["scale"] * rz @ ry @ rx @ vcg[i])
        np.testing.assert_allclose(out[i], ref, atol=3e-3 * np.abs(x8).max())


def test_precordial_limb_scale_reference():
    """V1–V6 get one gain in 0.7–1.3, I and II another in 0.9–1.1."""
    x = synthetic_ecg(3, seconds=1.0)
    t = PrecordialLimbScale(p=1.0)
    out = leads.independent(t(x, SFREQ, random_state=2))
    x8 = leads.independent(x)
    for i, rec in enumerate(t.last_parameters):
        assert 0.7 <= rec["precordial_scale"] <= 1.3 and 0.9 <= rec["limb_scale"] <= 1.1
        np.testing.assert_allclose(out[i, 2:], x8[i, 2:] * rec["precordial_scale"], rtol=1e-6,
                                   atol=1e-7)
        np.testing.assert_allclose(out[i, :2], x8[i, :2] * rec["limb_scale"], rtol=1e-6, atol=1e-7)


# --------------------------------------------------------------------------- real records
@pytest.fixture(scope="module")
def ludb1(shared_data):
    """LUDB record 1 (12 leads, 500 Hz, 0.5 Hz high-passed) with P and QRS boundaries."""
    wfdb = pytest.importorskip("wfdb")
    base = str(shared_data / LUDB_RECORD)
    rec = wfdb.rdrecord(base)
    names = [n.lower() for n in rec.sig_name]
    x = rec.p_signal.T[[names.index(n.lower()) for n in leads.LEADS_12]]
    sos = scipy.signal.butter(2, 0.5, "highpass", fs=rec.fs, output="sos")
    x = scipy.signal.sosfiltfilt(sos, x).astype(np.float32)

    def waves(extension, symbol):
        ann = wfdb.rdann(base, extension)
        s, out = ann.symbol, []
        for k in range(1, len(s) - 1):
            if s[k] == symbol and s[k - 1] == "(" and s[k + 1] == ")":
                out.append((ann.sample[k - 1], ann.sample[k + 1]))
        return out

    return x, float(rec.fs), waves("v1", "p"), waves("ii", "N")


def _mean_over(x, lead, windows):
    return float(np.mean([x[leads.LEADS_12.index(lead), a:b + 1].mean() for a, b in windows]))


def test_v1_v2_moved_up_make_p_wave_in_v1_more_negative(ludb1):
    """Misplacing V1/V2 an intercostal space high (~2.5 cm) makes P in V1 more negative (§3.5)."""
    x, sfreq, p_waves, _ = ludb1
    assert len(p_waves) >= 4
    p_v1 = [_mean_over(_fixed_displacement(up, electrodes=("C1", "C2"))(x, sfreq, 0), "V1",
                       p_waves) for up in (0.0, 1.5, 3.0)]
    assert p_v1[0] == pytest.approx(_mean_over(x, "V1", p_waves), abs=1e-6)
    assert p_v1[2] < p_v1[1] < p_v1[0], p_v1
    # moving them down does the opposite
    assert _mean_over(_fixed_displacement(2.5, electrodes=("C1", "C2"),
                                                       direction_deg=180.0)(x, sfreq, 0), "V1",
                      p_waves) > p_v1[0]


def test_torso_limb_electrodes_shift_frontal_qrs_axis_rightward(ludb1):
    """Mason–Likar-like limb positions: axis moves rightward, R in lead I drops (§3.5)."""
    x, sfreq, _, qrs = ludb1

    def axis_and_r_in_i(y):
        area_i = np.mean([y[0, a:b + 1].sum() for a, b in qrs])
        area_avf = np.mean([y[5, a:b + 1].sum() for a, b in qrs])
        r_i = np.mean([y[0, a:b + 1].max() for a, b in qrs])
        return np.degrees(np.arctan2(area_avf, area_i)), r_i

    axis0, r0 = axis_and_r_in_i(x)
    axis_half, _ = axis_and_r_in_i(_fixed_displacement(limb_fraction=0.5)(x, sfreq, 0))
    axis1, r1 = axis_and_r_in_i(_fixed_displacement(limb_fraction=1.0)(x, sfreq, 0))
    assert axis0 < axis_half < axis1, (axis0, axis_half, axis1)
    assert axis1 - axis0 > 2.0
    assert r1 < r0
