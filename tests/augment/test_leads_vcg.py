"""Dower / inverse-Dower / Kors matrices: published values, orientation, real Frank leads."""

import numpy as np
import pytest
import scipy.signal

from augment import leads

PTB_RECORD = "wfdb_python_samples/s0010_re"


def test_dower_limb_rows_and_derived_rows_follow_lead_algebra():
    """The Dower rows of I and II reproduce the published III/aVR/aVL/aVF rows."""
    d12 = leads.DERIVE_MATRIX @ leads.DOWER
    published = {"III": (-0.397, 1.301, -0.191), "aVR": (-0.434, -0.415, 0.037),
                 "aVL": (0.515, -0.768, 0.125), "aVF": (-0.081, 1.184, -0.162)}
    for name, row in published.items():
        np.testing.assert_allclose(d12[leads.LEADS_12.index(name)], row, atol=1.5e-3)
    np.testing.assert_allclose(leads.DOWER[leads.INDEPENDENT_LEADS.index("V2")],
                               (0.044, 0.164, -1.387))


def test_finish_in_output_is_bit_identical_to_the_lead_algebra():
    """The pipeline's end step (a matrix product per block of records) gives exactly the
    float32 values of III = II − I, aVR = −(I+II)/2, aVL = I − II/2, aVF = II − I/2."""
    rng = np.random.default_rng(0)
    x8 = (rng.standard_normal((11, 8, 257)) * 10.0 ** rng.uniform(-3, 3, (11, 8, 1))
          ).astype(np.float32)
    full = np.full((11, 12, 257), np.nan, dtype=np.float32)
    full[:, 4:12] = x8
    out = leads.finish_in_output(full, full[:, 4:12])
    i, ii = x8[:, 0], x8[:, 1]
    half = np.float32(0.5)
    expected = np.stack([i, ii, ii - i, -(i + ii) * half, i - ii * half, ii - i * half],
                        axis=1)
    np.testing.assert_array_equal(out[:, :6], expected)
    np.testing.assert_array_equal(out[:, 6:], x8[:, 2:])
    np.testing.assert_array_equal(leads.derive(x8), out)


def test_inverse_dower_is_pseudo_inverse_of_dower():
    """Edenbrandt & Pahlm's matrix equals pinv(Dower) to the 3 published decimals."""
    np.testing.assert_allclose(leads.INVERSE_DOWER, np.linalg.pinv(leads.DOWER), atol=6e-4)
    np.testing.assert_allclose(leads.INVERSE_DOWER @ leads.DOWER, np.eye(3), atol=3e-3)


def test_kors_is_a_regression_not_an_inverse():
    """KORS @ DOWER matches the value quoted in science_anchors §3.4, not identity."""
    expected = [[0.97, -0.11, 0.13], [0.09, 1.01, -0.08], [0.00, -0.38, 0.89]]
    np.testing.assert_allclose(leads.KORS @ leads.DOWER, expected, atol=0.011)


def test_to_vcg_from_vcg_shapes_and_errors():
    """Shapes, dtype kept, bad method or lead count named in the error."""
    x = np.random.default_rng(0).normal(size=(3, 8, 50)).astype(np.float32)
    v = leads.to_vcg(x, method="inverse_dower")
    assert v.shape == (3, 3, 50) and v.dtype == np.float32
    # a pure dipole survives the round trip through Dower and its pseudo-inverse
    np.testing.assert_allclose(
        leads.to_vcg(leads.from_vcg(v), "inverse_dower"), v, atol=3e-3 * np.abs(v).max()
    )
    with pytest.raises(ValueError, match="kors"):
        leads.to_vcg(x, method="frank")
    with pytest.raises(ValueError, match="8 independent"):
        leads.to_vcg(x[:, :7])
    with pytest.raises(ValueError, match="3 components"):
        leads.from_vcg(x)


def _frank_correlations(x8, frank, matrix):
    vcg = matrix @ x8
    return np.array([np.corrcoef(vcg[i], frank[i])[0, 1] for i in range(3)])


@pytest.fixture(scope="module")
def ptb_s0010(shared_data):
    """12 s of PTB s0010_re: 8 independent leads and the measured Frank leads (0.5–40 Hz)."""
    wfdb = pytest.importorskip("wfdb")
    rec = wfdb.rdrecord(str(shared_data / PTB_RECORD), sampto=12000)
    names = [n.lower() for n in rec.sig_name]
    sig = rec.p_signal
    sos = scipy.signal.butter(2, [0.5, 40.0], btype="band", fs=rec.fs, output="sos")
    sig = scipy.signal.sosfiltfilt(sos, sig, axis=0)[1000:]
    x8 = sig[:, [names.index(n.lower()) for n in leads.INDEPENDENT_LEADS]].T
    frank = sig[:, [names.index(n) for n in ("vx", "vy", "vz")]].T
    return x8, frank


def test_vcg_of_real_record_matches_measured_frank_leads(ptb_s0010):
    """Kors and inverse-Dower VCGs of PTB s0010_re follow its recorded Frank X, Y, Z.

    Measured (0.5–40 Hz, 11 s): Kors r = 0.98/0.95/0.72, inverse Dower r = 0.96/0.98/0.35
    for X/Y/Z. Z is the weak axis of both (as published); X and Y must be tight.
    """
    x8, frank = ptb_s0010
    kors = _frank_correlations(x8, frank, leads.KORS)
    idower = _frank_correlations(x8, frank, leads.INVERSE_DOWER)
    assert np.all(kors[:2] > 0.93) and kors[2] > 0.6, kors
    assert np.all(idower[:2] > 0.93) and idower[2] > 0.2, idower
    # the to_vcg helper computes the same thing
    np.testing.assert_allclose(leads.to_vcg(x8, "kors"), leads.KORS @ x8)


def test_wrong_or_transposed_matrix_fails_the_frank_check(ptb_s0010):
    """The Frank check has teeth: wrong lead order or swapped axes break it."""
    x8, frank = ptb_s0010
    for bad in (
        leads.KORS[[1, 0, 2]],  # X and Y swapped
        leads.INVERSE_DOWER[:, [2, 3, 4, 5, 6, 7, 0, 1]],  # source column order (V1…V6, I, II)
        leads.KORS[:, [2, 3, 4, 5, 6, 7, 0, 1]],
        leads.DOWER.T,  # the forward matrix transposed instead of inverted
        leads.DOWER.reshape(3, 8),  # an 8x3 table read row-major as 3x8
    ):
        r = _frank_correlations(x8, frank, bad)
        assert not (np.all(r[:2] > 0.93) and r[2] > 0.2), r
