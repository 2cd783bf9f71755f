"""Simple noise generators the profile is compared with (benchmarks, tests, demo).

- :class:`WhiteNoiseBaseline`: independent white Gaussian noise at each channel's
  recorded RMS;
- :class:`ARBaseline`: an independent AR(12) per channel fitted by Yule-Walker on the
  recording, as FECGSYN does for NSTDB noise (Behar et al. 2014);
- :class:`RecordedNoiseBaseline`: the fitting recording itself, played back: validated
  against held-out data it gives the floor set by the recording's own non-stationarity
  (the two halves of one session differ too), which no model fitted on one half beats.

All expose the part of the :class:`~noise_profiles.NoiseProfile` API that
:func:`~noise_profiles.validate` needs (``fit``, ``sample``, ``activities_``, ``ch_names_``,
``sfreq_``).
"""

from __future__ import annotations

import numpy as np
import scipy.signal
from sklearn.base import BaseEstimator

from noise_profiles.sessions import collect_segments, read_sessions
from noise_profiles.spectral import check_rate
from noise_profiles.var_model import autocovariance, yule_walker_var
from shirtecg_common.errors import UserError
from shirtecg_common.random import check_random_state


class _Baseline(BaseEstimator):
    def fit(self, sessions, y=None):
        data = read_sessions(sessions)
        self.sfreq_ = data[0].sfreq
        self.ch_names_ = list(data[0].ch_names)
        self.ch_leads_ = list(data[0].ch_leads)
        self.units_ = "V"
        per_act = collect_segments(data, None, min_samples=int(self.sfreq_))
        self.models_ = {a: self._fit_segments(segs) for a, segs in per_act.items()}
        self.activities_ = list(self.models_)
        return self

    def sample(self, n_times, sfreq, activity=None, random_state=None):
        check_rate(float(sfreq), self.sfreq_, False)
        rng = check_random_state(random_state)
        activity = activity or self.activities_[0]
        n_model = int(np.ceil(n_times * self.sfreq_ / sfreq))
        x = self._draw(self.models_[activity], n_model, rng)
        if sfreq != self.sfreq_:
            x = scipy.signal.resample(x, int(n_times), axis=1)
        return x[:, :n_times].astype(np.float32)


class WhiteNoiseBaseline(_Baseline):
    """White Gaussian noise at each channel's recorded RMS (no parameters)."""

    def _fit_segments(self, segs):
        x = np.concatenate([s - s.mean(axis=1, keepdims=True) for s in segs], axis=1)
        return {"rms": x.std(axis=1)}

    def _draw(self, state, n, rng):
        return state["rms"][:, None] * rng.standard_normal((len(state["rms"]), n))


class RecordedNoiseBaseline(_Baseline):
    """The recorded fitting data, played back as they are (a floor, not a generator).

    ``sample`` returns a stretch of the activity's recorded segments (joined in order) that
    starts at a random sample; it never makes more than was recorded.
    """

    def _fit_segments(self, segs):
        return {"x": np.concatenate(segs, axis=1)}

    def _draw(self, state, n, rng):
        x = state["x"]
        if n > x.shape[1]:
            raise UserError(f"RecordedNoiseBaseline: {n} samples asked, {x.shape[1]} "
                            "recorded for this activity; it only plays back what it has")
        start = int(rng.integers(0, x.shape[1] - n + 1))
        return x[:, start:start + n]


class ARBaseline(_Baseline):
    """Independent per-channel AR model (Yule-Walker), FECGSYN-style.

    Parameters
    ----------
    order : int
        AR order (FECGSYN: 12).
    """

    def __init__(self, order=12):
        self.order = order

    def _fit_segments(self, segs):
        coefs, sigmas = [], []
        for c in range(segs[0].shape[0]):
            R, _ = autocovariance([s[c:c + 1] for s in segs], self.order)
            a, sigma = yule_walker_var(R, self.order)
            coefs.append(a[:, 0, 0])
            sigmas.append(np.sqrt(max(sigma[0, 0], 0.0)))
        return {"coefs": np.array(coefs), "sigma": np.array(sigmas)}

    def _draw(self, state, n, rng):
        burn = 2000
        out = np.empty((len(state["sigma"]), n))
        for c, (a, s) in enumerate(zip(state["coefs"], state["sigma"])):
            e = s * rng.standard_normal(n + burn)
            out[c] = scipy.signal.lfilter([1.0], np.r_[1.0, -a], e)[burn:]
        return out
