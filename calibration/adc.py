"""ADC gain, offset and frequency response from a recorded square-wave test signal.

The model of one channel, in ADC counts, on the plateau samples (a guard band around every edge
is left out, so edge timing and the low-pass do not enter the gain)::

    counts(t) = offset + drift(t) + g * A * HP_tau{square}(t) + c * exp(-t / tau) + noise

with ``square`` the ±1/2 reference square wave (found in the recording itself, see
:mod:`calibration.square_wave`), ``A`` its peak-to-peak amplitude in mV, ``drift`` a cubic
B-spline with knots several periods apart (slow trends; the mean of offset + drift is the
reported offset), ``HP_tau`` a first-order high-pass whose time constant is found by a 1-D search
(``inf`` = DC-coupled) from the plateau droop, and glitches removed by iterative 5-sigma
rejection on the residual (robust MAD scale). The gain is linear least squares given ``tau``;
its uncertainty is a delete-one-block jackknife over groups of whole periods, which respects
coloured noise. The low-pass corner comes from the edges: the edge-aligned samples of all edges
are fitted with a first-order step response (10–90 % rise time = ``ln 9 * tau_lp``).

Limits: with a high-pass, an edge-time error ``delta`` scales the fitted gain by
``exp(-delta / tau)``. Edge times come from the edges themselves (refined by the low-pass fit),
so this is negligible unless the edges are sharper than a sample *and* fall exactly on the
sampling grid (then up to half a sample: 0.16 % at a 0.5 Hz high-pass, 500 Hz). The low-pass
model is an analog first-order response; a digital (bilinear) filter near Nyquist has a faster
step response and reads as a higher corner.
"""

from __future__ import annotations

import numpy as np
from scipy import interpolate, optimize
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from calibration import square_wave as sq
from shirtecg_common.errors import UserError


