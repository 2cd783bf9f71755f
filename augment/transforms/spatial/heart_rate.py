"""Heart-rate change beat by beat: shorter RR intervals, QRS width kept."""

from __future__ import annotations

import numbers

import numpy as np
from scipy import signal

from augment.base import BaseTransform
from augment.transforms._common import check_rate_range, draw_rates, resample_rows


class HeartRateChange(BaseTransform):
    """Raise or lower the heart rate the way a heart does: RR shortens, QRS does not.

    R peaks are found on the record (5–20 Hz energy of all leads); each cardiac cycle is then
    re-timed piecewise linearly: the QRS (``qrs_s`` around each R peak) keeps its
    duration, the ST–T segment follows Bazett's rule (QT ∝ √RR, ``qtc_s`` at RR = 1 s) and
    the rest of the cycle (TP and P) takes up the remainder, so each RR interval becomes
    ``RR / rate``. Where a cycle has no room left (a very high rate), ST–T and TP shrink
    together, and at the limit the whole cycle is compressed evenly. Without two R peaks the
    record is compressed evenly (as :class:`TimeStretch`).

    A uniform :class:`TimeStretch` by +50 % also narrows every QRS by a third, which moves
    its spectrum up (the 5–15 Hz / 15–40 Hz power ratio falls from 0.42 to 0.01 decades on
    the wearable gel/rest records) — a give-away no real tachycardia has.

    The length is kept: a faster record runs out of input and goes on with its own beats
    from the first R peak, as if they followed the last one (one seam, at the same phase of a
    cycle); a slower one shows a random window of the input.

    Parameters
    ----------
    min_change_pct, max_change_pct : float
        Range of ``|rate − 1|`` in percent (default 5–20 %); at most 50 %, or 100 % with
        ``direction="faster"`` (a rate of 2 doubles the heart rate).
    direction : {"both", "faster", "slower"}
        ``"both"`` draws the sign at random; ``"faster"`` (default) only raises the rate (a
        wearer who moves has a higher heart rate than a resting patient), ``"slower"`` only
        lowers it.
    qrs_s : float
        Duration kept unchanged around each R peak (default 0.1 s, half before, half after).
    qtc_s : float
        QT interval at RR = 1 s for Bazett's rule (default 0.42 s).
    p : float
        Probability per record.

    Notes
    -----
    Drawn per record: ``rate`` (new heart rate / old) and ``offset_s`` (start of the
    window read, slower records only). The R peaks are found when applied (they depend on
    the signal, not on the draw).
    """

    def __init__(self, min_change_pct=5.0, max_change_pct=20.0, direction="faster", qrs_s=0.1,
                 qtc_s=0.42, p=0.5):
        super().__init__(p=p)
        self.min_change_pct = min_change_pct
        self.max_change_pct = max_change_pct
        self.direction = direction
        self.qrs_s = qrs_s
        self.qtc_s = qtc_s

    def _validate_params(self, sfreq):
        check_rate_range(self, "min_change_pct", self.min_change_pct, "max_change_pct",
                         self.max_change_pct, self.direction)
        for name, lo, hi in (("qrs_s", 0.02, 0.2), ("qtc_s", 0.2, 0.6)):
            v = getattr(self, name)
            if not isinstance(v, numbers.Real) or isinstance(v, bool) or not lo <= v <= hi:
                raise ValueError(f"{type(self).__name__}: {name} must be a number of seconds "
                                 f"in [{lo}, {hi}], got {v!r}")

    supports_rows = True
    randomize_reads_signal = False  # the draw needs only the shape; R peaks are found in apply

    def randomize_parameters(self, x, sfreq, rngs):
        return draw_rates(rngs, self.min_change_pct, self.max_change_pct, self.direction,
                          x.shape[-1], sfreq)

    def apply(self, x, sfreq, params, rows=None):
        rows_ = range(len(x)) if rows is None else rows
        n_times = x.shape[-1]
        pos = np.empty((len(params["rate"]), n_times))
        for j, i in enumerate(rows_):
            peaks = r_peaks(x[i], sfreq)
            pos[j] = continue_beats(
                beat_positions(peaks / sfreq, n_times, sfreq, float(params["rate"][j]),
                               float(params["offset_s"][j]), self.qrs_s, self.qtc_s),
                peaks, n_times)
        return resample_rows(x, pos, rows)


