"""Spatial transforms against independent reference computations."""

import numpy as np
import pytest

from augment import (
    AmplitudeScale,
    InterLeadDelay,
    LeadVectorRotation,
    TimeShift,
    TimeStretch,
    leads,
)
from tests.augment.ecg_fixtures import synthetic_ecg

SFREQ = 500.0


def _dipolar(n=3, n_times=1000, seed=0):
    """Purely dipolar records x8 = DOWER @ vcg, with their VCG."""
    vcg = np.random.default_rng(seed).normal(size=(n, 3, n_times))
    return (leads.DOWER @ vcg).astype(np.float32), vcg


def test_lead_vector_rotation_turns_exactly_one_lead_by_the_drawn_angle():
    """On dipolar data the turned lead equals c'·v with angle(c, c') = θ; others unchanged."""
    x8, vcg = _dipolar()
    t = LeadVectorRotation(min_angle_deg=12.0, max_angle_deg=12.0, n_leads=1, p=1.0)
    out = leads.independent(t(leads.derive(x8), SFREQ, random_state=[1, 2, 3]))
    for i, rec in enumerate(t.last_parameters):
        angles = np.array(rec["angle_deg"])
        (lead,) = np.flatnonzero(angles)
        assert abs(angles[lead]) == pytest.approx(12.0)
        # independent reference: Rodrigues rotation of the Dower row about the drawn axis
        c, k = leads.DOWER[lead], np.array(rec["axis"][lead])
        th = np.deg2rad(angles[lead])
        c_new = c * np.cos(th) + np.cross(k, c) * np.sin(th) + k * (k @ c) * (1 - np.cos(th))
        cos = c @ c_new / (np.linalg.norm(c) * np.linalg.norm(c_new))
        assert np.rad2deg(np.arccos(cos)) == pytest.approx(12.0, abs=1e-6)
        np.testing.assert_allclose(out[i, lead], c_new @ vcg[i], atol=2e-3 * np.abs(x8).max())
        others = np.arange(8) != lead
        np.testing.assert_array_equal(out[i, others], x8[i, others])


def _rodrigues(c, k, th):
    return c * np.cos(th) + np.cross(k, c) * np.sin(th) + k * (k @ c) * (1 - np.cos(th))


def test_lead_vector_rotation_keeps_non_dipolar_content():
    """x' = x + (D' − D)·T·x: the part of x that D·T misses is carried over unchanged."""
    x = synthetic_ecg(2, seconds=2.0)
    x8 = leads.independent(x).astype(np.float64)
    t = LeadVectorRotation(n_leads=(2, 4), p=1.0)
    out = leads.independent(t(x, SFREQ, random_state=4)).astype(np.float64)
    for i, rec in enumerate(t.last_parameters):
        d_new = leads.DOWER.copy()
        for lead in np.flatnonzero(rec["angle_deg"]):
            d_new[lead] = _rodrigues(leads.DOWER[lead], np.array(rec["axis"][lead]),
                                     np.deg2rad(rec["angle_deg"][lead]))
        vcg = leads.INVERSE_DOWER @ x8[i]
        np.testing.assert_allclose(out[i], x8[i] + (d_new - leads.DOWER) @ vcg, atol=1e-5)
        # residual w.r.t. the new lead matrix = the record's own non-dipolar part
        np.testing.assert_allclose(out[i] - d_new @ vcg, x8[i] - leads.DOWER @ vcg, atol=1e-5)
        # full resynthesis D'·T·x would lose it (0.05 mV sinusoids on V1–V6)
        assert np.abs(out[i] - d_new @ vcg)[2:].max() > 0.03


def test_time_stretch_matches_numpy_interp():
    """Output sample t reads the input at offset + t·rate (np.interp reference)."""
    x = synthetic_ecg(3, seconds=2.0)
    t = TimeStretch(p=1.0)
    out = t(x, SFREQ, random_state=8)
    n_times = x.shape[-1]
    for i, rec in enumerate(t.last_parameters):
        assert 0.05 <= abs(rec["rate"] - 1) <= 0.10
        pos = rec["offset_s"] * SFREQ + np.arange(n_times) * rec["rate"]
        ref = np.interp(pos, np.arange(n_times), x[i, 1])
        np.testing.assert_allclose(out[i, 1], ref, atol=1e-5)


def test_time_stretch_direction_fixes_the_sign_and_widens_the_faster_range():
    """direction='faster' only compresses (up to 2x); 'slower' only stretches; bad names fail."""
    x = synthetic_ecg(16, seconds=1.0)
    fast = TimeStretch(min_stretch_pct=60.0, max_stretch_pct=90.0, direction="faster", p=1.0)
    fast(x, SFREQ, random_state=1)
    assert all(1.6 <= r["rate"] <= 1.9 for r in fast.last_parameters)
    slow = TimeStretch(direction="slower", p=1.0)
    slow(x, SFREQ, random_state=1)
    assert all(0.90 <= r["rate"] <= 0.95 for r in slow.last_parameters)
    with pytest.raises(ValueError, match="direction must be one of"):
        TimeStretch(direction="up", p=1.0)(x, SFREQ, random_state=0)
    with pytest.raises(ValueError, match="max_stretch_pct"):  # 60 % only when compressing
        TimeStretch(min_stretch_pct=0.0, max_stretch_pct=60.0, p=1.0)(x, SFREQ, random_state=0)


def test_inter_lead_delay_shifts_a_sinusoid_by_the_drawn_delay():
    """A delayed 2 Hz sinusoid's phase moves by 2π·f·delay; other leads stay put."""
    t_s = np.arange(2000) / SFREQ
    x8 = np.tile(np.sin(2 * np.pi * 2.0 * t_s), (2, 8, 1)).astype(np.float32)
    t = InterLeadDelay(min_delay_ms=23.3, max_delay_ms=23.3, n_leads=2, p=1.0)
    out = leads.independent(t(leads.derive(x8), SFREQ, random_state=[3, 4]))
    for i, rec in enumerate(t.last_parameters):
        delay = np.array(rec["delay_ms"]) / 1000.0
        assert np.count_nonzero(delay) == 2
        for lead in range(8):
            ref = np.sin(2 * np.pi * 2.0 * (t_s - delay[lead]))
            inner = slice(100, -100)
            np.testing.assert_allclose(out[i, lead, inner], ref[inner], atol=2e-3)


def test_amplitude_scale_and_time_shift_reference():
    """Per-lead gains multiply the independent leads; a shift rolls all leads together."""
    x = synthetic_ecg(2, seconds=1.0)
    a = AmplitudeScale(p=1.0)
    out = leads.independent(a(x, SFREQ, random_state=1))
    for i, rec in enumerate(a.last_parameters):
        assert all(0.8 <= s <= 1.2 for s in rec["scale"])
        ref = leads.independent(x)[i] * np.array(rec["scale"])[:, None]
        np.testing.assert_allclose(out[i], ref, rtol=1e-6, atol=1e-7)
    s = TimeShift(p=1.0)
    out = s(x, SFREQ, random_state=2)
    for i, rec in enumerate(s.last_parameters):
        np.testing.assert_array_equal(out[i], np.roll(x[i], round(rec["shift_s"] * SFREQ), -1))