class AdcGainCalibrator(TransformerMixin, BaseEstimator):
    """Fit per-channel ADC gain and offset (counts → volts) and the device's corner frequencies.

    Parameters
    ----------
    amplitude_mv : float
        Peak-to-peak amplitude of the reference square wave, in mV at the electrodes (the
        difference between its two levels). The levels are taken as ±amplitude/2 around 0 V.
    freq_hz : float
        Nominal frequency of the square wave; the measured one may differ by ``freq_tol``.
    freq_tol : float
        Accepted relative deviation of the measured frequency.
    max_deviation : float
        With a nominal scale given to :meth:`fit`, a measured volts-per-count that differs from
        it by more than this factor (relative) is an error: the reference is probably wrong.
    drift_knot_s : float | None
        Spacing of the drift spline's knots (default: the larger of 4 periods and 2 s).
    n_blocks : int
        Number of period groups for the jackknife uncertainty.
    fit_highpass : bool
        Search the high-pass time constant (False: assume DC coupling).

    Attributes
    ----------
    volts_per_count_ : ndarray, shape (n_channels,)
    offset_counts_ : ndarray, shape (n_channels,)
        Counts that correspond to 0 V (mean over the recording, drift included).
    gain_rel_uncertainty_ : ndarray
        Standard error of the gain relative to the gain (jackknife).
    offset_uncertainty_counts_ : ndarray
    highpass_hz_ : ndarray
        High-pass corner per channel (NaN: DC-coupled / not resolved).
    highpass_uncertainty_hz_ : ndarray
        Its jackknife standard error (NaN without a high-pass).
    lowpass_hz_ : ndarray
        Low-pass corner per channel (NaN: faster than the sampling resolves).
    rise_time_s_ : ndarray
        10–90 % rise time per channel.
    residual_rms_uv_ : ndarray
        RMS of the plateau residual, input-referred µV.
    freq_hz_ : ndarray
        Measured square-wave frequency per channel.
    n_outliers_ : ndarray
        Samples rejected as glitches per channel.
    """

    def __init__(self, amplitude_mv=1.0, freq_hz=1.0, freq_tol=0.1, max_deviation=0.25,
                 drift_knot_s=None, n_blocks=20, fit_highpass=True):
        self.amplitude_mv = amplitude_mv
        self.freq_hz = freq_hz
        self.freq_tol = freq_tol
        self.max_deviation = max_deviation
        self.drift_knot_s = drift_knot_s
        self.n_blocks = n_blocks
        self.fit_highpass = fit_highpass

    def fit(self, counts, y=None, *, sfreq, nominal_volts_per_count=None, ch_names=None):
        """Fit every channel of ``counts``.

        Parameters
        ----------
        counts : array-like, shape (n_channels, n_times)
            The recording of the test signal in ADC counts (NaN for lost samples).
        y : None
            Ignored (scikit-learn signature).
        sfreq : float
            Sampling rate in Hz.
        nominal_volts_per_count : float | array-like | None
            The scale the device claims; used to reject a wrong reference amplitude.
        ch_names : list of str | None
            Channel names for messages.

        Returns
        -------
        self
        """
        counts = np.atleast_2d(np.asarray(counts, dtype=np.float64))
        if counts.ndim != 2:
            raise ValueError(f"counts must be (n_channels, n_times), got shape {counts.shape}")
        if not (self.amplitude_mv > 0 and self.freq_hz > 0):
            raise ValueError(
                f"amplitude_mv and freq_hz must be > 0, got {self.amplitude_mv}, {self.freq_hz}")
        if not 0 < self.freq_hz < sfreq / 4:
            raise UserError(f"--freq-hz {self.freq_hz:g} must be below sfreq/4 = {sfreq / 4:g} Hz")
        n_ch = counts.shape[0]
        ch_names = list(ch_names) if ch_names is not None else [f"ch{i}" for i in range(n_ch)]
        nominal = None
        if nominal_volts_per_count is not None:
            nominal = np.broadcast_to(np.asarray(nominal_volts_per_count, float), (n_ch,))
        results = [self._fit_channel(counts[i], sfreq, ch_names[i]) for i in range(n_ch)]
        for key in ("volts_per_count", "offset_counts", "gain_rel_uncertainty",
                    "offset_uncertainty_counts", "highpass_hz", "highpass_uncertainty_hz",
                    "lowpass_hz", "rise_time_s",
                    "residual_rms_uv", "freq_hz", "n_outliers"):
            setattr(self, key + "_", np.array([r[key] for r in results]))
        self.ch_names_ = ch_names
        self.sfreq_ = float(sfreq)
        if nominal is not None:
            ratio = np.abs(self.volts_per_count_) / nominal
            bad = np.flatnonzero(np.abs(ratio - 1) > self.max_deviation)
            if len(bad):
                i = bad[0]
                raise UserError(
                    f"{ch_names[i]}: the measured scale is {ratio[i]:.3g}× the device's nominal "
                    f"{nominal[i]:.4g} V/count (more than ±{self.max_deviation:.0%}): "
                    "the reference "
                    f"amplitude ({self.amplitude_mv:g} mV peak-to-peak) is probably wrong; check "
                    "--amplitude-mv (or raise --max-deviation if the gain really is that far off)"
                )
        return self

    def transform(self, counts):
        """Counts ``(n_channels, n_times)`` → millivolts with the fitted gain and offset."""
        check_is_fitted(self, "volts_per_count_")
        counts = np.atleast_2d(np.asarray(counts, dtype=np.float64))
        if counts.shape[0] != len(self.volts_per_count_):
            raise ValueError(
                f"counts has {counts.shape[0]} channels, the calibrator was fitted on "
                f"{len(self.volts_per_count_)}")
        v = (counts - self.offset_counts_[:, None]) * self.volts_per_count_[:, None]
        return (v * 1e3).astype(np.float32)

    # ------------------------------------------------------------------ one channel
    def _fit_channel(self, x, sfreq, name):
        n = len(x)
        edges = sq.find_edges(x, sfreq, self.freq_hz, freq_tol=self.freq_tol, channel=name)
        half = edges["half_period_s"]
        t = np.arange(n) / sfreq
        finite = np.isfinite(x)
        base = _drift_basis(t, self.drift_knot_s or max(8 * half, 2.0))
        tau = np.inf
        for stage in range(2):
            # Stage 0 fits with the detected edge times; stage 1 with the times corrected by
            # the edge fit (a droop or a low-pass shifts the 50 % crossing, and an edge-time
            # error delta scales the high-passed step by exp(-delta / tau)).
            et, es = sq.edge_train(edges, n, sfreq)
            use = finite & ~_near_edges(t, et, half, sfreq)
            if use.sum() < 20 * base.shape[1]:
                raise UserError(f"{name}: too few usable samples to fit the test signal")
            solve = _make_solver(x, t, base, et, es, sfreq, self.amplitude_mv)
            mask = use.copy()
            if stage == 0:
                # Glitch rejection at DC coupling first, then the high-pass search.
                for _ in range(3):
                    mask = _inliers(solve(np.inf, mask)[1], use)
                if self.fit_highpass:
                    tau = self._search_tau(solve, mask, half)
            for _ in range(2):
                mask = _inliers(solve(tau, mask)[1], use)
            coef, resid, X = solve(tau, mask)
            dt, z = _edge_samples(x, X, coef, et, es, sfreq, half)
            tau_lp, delay = (sq.fit_step_response(dt, z, sfreq) if len(dt) else (np.nan, 0.0))
            if not (1.0 / (2 * np.pi * tau_lp) <= 0.4 * sfreq):
                tau_lp = np.nan  # faster than the sampling resolves
                delay = _crossing_offset(dt, z, sfreq)
            if stage == 0:
                # On the plateaus a low-pass in front of the high-pass acts as a pure delay of
                # tau_lp (HP∘LP step ≈ exp(-(t - te - tau_lp)/tau) for t ≫ tau_lp).
                lag = tau_lp if np.isfinite(tau_lp) and np.isfinite(tau) else 0.0
                edges = dict(edges, t0_s=edges["t0_s"] + delay + lag)
        gain = coef[0]  # counts per mV
        if not np.isfinite(gain) or gain == 0:
            raise UserError(f"{name}: no square wave found (zero fitted step)")
        rms = np.sqrt(np.mean(resid[mask] ** 2))
        step = abs(gain) * self.amplitude_mv
        if step < 3 * rms:
            raise UserError(
                f"{name}: no square wave found: the fitted step ({step:.3g} counts) is not above "
                f"the noise ({rms:.3g} counts RMS); check that the test signal was on"
            )
        # The background (offset + drift + high-pass transient) is well determined as a sum.
        offset = float(np.mean(X[:, 1:] @ coef[1:]))
        g_se, off_se, hp_se = self._jackknife(solve, tau, mask, t, half)
        vpc = 1e-3 / gain
        return {
            "volts_per_count": vpc,
            "offset_counts": offset,
            "gain_rel_uncertainty": g_se / abs(gain),
            "offset_uncertainty_counts": off_se,
            "highpass_hz": 1.0 / (2 * np.pi * tau) if np.isfinite(tau) else np.nan,
            "highpass_uncertainty_hz": hp_se,
            "lowpass_hz": 1.0 / (2 * np.pi * tau_lp) if np.isfinite(tau_lp) else np.nan,
            "rise_time_s": np.log(9.0) * tau_lp if np.isfinite(tau_lp) else np.nan,
            "residual_rms_uv": rms * abs(vpc) * 1e6,
            "freq_hz": edges["freq_hz"],
            "n_outliers": int((use & ~mask).sum()),
        }

    def _search_tau(self, solve, mask, half):
        def cost(log_tau):
            return float(np.sum(solve(np.exp(log_tau), mask)[1][mask] ** 2))

        grid = np.linspace(np.log(0.3 * half), np.log(2000.0 * half), 24)
        costs = np.array([cost(g) for g in grid])
        dc_cost = float(np.sum(solve(np.inf, mask)[1][mask] ** 2))
        i = int(np.argmin(costs))
        if i == len(grid) - 1:
            return np.inf  # no measurable droop: DC-coupled (or corner far below 1/period)
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        res = optimize.minimize_scalar(cost, bounds=(lo, hi), method="bounded",
                                       options={"xatol": 1e-4})
        # A high-pass adds two parameters (tau and its start-up transient): keep it only when
        # it explains clearly more than that (a BIC-like test, strict because noise is coloured).
        n_used = int(mask.sum())
        if n_used * np.log(dc_cost / max(res.fun, 1e-300)) < 10 * np.log(n_used):
            return np.inf
        return float(np.exp(res.x))

    def _jackknife(self, solve, tau, mask, t, half):
        """Delete-one-block jackknife over groups of whole periods: standard errors of the
        gain, the offset and (with a high-pass) the high-pass corner (a short bounded search
        around ``tau`` per block)."""
        period = 2 * half
        n_periods = int(t[-1] // period) + 1
        n_blocks = max(2, min(self.n_blocks, n_periods))
        block = np.minimum((t / period // (n_periods / n_blocks)).astype(int), n_blocks - 1)
        gains, offs, corners = [], [], []
        for b in range(n_blocks):
            m = mask & (block != b)
            tau_b = tau
            if np.isfinite(tau):
                res = optimize.minimize_scalar(
                    lambda lt: float(np.sum(solve(np.exp(lt), m)[1][m] ** 2)),
                    bounds=(np.log(tau) - 0.5, np.log(tau) + 0.5), method="bounded",
                    options={"xatol": 1e-3, "maxiter": 12})
                tau_b = float(np.exp(res.x))
                corners.append(1.0 / (2 * np.pi * tau_b))
            coef, _, X = solve(tau_b, m)
            gains.append(coef[0])
            offs.append(np.mean(X[:, 1:] @ coef[1:]))
        return _jk_se(gains), _jk_se(offs), (_jk_se(corners) if corners else np.nan)

def _jk_se(values):
    """Jackknife standard error of delete-one estimates."""
    v = np.asarray(values, float)
    k = len(v)
    return float(np.sqrt((k - 1) / k * np.sum((v - v.mean()) ** 2)))


def _make_solver(x, t, base, et, es, sfreq, amplitude_mv):
    """Weighted linear fit of the channel model for a given high-pass time constant."""
    n = len(x)

    def solve(tau, mask):
        col = sq.square_response(n, sfreq, et, es, tau) * amplitude_mv
        cols = [col[:, None], base]
        if np.isfinite(tau):
            cols.append(np.exp(-t / tau)[:, None])
        X = np.hstack(cols)
        coef = _lstsq(X[mask], x[mask])
        return coef, x - X @ coef, X

    return solve


def _lstsq(A, b):
    """Least squares through the normal equations (a few columns, many rows: much faster than
    an SVD); columns are scaled first so the Gram matrix stays well conditioned."""
    scale = np.sqrt(np.einsum("ij,ij->j", A, A))
    scale[scale == 0] = 1.0
    As = A / scale
    gram = As.T @ As
    gram[np.diag_indices_from(gram)] += 1e-12
    try:
        return np.linalg.solve(gram, As.T @ b) / scale
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(A, b, rcond=None)[0]


def _near_edges(t, et, half, sfreq):
    """Guard band: 8 % of a half-period (at least 3 samples) after each edge, 1.5 before."""
    guard_after = max(3.0 / sfreq, 0.08 * half)
    idx0 = np.searchsorted(et, t, side="right") - 1  # last edge at or before each sample
    near = (t - et[np.clip(idx0, 0, None)]) < guard_after
    nxt = np.clip(idx0 + 1, 0, len(et) - 1)
    return near | ((et[nxt] - t) < 1.5 / sfreq)


def _edge_samples(x, X, coef, et, es, sfreq, half):
    """Edge-aligned samples of every edge, normalized by the fitted model (0 before, 1 after).

    The model's own high-pass droop across the window is taken out, so only the low-pass
    (the edge's shape) is left.
    """
    n = len(x)
    background = X[:, 1:] @ coef[1:]  # offset, drift, transient
    sqr = X[:, 0] * coef[0]
    w = int(max(4, min(round(0.08 * half * sfreq), 40)))
    dts, zs = [], []
    for te in et:
        i0 = int(np.ceil(te * sfreq - 1e-12))
        if i0 - w < 1 or i0 + w >= n:
            continue
        seg = np.arange(i0 - w, i0 + w)
        before, after = sqr[i0 - 1], sqr[i0]
        jump = after - before
        if jump == 0:
            continue
        z = (x[seg] - background[seg] - before) / jump
        z -= np.where(seg >= i0, (sqr[seg] - after) / jump, (sqr[seg] - before) / jump)
        ok = np.isfinite(z) & (z > -0.5) & (z < 1.5)  # glitches at an edge are left out
        dts.append(seg[ok] / sfreq - te)
        zs.append(z[ok])
    if not dts:
        return np.array([]), np.array([])
    return np.concatenate(dts), np.concatenate(zs)


def _crossing_offset(dt, z, sfreq):
    """Mean offset of the 50 % crossing from the assumed edge time (edges sharper than a sample).

    Between the last sample before and the first after a sharp edge the crossing is taken
    halfway, which is unbiased when edges fall at random sub-sample phases.
    """
    if len(dt) == 0:
        return 0.0
    order = np.argsort(dt)
    k = np.round(dt[order] * sfreq, 6)
    zz = z[order]
    levels = {}
    for kk, v in zip(k, zz):
        levels.setdefault(kk, []).append(v)
    ks = np.array(sorted(levels))
    med = np.array([np.median(levels[kk]) for kk in ks])
    up = np.flatnonzero((med[:-1] < 0.5) & (med[1:] >= 0.5))
    if len(up) == 0:
        return 0.0
    i = up[np.argmin(np.abs(ks[up]))]
    a, b = med[i], med[i + 1]
    frac = (0.5 - a) / (b - a)
    return float((ks[i] + frac * (ks[i + 1] - ks[i])) / sfreq)


def _inliers(resid, use):
    r = resid[use]
    scale = 1.4826 * np.median(np.abs(r - np.median(r))) + 1e-12
    return use & (np.abs(resid - np.median(r)) < 5 * scale)


def _drift_basis(t, knot_s):
    """Cubic B-spline design matrix over ``t`` (a partition of unity, so it holds the offset)."""
    span = t[-1] - t[0]
    n_inner = max(0, int(span // knot_s) - 1)
    inner = np.linspace(t[0], t[-1], n_inner + 2)[1:-1]
    k = 3
    knots = np.r_[[t[0]] * (k + 1), inner, [t[-1]] * (k + 1)]
    B = interpolate.BSpline.design_matrix(np.clip(t, t[0], t[-1]), knots, k)
    return B.toarray()
