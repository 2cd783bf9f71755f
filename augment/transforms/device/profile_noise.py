"""Fitted device noise from a :mod:`noise_profiles` profile, per activity or a mix."""

from __future__ import annotations

import numbers
import os
import weakref

import numpy as np

from augment import noise_banks as nb
from augment import snr as _snr
from augment.base import BaseTransform
from augment.leads import DERIVE_MATRIX, LEADS_12
from augment.transforms._common import check_pair
from augment.transforms.device._lead_bank import lead_bank
from shirtecg_common.validation import check_option

_BANKS = {}  # (id(profile), activity, sfreq, seconds, seed) -> (weakref, bank, sources)


class AddProfileNoise(BaseTransform):
    """Add noise synthesized from the device's fitted noise profile.

    The profile (:func:`noise_profiles.load_profile`, volts) pre-renders a noise bank per
    activity once (``bank_seconds`` at the batch's rate, seed ``bank_seed``); its channels
    are mapped to the 8 independent leads once (rules in
    :mod:`augment.transforms.device._lead_bank`: channels measuring a lead go to it,
    derived limb leads are solved through ``III = II − I`` …, unmeasured leads get the
    same-kind noise from another stretch of the bank); each record then adds a crop at its
    own random offset, in mV. So the recorded across-lead structure is kept and a record
    costs one slice and one multiply-add.

    Parameters
    ----------
    profile : noise_profiles.NoiseProfile, str or None
        The fitted profile or the path of its YAML. ``augment.load_pipeline(…,
        profile=…)`` fills it in; without one, presets drop this step.
    activity : None, str, list of str or dict
        Which activity's noise: one name; a list (each record draws one uniformly); a
        mapping ``{activity: weight}`` (drawn by weight); None: every activity of the
        profile, uniformly.
    level : {"absolute", "snr"}
        ``"absolute"`` (default): the recorded level, times a gain drawn in
        ``[min_scale, max_scale]``. ``"snr"``: one gain per record so the reference lead
        reaches an SNR drawn in ``[min_snr_db, max_snr_db]``, nst definition
        (:mod:`augment.snr`: ``S = A_pp²/8`` from the median per-second peak-to-peak, ``N``
        the mean 1-s power of the noise).
    min_scale, max_scale : float
        Gain range for ``level="absolute"`` (default 1–1).
    min_snr_db, max_snr_db : float
        SNR range for ``level="snr"`` (default 0–24 dB, the NSTDB grid).
    reference_lead : str
        Lead whose SNR is set (default ``"II"``).
    bank_seconds : float
        Length of the pre-rendered bank (default 120 s; at least twice the record).
    bank_seed : int
        Seed of the bank rendering (the bank is data; records differ by their offsets).
    allow_empty_band : bool
        Allow a batch rate above the profile's recording rate (the band above the
        recording's Nyquist stays empty); by default that is an error, so resample to the
        device rate first (:class:`Resample`) or pass True knowingly.
    p : float
        Probability per record (default 1).

    Notes
    -----
    Drawn per record: ``activity``, ``offset`` (into the bank), ``gain`` (and ``snr_db`` when
    ``level="snr"``).
    """

    requires_profile = True

    def __init__(self, profile=None, activity=None, level="absolute", min_scale=1.0,
                 max_scale=1.0, min_snr_db=0.0, max_snr_db=24.0, reference_lead="II",
                 bank_seconds=120.0, bank_seed=0, allow_empty_band=False, p=1.0):
        super().__init__(p=p)
        self.profile = profile
        self.activity = activity
        self.level = level
        self.min_scale = min_scale
        self.max_scale = max_scale
        self.min_snr_db = min_snr_db
        self.max_snr_db = max_snr_db
        self.reference_lead = reference_lead
        self.bank_seconds = bank_seconds
        self.bank_seed = bank_seed
        self.allow_empty_band = allow_empty_band

    # ------------------------------------------------------------------ checks
    def _profile(self):
        if self.profile is None:
            raise ValueError("AddProfileNoise: profile is not set; pass a fitted NoiseProfile "
                             "or the path of its YAML (augment.load_pipeline(..., profile=...))")
        if isinstance(self.profile, (str, os.PathLike)):
            return _load_profile(os.fspath(self.profile))
        return self.profile

    def _activities(self):
        """``(names, probabilities)`` of the activities records draw from."""
        known = list(self._profile().activities_)
        act = self.activity
        if act is None:
            names, weights = known, [1.0] * len(known)
        elif isinstance(act, str):
            names, weights = [act], [1.0]
        elif isinstance(act, dict):
            names, weights = list(act), [act[k] for k in act]
        else:
            names = list(act)
            weights = [1.0] * len(names)
        bad = [a for a in names if a not in known]
        if bad or not names:
            raise ValueError(f"AddProfileNoise: activity {bad[0] if bad else act!r} is not in "
                             f"the profile; it has: {', '.join(known)}")
        w = np.asarray(weights, dtype=float)
        if not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"AddProfileNoise: activity weights must be non-negative with a "
                             f"positive sum, got {act!r}")
        return names, w / w.sum()

    def _validate_params(self, sfreq):
        check_option("level", self.level, ("absolute", "snr"))
        check_pair(self, "min_scale", self.min_scale, "max_scale", self.max_scale, lower=0.0)
        check_pair(self, "min_snr_db", self.min_snr_db, "max_snr_db", self.max_snr_db,
                   lower=-60.0, upper=120.0)
        check_option("reference_lead", self.reference_lead, LEADS_12)
        check_pair(self, "bank_seconds", self.bank_seconds, "bank_seconds", self.bank_seconds,
                   lower=1.0)
        if not isinstance(self.bank_seed, numbers.Integral) or self.bank_seed < 0:
            raise ValueError(f"AddProfileNoise: bank_seed must be a non-negative int, "
                             f"got {self.bank_seed!r}")
        self._activities()

    # ------------------------------------------------------------------ banks
    def lead_bank(self, activity, sfreq, n_times=0):
        """``(bank (8, n) float32 mV, sources)`` for ``activity`` at ``sfreq`` (cached)."""
        profile = self._profile()
        seconds = max(float(self.bank_seconds), 2.0 * n_times / sfreq)
        key = (id(profile), activity, float(sfreq), seconds, int(self.bank_seed),
               bool(self.allow_empty_band))
        hit = _BANKS.get(key)
        if hit is not None and hit[0]() is profile:
            return hit[1], hit[2]
        nb = profile.noise_bank(sfreq, activity=activity, seconds=seconds,
                                random_state=int(self.bank_seed),
                                allow_empty_band=bool(self.allow_empty_band))
        scale = 1e3 if getattr(profile, "units_", "V") == "V" else 1.0  # profiles are volts
        bank, sources = lead_bank(np.asarray(nb.data) * scale, list(nb.ch_leads))
        bank.setflags(write=False)
        if len(_BANKS) > 32:
            _BANKS.clear()
        _BANKS[key] = (weakref.ref(profile), bank, sources)
        return bank, sources

    # ------------------------------------------------------------------ draws
    def randomize_parameters(self, x, sfreq, rngs):
        names, probs = self._activities()
        n_times = x.shape[-1]
        banks = [self.lead_bank(a, sfreq, n_times)[0] for a in names]
        u = nb.draw(rngs, 3)  # activity, offset, level: one draw call per record
        k = np.minimum(np.searchsorted(np.cumsum(probs), u[:, 0], side="right"), len(names) - 1)
        room = np.array([banks[j].shape[1] - n_times + 1 for j in k], dtype=np.int64)
        out = {"activity": [names[j] for j in k],
               "offset": np.minimum((u[:, 1] * room).astype(np.int64), room - 1),
               "gain": np.empty(len(rngs))}
        u = u[:, 2]
        if self.level == "absolute":
            out["gain"][:] = self.min_scale + (self.max_scale - self.min_scale) * u
            return out
        target = self.min_snr_db + (self.max_snr_db - self.min_snr_db) * u
        row = DERIVE_MATRIX[LEADS_12.index(self.reference_lead)].astype(np.float32)
        clean = np.tensordot(row, x, axes=(0, 1))  # (n, T) reference lead
        noise = np.stack([
            row @ banks[names.index(a)][:, o:o + n_times]
            for a, o in zip(out["activity"], out["offset"])])
        out["gain"][:] = _snr.gain_for_snr(clean, noise, sfreq, target)
        out["snr_db"] = target
        return out

    supports_rows = True

    @property
    def randomize_reads_signal(self):
        """Only the SNR level measures the signal."""
        return self.level == "snr"

    def apply(self, x, sfreq, params, rows=None):
        n_times = x.shape[-1]
        names, _ = self._activities()
        banks = {a: self.lead_bank(a, sfreq, n_times)[0] for a in names}
        tmp = np.empty(x.shape[1:], dtype=np.float32)
        offsets = np.asarray(params["offset"]).tolist()
        gains = np.asarray(params["gain"], dtype=np.float32)
        for j, i in enumerate(range(len(x)) if rows is None else rows):
            o = offsets[j]
            crop = banks[params["activity"][j]][:, o:o + n_times]
            if gains[j] == 1:  # the recorded level (default): no scaling pass
                x[i] += crop
            else:
                x[i] += np.multiply(crop, gains[j], out=tmp)
        return x


_PROFILES = {}


def _load_profile(path):
    """Load a profile YAML once per file version."""
    key = (path, os.stat(path).st_mtime_ns)
    if key not in _PROFILES:
        from noise_profiles import load_profile

        _PROFILES.clear()
        _PROFILES[key] = load_profile(path)
    return _PROFILES[key]
