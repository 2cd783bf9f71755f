"""Noise and artifact transforms: each spectrum lands in its band; electrode-level physics.

Spectra are Welch estimates of ``output − input``. The electrode tests rebuild the electrode
potentials from the output with formulas written here (RA = −(I+II)/3, LA = (2I−II)/3,
LL = (2II−I)/3 relative to the Wilson terminal), independently of ``augment.noise_banks``.
"""

import numpy as np
import pytest
from scipy.signal import welch

import augment
from augment import leads
from augment.transforms import noise
from tests.augment.ecg_fixtures import synthetic_ecg

LEAD = {name: i for i, name in enumerate(leads.LEADS_12)}


def _real_records(shared_data, n=2):
    import wfdb

    recs = [wfdb.rdrecord(str(shared_data / "cinc2021" / f"E0750{i}")) for i in range(n)]
    assert all(r.fs == 500 and r.sig_name[:2] == ["I", "II"] for r in recs)
    x = np.stack([r.p_signal.T for r in recs]).astype(np.float32)
    return leads.derive(leads.independent(x)), 500.0  # stored III etc. carry rounding


def _added_psd(t, x, sfreq, seed=3, nperseg=None):
    out = t(x, sfreq, random_state=seed)
    d = (out - x).astype(np.float64)
    f, p = welch(d, fs=sfreq, nperseg=nperseg or min(d.shape[-1], int(4 * sfreq)), axis=-1)
    return f, p.sum(axis=(0, 1)), t.last_parameters


def _fraction(f, p, lo, hi):
    return p[(f >= lo) & (f <= hi)].sum() / p.sum()


def test_baseline_wander_band():
    """Baseline wander puts ≥ 95 % of its power in 0.05–2 Hz (plus the grid's leakage)."""
    sfreq = 250.0
    x = np.zeros((4, 12, int(120 * sfreq)), dtype=np.float32)
    f, p, _ = _added_psd(noise.BaselineWander(p=1.0), x, sfreq, nperseg=int(60 * sfreq))
    assert _fraction(f, p, 0.0, 2.2) >= 0.95
    assert _fraction(f, p, 0.0, 0.04) <= 0.05


def test_walking_artifact_at_step_rate_and_harmonics():
    """The walking artifact's power sits at the drawn step rate and its harmonics."""
    sfreq = 250.0
    x = np.zeros((1, 12, int(60 * sfreq)), dtype=np.float32)
    t = noise.WalkingArtifact(p=1.0, n_harmonics=3, jitter_rad=0.0)
    f, p, params = _added_psd(t, x, sfreq, nperseg=int(20 * sfreq))
    step = params[0]["step_hz"]
    near = np.zeros_like(f, dtype=bool)
    for k in (1, 2, 3):
        near |= np.abs(f - k * step) <= 0.15
    assert p[near].sum() / p.sum() >= 0.95
    peak = f[np.argmax(p)]
    assert min(abs(peak - k * step) for k in (1, 2, 3)) <= 0.1


def test_muscle_noise_band():
    """EMG lands in 20–200 Hz (Butterworth-shaped edges): ≥ 90 % of the power in 15–215 Hz."""
    sfreq = 500.0
    x = np.zeros((4, 12, int(10 * sfreq)), dtype=np.float32)
    t = noise.MuscleNoise(p=1.0, min_burst_rate_hz=1.0, max_burst_rate_hz=1.0)
    f, p, _ = _added_psd(t, x, sfreq)
    assert _fraction(f, p, 15.0, 215.0) >= 0.90
    assert _fraction(f, p, 0.0, 10.0) <= 0.02


