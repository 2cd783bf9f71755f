"""``NoiseProfile``: fit recorded device noise per activity, synthesize new noise.

A scikit-learn style estimator: ``__init__`` only stores parameters, ``fit(sessions)``
returns ``self`` and sets the fitted attributes (ending in ``_``), ``sample`` draws new
noise. Per activity the profile holds a stationary Gaussian model (CSD or VAR), a slow
amplitude envelope (non-stationarity), powerline lines and a table of discrete events.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from noise_profiles import (envelope, events, lines, periodic, powerline, regimes,
                            saturation, spectral, var_model)
from noise_profiles.bank import NoiseBank
from noise_profiles.sessions import collect_blocks, read_sessions, runs_of
from shirtecg_common.errors import UserError
from shirtecg_common.random import check_random_state
from shirtecg_common.validation import check_option

MODELS = ("spectral", "var")
MIN_SEGMENT_S = 0.1          # shorter stretches between gaps carry no usable spectrum
MIN_AVERAGES = 24


class NoiseProfile(BaseEstimator):
    """Device noise model per activity, fitted on no-ECG noise sessions.

    Parameters
    ----------
    model : {"spectral", "var"}
        ``"spectral"``: the cross-spectral density on a fine grid (default, most faithful);
        ``"var"``: band-split vector autoregression (compact).
    activities : list of str | None
        Activities to fit; None takes all except ``test_signal``.
    nperseg_s : float
        Welch window (s); 32 s gives a 0.03 Hz grid (baseline wander). Shortened to the
        longest clean segment when the recording is shorter.
    smoothing : float
        Relative bandwidth of the CSD smoothing over frequency (0.05: ±2.5 % of f).
    split_hz : float
        Below it: stationary baseline wander; above it: the envelope-modulated band.
    envelope : bool
        Model the non-stationarity (bursts, quiet spells).
    periodic : bool
        Keep narrow spectral peaks (respiration, step-locked motion) as wandering
        sinusoids instead of Gaussian noise (:mod:`noise_profiles.lines`).
    events : bool
        Detect flat lines, railing and baseline steps, and re-inject them.
    regimes : bool
        When the recording switches between quiet spells and bursts (bimodal high-band
        level), model the band above ``split_hz`` as quiet noise plus recorded bursts
        (length, shape, loudness) with their own spectrum, at the recorded dwell times
        (:mod:`noise_profiles.regimes`, :mod:`noise_profiles.bursts`; spectral model only).
    var_max_order : int
        Largest VAR order tried (``model="var"``); the order is chosen by ``var_ic``.
    var_ic : {"aic", "bic"}
        Order-selection criterion for the VAR.

    Attributes
    ----------
    activities_ : list of str
    ch_names_ : list of str
    ch_leads_ : list of str | None
    sfreq_ : float
        The recording's sampling rate (Hz).
    units_ : str
        ``"V"``.
    models_ : dict
        Per activity: arrays and scalars of the fitted model.
    provenance_ : list of dict
        Source files (``path``, ``sha256``).
    """

    def __init__(self, model="spectral", activities=None, nperseg_s=32.0, smoothing=0.05,
                 split_hz=1.0, envelope=True, periodic=True, events=True, var_max_order=40,
                 var_ic="aic", regimes=True):
        self.model = model
        self.activities = activities
        self.nperseg_s = nperseg_s
        self.smoothing = smoothing
        self.split_hz = split_hz
        self.envelope = envelope
        self.periodic = periodic
        self.events = events
        self.var_max_order = var_max_order
        self.var_ic = var_ic
        self.regimes = regimes

    # ------------------------------------------------------------------ fit
    def fit(self, sessions, y=None):
        """Fit one model per activity.

        Parameters
        ----------
        sessions : path | mne.io.Raw | list of those
            Noise sessions (FIF, volts, activity annotations, gaps as ``BAD_acq_gap``).
        y : None
            Ignored (scikit-learn API).

        Returns
        -------
        self : NoiseProfile
        """
        check_option("model", self.model, MODELS)
        check_option("var_ic", self.var_ic, ("aic", "bic"))
        data = read_sessions(sessions)
        sfreq = data[0].sfreq
        per_activity = collect_blocks(data, self.activities,
                                      min_samples=int(MIN_SEGMENT_S * sfreq))
        self.sfreq_ = float(sfreq)
        self.ch_names_ = list(data[0].ch_names)
        self.ch_leads_ = list(data[0].ch_leads)
        self.units_ = "V"
        self.provenance_ = [{"path": s.source, "sha256": s.sha256} for s in data]
        self.models_ = {}
        for act, segs in per_activity.items():
            self.models_[act] = self._fit_activity(segs, sfreq, act)
        self.activities_ = list(self.models_)
        self._cache = {}
        return self

    def _fit_activity(self, blocks, sfreq, act):
        n_ch = blocks[0][0].shape[0]
        found, clean, clean_blocks, duration = [], [], [], 0
        for block, runs in blocks:
            cleaned = np.full_like(block, np.nan)
            for a, b in runs:
                seg = block[:, a:b]
                duration += b - a
                keep = [(0, b - a)]
                if self.events:
                    evs, exclude = events.detect(seg, sfreq)
                    found += evs
                    seg = events.remove_steps(seg, evs, sfreq)
                    keep = runs_of(~exclude)
                for c0, c1 in keep:
                    if c1 - c0 >= MIN_SEGMENT_S * sfreq:
                        clean.append(seg[:, c0:c1])
                        cleaned[:, a + c0:a + c1] = seg[:, c0:c1]
            clean_blocks.append(cleaned)
        if not clean:
            raise UserError(f"activity {act!r}: no clean stretch of at least "
                            f"{MIN_SEGMENT_S} s after removing dropouts and railing")
        duration_s = duration / sfreq
        # amplifier rails clip the noise (synthesis clips at them): no rail events there
        rails = saturation.fit([blk[:, a:b] for blk, runs in blocks for a, b in runs], clean)
        found = saturation.not_at_rails(found, rails)
        freqs, csd, n_frames, welch = self._raw_csd(clean, clean_blocks, sfreq)
        line_hz = powerline.detect(freqs, csd)
        harmonics, amps = np.zeros(0), np.zeros((0, n_ch), complex)
        if line_hz is not None:
            csd, harmonics, amps = powerline.extract(freqs, csd, line_hz)
        qp_f, qp_w, qp_a = np.zeros(0), np.zeros(0), np.zeros((0, n_ch), complex)
        if self.periodic:
            csd, qp_f, qp_w, qp_a = lines.extract(freqs, csd, n_frames, exclude_hz=harmonics)
        qp_fam, qp_h = periodic.group(qp_f, qp_a)
        qp_a = periodic.lock_phases(clean, sfreq, qp_f, qp_a, qp_fam, qp_h)
        state = dict(
            rms_v=np.sqrt(np.mean([np.mean(s ** 2, axis=1) for s in clean], axis=0)),
            duration_s=duration_s, n_frames=n_frames, line_freq_hz=float(line_hz or 0.0),
            line_harmonics_hz=harmonics, line_amplitudes=amps,
            line_level_psd=lines.fit_level_psd(clean, sfreq, harmonics, amps),
            qp_freqs_hz=qp_f, qp_widths_hz=qp_w, qp_amplitudes=qp_a, qp_family=qp_fam,
            qp_harmonic=qp_h,
            event_rate_per_s=len(found) / duration_s,
            **events.to_table(found, n_ch, sfreq), **rails)
        if self.model == "spectral":
            state["freqs"] = freqs
            # at least ~24 averaged periodograms per coherency value, however few frames
            # the data gave (the PSDs follow the relative bandwidth only: less bias)
            min_bins = max(3, int(np.ceil(MIN_AVERAGES / n_frames)))
            state["csd"] = spectral.smooth_csd(freqs, csd, self.smoothing, min_bins=min_bins,
                                               psd_min_bins=1)
            if welch:       # the estimator's own averaging windows, undone (known kernels)
                half = spectral.smooth_half_widths(freqs, self.smoothing, 1)
                state["csd"], _ = spectral.undo_leakage(freqs, state["csd"], sfreq, half,
                                                          n_frames)
        # lines and mains come back as sinusoids: keep them out of the VAR and the envelope
        if len(harmonics) or len(qp_f):
            clean = [lines.remove(s, sfreq, harmonics, qp_f, qp_w) for s in clean]
        if self.model == "var":
            state.update(var_model.fit(clean, sfreq, self.split_hz, self.var_max_order,
                                       self.var_ic))
        state.update(regimes.disabled(n_ch))
        labels = None
        if self.regimes and self.model == "spectral":
            found, labels = regimes.fit(
                clean, sfreq, self.split_hz, state["freqs"], state["csd"], MIN_AVERAGES,
                lines.removal_response(state["freqs"], sfreq, harmonics, qp_f, qp_w))
            state.update(found)
        env = envelope.disabled()
        if self.envelope:
            n_sur = min(sum(s.shape[1] for s in clean), int(600 * sfreq))
            f, c, L, _ = self._spectrum(state)
            sur, _ = spectral.synthesize(f, c, L, n_sur, sfreq, np.random.default_rng(0))
            env = envelope.fit(clean, sfreq, self.split_hz, sur, labels)
        state.update(env)
        return state

    def _raw_csd(self, clean, clean_blocks, sfreq):
        """Welch over the clean stretches; lag products over the gaps when the stretches
        are much shorter than the window the recording's length would allow. The last
        value says whether the Welch estimate was kept (its frame kernel is known)."""
        total = sum(s.shape[1] for s in clean)
        target = min(int(round(self.nperseg_s * sfreq)),
                     int(2 * total / (spectral.MIN_FRAMES + 1)))
        nperseg = spectral.choose_nperseg(clean, sfreq, self.nperseg_s)
        span = max(b.shape[1] for b in clean_blocks)
        fw, cw, kw = spectral.welch_csd(clean, sfreq, nperseg)
        if not (nperseg < 0.5 * target and span >= target):
            return fw, cw, kw, True
        # lag products resolve the low frequencies; their dynamic range is poor, so above
        # a few Welch bins the (short-frame, well-tapered) Welch estimate is kept
        fg, cg, kg = spectral.gappy_csd(clean_blocks, sfreq, target - target % 2)
        above = fg >= 4 * sfreq / nperseg
        for i in range(cw.shape[1]):
            for j in range(cw.shape[2]):
                cg[above, i, j] = (np.interp(fg[above], fw, cw[:, i, j].real)
                                   + 1j * np.interp(fg[above], fw, cw[:, i, j].imag))
        return fg, cg, min(kg, kw), False

    # -------------------------------------------------------------- sample
    def _spectrum(self, state):
        """(freqs, csd, factor, per-length cache) of an activity's stationary model."""
        key = id(state)
        cache = self.__dict__.setdefault("_cache", {})
        if key not in cache:
            if "csd" in state:
                freqs, csd = state["freqs"], state["csd"]
            else:
                freqs, csd = var_model.implied_csd(state, self.sfreq_, self.split_hz)
            cache[key] = (freqs, csd, spectral.factor_csd(csd)[0], {})
        return cache[key]

    def _regime_spectrum(self, state, regime):
        key = (id(state), regime)
        cache = self.__dict__.setdefault("_cache", {})
        if key not in cache:
            if regime == regimes.EXCESS:
                csd = regimes.excess_csd(state["regime_csd"])
            else:
                csd = state["regime_csd"][regime]
            cache[key] = (state["regime_freqs"], csd, spectral.factor_csd(csd)[0], {})
        return cache[key]

    def _state(self, activity):
        check_is_fitted(self, "models_")
        if activity is None:
            if len(self.activities_) != 1:
                raise UserError(
                    f"this profile has several activities ({', '.join(self.activities_)}); "
                    "pass activity=")
            activity = self.activities_[0]
        if activity not in self.models_:
            raise UserError(f"activity {activity!r} is not in this profile; it has: "
                            f"{', '.join(self.activities_)}")
        return activity, self.models_[activity]

    def sample(self, n_times, sfreq, activity=None, random_state=None,
               allow_empty_band=False):
        """Synthesize new noise.

        Parameters
        ----------
        n_times : int
            Number of samples (any length; drawn in one piece, no seams).
        sfreq : float
            Output rate (Hz), at most the recording's rate; above it raises unless
            ``allow_empty_band=True`` (the band above the recording's Nyquist stays empty).
        activity : str | None
            Activity to draw; may be omitted when the profile has one.
        random_state : None | int | numpy.random.Generator
        allow_empty_band : bool

        Returns
        -------
        noise : ndarray (n_ch, n_times) float32
            Volts.
        """
        _, state = self._state(activity)
        n_times = int(n_times)
        if n_times < 1:
            raise UserError(f"n_times must be a positive number of samples, got {n_times}")
        spectral.check_rate(float(sfreq), self.sfreq_, allow_empty_band)
        rng = check_random_state(random_state)
        freqs, csd, factor, per_length = self._spectrum(state)
        bands = envelope.band_edges(self.split_hz, self.sfreq_)
        edges = [lo for lo, _ in bands]
        if int(state.get("regime_enabled", 0)):
            # below split_hz: the stationary full model; above: the regimes
            parts = list(spectral.synthesize(freqs, csd, factor, n_times, sfreq, rng,
                                             split_hz=edges, cache=per_length))
            w, u = regimes.path(state, n_times, sfreq, rng)
            # each band's bursts follow the EMG or the motion band's profiles
            u = [u[1] if lo < regimes.DETECT_LO_HZ else u[0] for lo in edges]
            if len(state["regime_bursts"]):
                # quiet noise all the time, the burst excess on top
                mix = ((regimes.QUIET, [1.0] * len(edges)),
                       (regimes.EXCESS, [np.sqrt(ub) for ub in u]))
            else:
                # schema /2 profiles: cross-fade between the quiet and the burst CSD
                mix = ((regimes.QUIET, [np.sqrt(1 - w)] * len(edges)),
                       (regimes.BURST, [np.sqrt(w)] * len(edges)))
            for b in range(1, len(parts)):
                parts[b] = 0.0
            for r, gains in mix:
                f_r, c_r, l_r, cache_r = self._regime_spectrum(state, r)
                per_band = spectral.synthesize(f_r, c_r, l_r, n_times, sfreq, rng,
                                               split_hz=edges, cache=cache_r)
                for b in range(1, len(parts)):
                    parts[b] = parts[b] + gains[b - 1] * per_band[b]
            g = envelope.synthesize(state, n_times, sfreq, rng, len(bands))
            x = (envelope.modulate_low(state, parts[0], sfreq, rng)
                 + sum(g[b] * parts[b + 1] for b in range(len(bands))))
        elif int(state["env_enabled"]):
            parts = spectral.synthesize(freqs, csd, factor, n_times, sfreq, rng,
                                        split_hz=edges, cache=per_length)
            g = envelope.synthesize(state, n_times, sfreq, rng, len(bands))
            x = (envelope.modulate_low(state, parts[0], sfreq, rng)
                 + sum(g[b] * parts[b + 1] for b in range(len(bands))))
        else:
            x, _ = spectral.synthesize(freqs, csd, factor, n_times, sfreq, rng, cache=per_length)
        mains = powerline.synthesize(state["line_freq_hz"], state["line_harmonics_hz"],
                                     state["line_amplitudes"], n_times, sfreq, rng)
        if "line_level_psd" in state:       # the line's level wanders (schema /4)
            mains *= lines.level(state["line_level_psd"], n_times, sfreq, rng)[None, :]
        x += mains
        x += lines.synthesize(state["qp_freqs_hz"], state["qp_widths_hz"],
                              state["qp_amplitudes"], n_times, sfreq, rng,
                              state["qp_family"], state["qp_harmonic"])
        if self.events:
            events.inject(x, state, float(state["event_rate_per_s"]), sfreq, rng)
        saturation.clip(x, state)
        return x.astype(np.float32)

    def noise_bank(self, sfreq, activity=None, seconds=60.0, random_state=None,
                   allow_empty_band=False):
        """Pre-render ``seconds`` of noise that augmentation crops from (fast)."""
        act, _ = self._state(activity)
        n = int(round(seconds * sfreq))
        data = self.sample(n, sfreq, act, random_state, allow_empty_band)
        return NoiseBank(data, float(sfreq), list(self.ch_names_), list(self.ch_leads_), act)

    # -------------------------------------------------------------- storage
    def save(self, path):
        """Write ``path`` (YAML) and its sibling ``.npz``; see :mod:`noise_profiles.storage`."""
        from noise_profiles.storage import save_profile

        check_is_fitted(self, "models_")
        return save_profile(self, path)

    def content_hash(self) -> str:
        """SHA-256 of the fitted content (parameters, metadata, arrays)."""
        check_is_fitted(self, "models_")
        h = hashlib.sha256()
        meta = dict(params=self.get_params(), ch_names=self.ch_names_, ch_leads=self.ch_leads_,
                    sfreq=self.sfreq_, units=self.units_, activities=self.activities_)
        h.update(json.dumps(meta, sort_keys=True, default=str).encode())
        for act in self.activities_:
            for key in sorted(self.models_[act]):
                h.update(f"{act}/{key}".encode())
                value = np.asarray(self.models_[act][key])
                if value.ndim == 0:           # scalars hash the same whether int or float
                    value = value.astype(np.float64)
                h.update(np.ascontiguousarray(value).tobytes())
        return h.hexdigest()

    def __getstate__(self):
        # the factor cache is large and rebuilt on demand: keep pickles (worker processes) small
        state = super().__getstate__()
        state.pop("_cache", None)
        return state

    def __sklearn_is_fitted__(self):
        return hasattr(self, "models_")


def fit(sessions, activities=None, model="spectral", **params):
    """Fit a :class:`NoiseProfile` (one model per activity) on noise sessions."""
    return NoiseProfile(model=model, activities=activities, **params).fit(sessions)


__all__ = ["NoiseProfile", "fit", "NotFittedError"]