def r_peaks(x, sfreq):
    """Sample indices of the R peaks of one record ``(n_leads, T)``: maxima of the 5–20 Hz
    energy summed over the leads (smoothed over 40 ms), above a quarter of its 99th
    percentile and at least 0.25 s apart (up to 240 bpm)."""
    sos = signal.butter(2, [5.0, min(20.0, 0.45 * sfreq)], "band", fs=sfreq, output="sos")
    e = (signal.sosfiltfilt(sos, np.asarray(x, np.float64), axis=-1) ** 2).sum(0)
    k = max(1, int(round(0.04 * sfreq)))
    e = np.convolve(e, np.ones(k) / k, mode="same")
    thr = 0.25 * np.percentile(e, 99)
    if not thr > 0:
        return np.zeros(0, dtype=np.intp)
    peaks, _ = signal.find_peaks(e, height=thr, distance=max(1, int(0.25 * sfreq)))
    return peaks


def beat_positions(peaks_s, n_times, sfreq, rate, offset_s, qrs_s, qtc_s):
    """Input position (samples, float) each output sample reads, for R peaks ``peaks_s``
    (seconds) and a heart-rate ratio ``rate``; see :class:`HeartRateChange`."""
    h = qrs_s / 2
    peaks = np.asarray(peaks_s, dtype=np.float64)
    peaks = peaks[peaks - h > offset_s]
    seg_in, seg_out = [], []  # durations (s) of consecutive input pieces and their output

    def piece(d_in, d_out):
        seg_in.append(d_in)
        seg_out.append(d_out)

    if len(peaks) >= 2:
        piece(peaks[0] - h - offset_s, (peaks[0] - h - offset_s) / rate)
        piece(h, h)
        for rr in np.diff(peaks):
            rr_out = rr / rate
            rest, rest_out = rr - 2 * h, rr_out - 2 * h
            if rest <= 0 or rest_out <= 0:  # no room outside the QRS: the cycle evenly
                piece(rr, rr_out)
                continue
            st = float(np.clip(qtc_s * np.sqrt(rr) - h, 0.0, rest))
            st_out = float(np.clip(qtc_s * np.sqrt(rr_out) - h, 0.0, rest_out))
            tp, tp_out = rest - st, rest_out - st_out
            if tp <= 0 or tp_out < 0.1 * tp:  # TP (nearly) used up: ST-T shares
                st_out, tp_out = rest_out * st / rest, rest_out * tp / rest
            piece(h, h)
            piece(st, st_out)
            piece(tp, tp_out)
            piece(h, h)
        piece(h, h)
    t_end = (n_times - 1) / sfreq
    piece(10.0 * t_end + 1.0, (10.0 * t_end + 1.0) / rate)  # after the last beat: evenly
    knots_in = offset_s + np.concatenate([[0.0], np.cumsum(seg_in)])
    knots_out = np.concatenate([[0.0], np.cumsum(seg_out)])
    return np.interp(np.arange(n_times) / sfreq, knots_out, knots_in) * sfreq


def continue_beats(pos, peaks, n_times):
    """Positions ``pos`` past the last sample go on with the beats after the first R peak
    (``peaks``, sample indices); in place.

    A faster record runs out of input; reading on from the first R peak as if it followed
    the last one keeps the rhythm going (the seam falls at the same phase of a cycle)
    instead of a flat hold. Without two R peaks the record itself is repeated.
    """
    end = n_times - 1
    past = pos > end
    if not past.any():
        return pos
    if len(peaks) >= 2:
        first, last = peaks[0], peaks[-1]
        pos[past] = first + np.mod(pos[past] - last, last - first)
    else:
        pos[past] = np.mod(pos[past] - end, end)
    return pos