def test_muscle_noise_is_bursty():
    """Bursts: the 50-ms RMS inside bursts is well above the floor between them."""
    sfreq = 500.0
    x = np.zeros((1, 12, int(10 * sfreq)), dtype=np.float32)
    t = noise.MuscleNoise(p=1.0, floor_fraction=0.1, min_burst_rate_hz=0.5,
                          max_burst_rate_hz=0.5, min_burst_s=0.3, max_burst_s=0.3)
    out = t(x, sfreq, random_state=4)[0, LEAD["V1"]]
    rms = np.sqrt((out[: len(out) // 25 * 25].reshape(-1, 25) ** 2).mean(axis=1))
    assert np.percentile(rms, 95) > 4 * np.percentile(rms, 20)


@pytest.mark.parametrize("line", [50.0, 60.0])
def test_powerline_at_mains_and_harmonics(line):
    """Powerline power is within ±1 Hz of f, 2f, 3f (below Nyquist)."""
    sfreq = 500.0
    x = np.zeros((3, 12, int(8 * sfreq)), dtype=np.float32)
    f, p, _ = _added_psd(noise.PowerlineNoise(p=1.0, line_freq_hz=line), x, sfreq)
    near = np.zeros_like(f, dtype=bool)
    for k in (1, 2, 3):
        near |= np.abs(f - k * line) <= 1.0
    assert p[near].sum() / p.sum() >= 0.95
    assert p[np.abs(f - line) <= 1.0].sum() > p[np.abs(f - 2 * line) <= 1.0].sum()


def test_gaussian_noise_is_white_and_scales_with_signal():
    """Gaussian noise is flat across the band; its variance grows where the signal is large."""
    sfreq = 500.0
    x = np.zeros((2, 12, 5000), dtype=np.float32)
    f, p, _ = _added_psd(noise.GaussianNoise(p=1.0, min_relative=0.0, max_relative=0.0),
                         x, sfreq)
    lo, hi = p[(f > 1) & (f < 125)].mean(), p[(f > 125) & (f < 249)].mean()
    assert 0.8 < lo / hi < 1.25
    big = np.zeros((1, 12, 5000), dtype=np.float32)
    big[0, :, 2500:] = 5.0  # a 5 mV plateau (I, II and V leads; derived leads follow)
    big = leads.derive(leads.independent(big))
    t = noise.GaussianNoise(p=1.0, min_sigma_mv=0.001, max_sigma_mv=0.001, min_relative=0.02,
                            max_relative=0.02)
    d = t(big, sfreq, random_state=1)[0, LEAD["V2"]] - big[0, LEAD["V2"]]
    assert d[2500:].std() > 20 * d[:2500].std()
    assert d[2500:].std() == pytest.approx(0.001 + 0.02 * 5.0, rel=0.1)


def test_impedance_noise_is_multiplicative():
    """No signal, no impedance noise; on a 10 Hz carrier the change sits at 10 ± 2 Hz."""
    sfreq = 500.0
    zeros = np.zeros((1, 12, 5000), dtype=np.float32)
    t = noise.ImpedanceNoise(p=1.0)
    np.testing.assert_array_equal(t(zeros, sfreq, random_state=0), zeros)
    x8 = np.zeros((2, 8, int(20 * sfreq)), dtype=np.float32)
    x8[:, 2:] = np.sin(2 * np.pi * 10.0 * np.arange(x8.shape[-1]) / sfreq)
    f, p, _ = _added_psd(t, leads.derive(x8), sfreq, nperseg=int(10 * sfreq))
    assert _fraction(f, p, 7.8, 12.2) >= 0.95


def _changed(out, x, tol=1e-5):
    return {name for name, i in LEAD.items() if np.abs(out[:, i] - x[:, i]).max() > tol}


def test_dropout_on_la_shows_where_la_enters(shared_data):
    """A lost LA changes I, III, aVR, aVL, aVF and every chest lead (via WCT); II stays."""
    x, sfreq = _real_records(shared_data)
    t = noise.ElectrodeDropout(p=1.0, electrodes=["LA"], min_duration_s=0.5,
                               max_duration_s=0.5)
    out = t(x, sfreq, random_state=2)
    assert _changed(out, x) == set(leads.LEADS_12) - {"II"}
    # RA and LL keep following the body (II untouched); LA's own potential freezes, so
    # LA = I' + RA, with RA = −(I+II)/3 of the input (Wilson-terminal gauge), is flat
    rec = t.last_parameters[0]
    a = int(round(rec["onset_s"][0] * sfreq))
    b = a + int(round(rec["duration_s"][0] * sfreq))
    ra = -(x[0, LEAD["I"]] + x[0, LEAD["II"]]) / 3
    la_out, la_in = out[0, LEAD["I"]] + ra, x[0, LEAD["I"]] + ra
    assert np.ptp(la_out[a:b]) < 1e-5
    assert np.ptp(la_in[a:b]) > 1e-2
    d = out[0] - x[0]
    np.testing.assert_allclose(d[LEAD["V2"]], -d[LEAD["I"]] / 3, atol=1e-6)  # via WCT
    assert leads.algebra_error(out) < 1e-5


def test_dropout_on_ra_leaves_iii_and_on_c3_only_v3(shared_data):
    """RA is not part of III = LL − LA; a chest electrode enters only its own lead."""
    x, sfreq = _real_records(shared_data)
    out = noise.ElectrodeDropout(p=1.0, electrodes=["RA"])(x, sfreq, random_state=5)
    assert _changed(out, x) == set(leads.LEADS_12) - {"III"}
    out = noise.ElectrodeDropout(p=1.0, electrodes=["C3"])(x, sfreq, random_state=5)
    assert _changed(out, x) == {"V3"}


def test_rail_fill_drives_the_electrode_to_the_rail(shared_data):
    """With fill='rail' the lost electrode reads the drawn rail level."""
    x, sfreq = _real_records(shared_data, n=1)
    t = noise.ElectrodeDropout(p=1.0, electrodes=["C5"], fill="rail")
    out = t(x, sfreq, random_state=8)
    rec = t.last_parameters[0]
    a = int(round(rec["onset_s"][0] * sfreq))
    b = a + int(round(rec["duration_s"][0] * sfreq))
    np.testing.assert_allclose(out[0, LEAD["V5"], a:b], rec["rail_mv"][0], atol=1e-4)


def test_baseline_shift_on_ll_enters_chest_leads_at_one_third():
    """An LL jump shows fully in II, not in I, and at −1/3 in V1–V6 (Wilson terminal)."""
    x = synthetic_ecg(n_records=1, seconds=4.0)
    t = noise.BaselineShift(p=1.0, electrodes=["LL"], min_gain=1.0, max_gain=1.0, n_events=1)
    out = t(x, 500.0, random_state=3)
    d = out - x
    assert _changed(out, x) == set(leads.LEADS_12) - {"I"}
    np.testing.assert_allclose(d[0, LEAD["V4"]], -d[0, LEAD["II"]] / 3, atol=1e-5)
    rec = t.last_parameters[0]
    a = int(round(rec["onset_s"][0] * 500.0))
    assert d[0, LEAD["II"], a] == pytest.approx(rec["offset_mv"][0], rel=1e-4)
    assert np.abs(d[0, :, :a]).max() == 0.0


@pytest.mark.parametrize("cls", [noise.BaselineWander, noise.WalkingArtifact,
                                 noise.PowerlineNoise, noise.MuscleNoise])
def test_additive_noise_on_one_chest_electrode_stays_in_its_lead(cls):
    """Noise generated on C2 only appears in V2 — never independently in derived leads."""
    x = np.zeros((2, 12, 2000), dtype=np.float32)
    out = cls(p=1.0, electrodes=["C2"])(x, 500.0, random_state=0)
    assert _changed(out, x, tol=0.0) == {"V2"}
    out = cls(p=1.0, electrodes=["RA", "LA", "LL"])(x, 500.0, random_state=0)
    assert leads.algebra_error(out) < 1e-5
    # limb-electrode noise enters the chest leads only through the Wilson terminal: equal in all
    np.testing.assert_allclose(out[:, LEAD["V1"]], out[:, LEAD["V6"]], atol=1e-6)


def test_wander_on_la_only_follows_einthoven():
    """Wander on LA alone: II stays 0, aVL equals I, aVF = −I/2, chest leads = −LA/3 = −I/3."""
    x = np.zeros((1, 12, 3000), dtype=np.float32)
    t = noise.BaselineWander(p=1.0, electrodes=["LA"], min_amplitude_mv=0.3,
                             max_amplitude_mv=0.3)
    out = t(x, 500.0, random_state=0)[0]
    assert np.abs(out[LEAD["I"]]).max() > 0.1
    np.testing.assert_array_equal(out[LEAD["II"]], 0.0)
    np.testing.assert_allclose(out[LEAD["aVL"]], out[LEAD["I"]], atol=1e-6)
    np.testing.assert_allclose(out[LEAD["aVF"]], -out[LEAD["I"]] / 2, atol=1e-6)
    np.testing.assert_allclose(out[LEAD["V3"]], -out[LEAD["I"]] / 3, atol=1e-6)


ROWWISE = [n for n, c in augment.transform_registry(include_compositions=False).items()
           if c.supports_rows and not getattr(c, "requires_profile", False)]


@pytest.mark.parametrize("name", ROWWISE)
def test_rows_protocol_matches_a_subset_copy(name):
    """In place on rows of a batch (how pipelines run subsets) == the same records copied out."""
    from augment.base import make_rngs

    cls = augment.transform_registry()[name]
    x8 = leads.independent(synthetic_ecg(n_records=6, seconds=2.0))
    rows = np.array([1, 4, 5])
    inplace = x8.copy()
    out, recs = cls(p=1.0).transform_batch(inplace, 500.0, make_rngs([7, 8, 9], 3),
                                           inplace=True, rows=rows)
    # reference: the plain whole-array path (randomize, apply without rows; p=1 draws
    # no gate)
    t, rngs, sub = cls(p=1.0), make_rngs([7, 8, 9], 3), x8[rows].copy()
    params = t.randomize_parameters(sub, 500.0, rngs)
    ref = t.apply(sub, 500.0, params)
    np.testing.assert_allclose(out[rows], ref, atol=1e-6)
    np.testing.assert_array_equal(np.delete(out, rows, axis=0), np.delete(x8, rows, axis=0))
    assert all(r["applied"] for r in recs) and len(recs) == 3
