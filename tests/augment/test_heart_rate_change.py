"""HeartRateChange: RR intervals shrink by the drawn rate, QRS complexes keep their width."""

import numpy as np
import pytest
from scipy import signal

from augment import HeartRateChange, TimeStretch
from augment.transforms.spatial.heart_rate import beat_positions
from tests.augment.ecg_fixtures import synthetic_ecg

SFREQ = 500.0


def _r_peaks(lead):
    """Reference R-peak finder, written independently: maxima of the raw lead II."""
    peaks, _ = signal.find_peaks(lead, height=0.5 * lead.max(), distance=int(0.25 * SFREQ))
    return peaks


def _qrs_width_s(lead, peak):
    """Width (s) at half height of the R wave at ``peak``."""
    half = lead[peak] / 2
    left = peak
    while left > 0 and lead[left] > half:
        left -= 1
    right = peak
    while right < len(lead) - 1 and lead[right] > half:
        right += 1
    return (right - left) / SFREQ


def test_rate_rises_qrs_width_kept_unlike_time_stretch():
    """+50 %: RR ≈ RR/1.5 and the R wave as wide as before (TimeStretch narrows it by 1/1.5)."""
    x = synthetic_ecg(3, seconds=12.0)
    hrc = HeartRateChange(min_change_pct=50.0, max_change_pct=50.0, p=1.0)
    ts = TimeStretch(min_stretch_pct=50.0, max_stretch_pct=50.0, direction="faster", p=1.0)
    out, out_ts = hrc(x, SFREQ, random_state=0), ts(x, SFREQ, random_state=0)
    assert all(r["rate"] == pytest.approx(1.5) for r in hrc.last_parameters)
    n_used = int(7.0 * SFREQ)  # 7 s of output read about 10.5 s of input
    for i in range(len(x)):
        p_in = _r_peaks(x[i, 1])
        p_out = _r_peaks(out[i, 1, :n_used])
        assert np.median(np.diff(p_out)) == pytest.approx(np.median(np.diff(p_in)) / 1.5,
                                                          abs=2)
        w_in = np.median([_qrs_width_s(x[i, 1], p) for p in p_in])
        w_out = np.median([_qrs_width_s(out[i, 1], p) for p in p_out[1:-1]])
        w_ts = np.median([_qrs_width_s(out_ts[i, 1], p) for p in _r_peaks(out_ts[i, 1,
                                                                              :n_used])])
        assert w_out == pytest.approx(w_in, abs=1.5 / SFREQ)
        assert w_ts == pytest.approx(w_in / 1.5, abs=2.5 / SFREQ)
        # R peak amplitudes are kept (sampled at the same native-speed positions)
        assert np.median(out[i, 1, p_out]) == pytest.approx(np.median(x[i, 1, p_in]), rel=0.02)


def test_beat_positions_against_a_hand_built_map():
    """Peaks at 1, 2, 3 s, rate 2, QRS 0.1 s, QTc 0.4 s: the knots of the time map."""
    pos = beat_positions(np.array([1.0, 2.0, 3.0]), 4000, 1000.0, 2.0, 0.0, 0.1, 0.4) / 1000.0
    t = np.arange(4000) / 1000.0

    def at(t_out):
        return np.interp(t_out, t, pos)

    # before the first QRS: evenly at rate 2; 0.95 s of input → 0.475 s of output
    assert at(0.475) == pytest.approx(0.95, abs=1e-6)
    # the QRS at native speed: output 0.475…0.575 reads input 0.95…1.05 with slope 1
    assert at(0.525) == pytest.approx(1.0, abs=1e-6)
    assert at(0.575) == pytest.approx(1.05, abs=1e-6)
    # ST-T by Bazett: 0.4·√1 − 0.05 = 0.35 s of input → 0.4·√0.5 − 0.05 s of output
    st_out = 0.4 * np.sqrt(0.5) - 0.05
    assert at(0.575 + st_out) == pytest.approx(1.40, abs=1e-3)  # between two samples
    # each RR of 1 s becomes 0.5 s: the next R peak is read at output 1.025 s
    assert at(1.025) == pytest.approx(2.0, abs=1e-6)
    assert at(1.525) == pytest.approx(3.0, abs=1e-6)
    # monotonic, never reading backwards
    assert np.all(np.diff(pos) >= 0)


def test_without_beats_it_is_an_even_compression():
    """No R peaks (pure noise-free baseline): positions are offset + t·rate, as TimeStretch."""
    pos = beat_positions(np.array([]), 1000, SFREQ, 1.3, 0.0, 0.1, 0.42)
    np.testing.assert_allclose(pos, np.arange(1000) * 1.3, atol=1e-9)
    x = np.zeros((2, 12, 1000), np.float32)
    out = HeartRateChange(p=1.0)(x, SFREQ, random_state=0)
    assert np.array_equal(out, x)


def test_direction_and_ranges():
    """'slower' lowers the rate; 'both' draws both signs; bad values name the parameter."""
    x = synthetic_ecg(16, seconds=3.0)
    slow = HeartRateChange(min_change_pct=10.0, max_change_pct=20.0, direction="slower", p=1.0)
    slow(x, SFREQ, random_state=1)
    assert all(0.8 <= r["rate"] <= 0.9 for r in slow.last_parameters)
    both = HeartRateChange(direction="both", p=1.0)
    both(x, SFREQ, random_state=1)
    rates = [r["rate"] for r in both.last_parameters]
    assert min(rates) < 1 < max(rates)
    with pytest.raises(ValueError, match="max_change_pct"):  # 60 % only when faster
        HeartRateChange(max_change_pct=60.0, direction="both", p=1.0)(x, SFREQ, random_state=0)
    with pytest.raises(ValueError, match="qrs_s"):
        HeartRateChange(qrs_s=0.5, p=1.0)(x, SFREQ, random_state=0)
    with pytest.raises(ValueError, match="direction"):
        HeartRateChange(direction="up", p=1.0)(x, SFREQ, random_state=0)


def test_a_faster_record_goes_on_with_its_own_beats_not_a_flat_tail():
    """Past the input's end the map reads on from the first R peak: no held samples, the
    same R-peak spacing across the seam, and TimeStretch wraps instead of holding too."""
    from augment.transforms.spatial.heart_rate import continue_beats

    peaks = np.array([400, 1400, 2400, 3400])
    pos = continue_beats(np.arange(4000) * 1.5, peaks, 4000)
    assert pos.max() <= 3999 and pos.min() >= 0
    past = np.arange(4000) * 1.5 > 3999
    # an input position 3999 + d reads first + (3999 + d - last) mod (last - first)
    d = np.arange(4000)[past] * 1.5 - 3400
    np.testing.assert_allclose(pos[past], 400 + np.mod(d, 3000))
    x = synthetic_ecg(4, seconds=6.0)
    for t in (HeartRateChange(min_change_pct=40.0, max_change_pct=60.0, p=1.0),
              TimeStretch(min_stretch_pct=40.0, max_stretch_pct=60.0, direction="faster", p=1.0)):
        out = t(x, SFREQ, random_state=3)
        tail = out[:, :, -int(1.5 * SFREQ):]  # the last 1.5 s: past the input at these rates
        assert np.all(np.ptp(tail, axis=-1)[:, 1] > 0.5 * np.ptp(x[:, 1], axis=-1)), type(t)
