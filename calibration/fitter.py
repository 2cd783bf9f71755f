"""Fit an augmentation pipeline's strengths so augmented public records look like device records.

:class:`AugmentationFitter` searches the pipeline's tunable parameters (random search over the
ranges, then a bounded Nelder–Mead simplex from the best point) to minimize the energy
distance between the features (:mod:`calibration.features`) of the device records and of the
augmented public records, restricted to the device's leads at the device's sampling rate. Every
candidate augments the same public records with the same per-record seeds (common random
numbers), so differences between candidates come from the parameters, not from the draws.
"""

from __future__ import annotations

import copy
import logging
import time

import numpy as np
from scipy import optimize, signal
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from calibration.distance import (
    FeatureScaler,
    classifier_auc,
    energy_distance,
    feature_differences,
    feature_giveaways,
)
from calibration.features import extract_features
from calibration.search_space import SearchSpace, declared_space
from shirtecg_common.errors import UserError
from shirtecg_common.random import check_random_state
from shirtecg_common.validation import check_option

logger = logging.getLogger(__name__)

LEADS_12 = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


class AugmentationFitter(BaseEstimator):
    """Search a pipeline's parameters to make augmented public records device-like.

    Parameters
    ----------
    pipeline : augment pipeline
        Anything with ``get_params``/``set_params`` and ``pipeline(x, sfreq, random_state)``
        (an :mod:`augment` Pipeline, or a single transform). Not modified.
    search_space : dict | None
        ``{nested_key: [low, high] | {low, high, log}}``; None uses the pipeline's declared
        tunables (:func:`calibration.search_space.declared_space`).
    n_iter : int
        Total evaluations (the pipeline's own parameters count as the first).
    refine_fraction : float
        Share of ``n_iter`` spent on local refinement (bounded Nelder–Mead) from the best
        random point.
    n_copies : int
        Augmented copies of each public record per evaluation.
    mains_hz : float | None
        Mains frequency of the mains-band feature.
    whiten : bool
        Decorrelate the standardized features with the device records' (shrunk) covariance
        before the energy distance, so mismatched feature relations (e.g. QRS amplitude vs
        its band power) count, not only mismatched marginals.
    objective : {"energy", "auc", "auc+energy"}
        What the search minimizes: the energy distance (smooth; default), the classifier
        two-sample AUC on fixed folds (what the acceptance measures, but a step function), or
        the AUC with the energy distance as a tie-breaker.
    classifier : {"logistic", "forest"}
        Classifier of the two-sample AUC.
    crop_s : float | None
        Keep only the first ``crop_s`` seconds of each public record after augmentation (and
        of the raw ones). Public records longer than the device windows leave a time
        compression (``TimeStretch`` faster, i.e. a higher heart rate) real signal to read
        instead of the held last sample at its end. None keeps the whole record.
    random_state : None | int | numpy.random.Generator
        Seeds the search and the augmentation draws.
    progress : callable | None
        Called as ``progress(i, n_iter, best_score)`` after every evaluation.

    Attributes
    ----------
    best_params_ : dict
        The searched keys' best values.
    best_pipeline_ : pipeline
        A copy of ``pipeline`` with ``best_params_`` set.
    score_ : float
        Energy distance of the best pipeline.
    history_ : list of dict
        ``{"phase", "params", "energy"}`` of every evaluation, in order.
    initial_params_ : dict
        The searched keys' values in the given pipeline.
    distances_ : dict
        ``{"raw", "initial", "calibrated"}`` → ``{"energy", "auc", "auc_grouped"}``:
        unaugmented public records, the given pipeline, the best pipeline. ``auc_grouped``
        (None unless both sets' groups were given and each has 2 or more) is the AUC with
        folds that keep each group (recording, subject) whole.
    features_ : dict
        ``{"device", "raw", "initial", "calibrated"}`` feature matrices, plus ``names``.
    scaler_ : FeatureScaler
    space_ : SearchSpace
    device_records_ : ndarray | list
        The device records as given (for the report's plots).
    """

    def __init__(self, pipeline, search_space=None, n_iter=40, refine_fraction=0.5, n_copies=1,
                 mains_hz=50.0, whiten=True, objective="energy", classifier="logistic",
                 crop_s=None, random_state=None, progress=None):
        self.pipeline = pipeline
        self.search_space = search_space
        self.n_iter = n_iter
        self.refine_fraction = refine_fraction
        self.n_copies = n_copies
        self.mains_hz = mains_hz
        self.whiten = whiten
        self.objective = objective
        self.classifier = classifier
        self.crop_s = crop_s
        self.random_state = random_state
        self.progress = progress

    def fit(self, public, device, *, public_sfreq, device_sfreq, device_leads,
            public_groups=None, device_groups=None):
        """Search the parameters.

        Parameters
        ----------
        public : ndarray, shape (n, 12, n_times)
            Public 12-lead records in mV (lead order ``I … V6``).
        device : ndarray (n, n_ch, T) | list of ndarray (n_ch, T_i)
            Device records in mV, one row per device lead.
        public_sfreq, device_sfreq : float
            Sampling rates in Hz.
        device_leads : sequence of str
            The lead each device row measures (a subset of the 12 standard leads).
        public_groups, device_groups : sequence | None
            The recording (or subject) each record comes from, for the grouped AUC of
            ``distances_`` (a label found in both sets, one subject on both sides, keeps that
            subject's records of both sets in one fold).

        Returns
        -------
        self
        """
        t0 = time.monotonic()
        check_option("objective", self.objective, ("energy", "auc", "auc+energy"))
        rng = check_random_state(self.random_state)
        public = np.asarray(public, dtype=np.float32)
        if public.ndim != 3 or public.shape[1] != 12:
            raise ValueError(f"public must be (n, 12, n_times) mV, got shape {public.shape}")
        if self.crop_s is not None and not 0 < self.crop_s <= public.shape[-1] / public_sfreq:
            raise UserError(f"crop_s must be in (0, {public.shape[-1] / public_sfreq:g}] s (the "
                            f"public records' length), got {self.crop_s!r}")
        self.device_leads_ = [str(lead) for lead in device_leads]
        self.device_sfreq_ = float(device_sfreq)
        self.public_sfreq_ = float(public_sfreq)
        space = SearchSpace(self.search_space if self.search_space is not None
                            else declared_space(self.pipeline))
        self.space_ = space
        current = self.pipeline.get_params(deep=True)
        missing = [k for k in space.keys if k not in current]
        if missing:
            raise UserError(f"search space key {missing[0]!r} is not a parameter of the pipeline; "
                            f"valid keys look like: {', '.join(list(current)[:8])} …")
        self.initial_params_ = {k: current[k] for k in space.keys}
        self._public = np.repeat(public, int(self.n_copies), axis=0)
        self._seeds = [int(s) for s in rng.integers(0, 2**63 - 1, len(self._public))]

        self.device_records_ = device
        dev_feats, names = extract_features(device, self.device_sfreq_, self.device_leads_,
                                            mains_hz=self.mains_hz)
        grouped = (_groups(device_groups, len(dev_feats), "device_groups"),
                   _groups(public_groups, len(public), "public_groups"))
        raw = self._to_device(public, self.public_sfreq_, LEADS_12)
        raw_feats, _ = extract_features(raw, self.device_sfreq_, self.device_leads_,
                                        mains_hz=self.mains_hz)
        init_feats = self._features(self.pipeline)
        # One fixed scale for every candidate: the device records' own spread, so a difference
        # counts in units of the device's natural variability (what a classifier sees).
        self.scaler_ = FeatureScaler(min_scale=1e-3, whiten=self.whiten).fit(dev_feats)
        dev_z = self.scaler_.transform(dev_feats)

        auc_seed = int(rng.integers(2**31 - 1))

        def energy(feats):
            return energy_distance(dev_z, self.scaler_.transform(feats), clip=False)

        def score(feats):
            if self.objective == "energy":
                return energy(feats)
            # Fixed folds (same seed every time), so the objective is deterministic.
            auc = classifier_auc(dev_feats, feats, classifier=self.classifier, n_repeats=2,
                                 random_state=auc_seed)
            if self.objective == "auc":
                return auc
            return auc + 0.05 * np.log1p(max(energy(feats), 0.0))

        history = [{"phase": "initial", "params": dict(self.initial_params_),
                    "energy": score(init_feats)}]
        best = {"u": space.to_unit(self.initial_params_), "energy": history[0]["energy"],
                "feats": init_feats}
        self._notify(1, best["energy"])

        def evaluate(u, phase):
            params = space.to_params(u)
            try:
                feats = self._features(self._with(params))
            except (ValueError, RuntimeError) as err:  # a combination the pipeline rejects
                logger.info("candidate %s rejected: %s", params, err)
                history.append({"phase": phase, "params": params, "energy": float("inf")})
                return float("inf")
            e = score(feats)
            history.append({"phase": phase, "params": params, "energy": e})
            if e < best["energy"]:
                best.update(u=space.to_unit(params), energy=e, feats=feats)
            self._notify(len(history), best["energy"])
            return e

        n_total = max(int(self.n_iter), 2)
        n_refine = int(round(self.refine_fraction * n_total))
        n_random = max(n_total - 1 - n_refine, 1)
        for u in _latin_hypercube(n_random, len(space), rng):
            evaluate(u, "random")
        # Local refinement: bounded Nelder–Mead from the best point (the objective is
        # deterministic thanks to the common random numbers, so a simplex converges).
        n_left = n_total - len(history)
        if n_left > len(space):
            d = len(space)
            x0 = best["u"].copy()
            # Start the simplex at about half the random points' spacing.
            h = float(np.clip(0.5 / n_random ** (1.0 / d), 0.02, 0.15))
            simplex = np.vstack([x0] + [np.clip(x0 + h * np.eye(d)[j] * (1 if x0[j] < 0.5
                                                                       else -1), 0, 1)
                                        for j in range(d)])
            optimize.minimize(lambda u: evaluate(u, "refine"), x0, method="Nelder-Mead",
                              bounds=[(0.0, 1.0)] * d,
                              options={"maxfev": n_left, "initial_simplex": simplex,
                                       "xatol": 1e-3, "fatol": 1e-4})
        self.history_ = history
        self.best_params_ = space.to_params(best["u"])
        self.best_pipeline_ = self._with(self.best_params_)
        self.score_ = float(best["energy"])
        aucs = {}
        # One fold seed for before and after: the same classifier on the same fold splits
        # (of the device rows; the public rows are as many for initial and calibrated).
        seed = int(rng.integers(2**31 - 1))
        for label, feats in (("raw", raw_feats), ("initial", init_feats),
                             ("calibrated", best["feats"])):
            aucs[label] = {
                "energy": max(energy(feats), 0.0),
                "auc": classifier_auc(dev_feats, feats, classifier=self.classifier,
                                      random_state=seed),
                "auc_grouped": None,
            }
            if all(g is not None and len(set(g)) >= 2 for g in grouped):
                pub_g = grouped[1] if label == "raw" else np.repeat(grouped[1], self.n_copies)
                aucs[label]["auc_grouped"] = classifier_auc(
                    dev_feats, feats, classifier=self.classifier, random_state=seed,
                    groups_a=grouped[0], groups_b=pub_g)
        self.distances_ = aucs
        self.features_ = {"device": dev_feats, "raw": raw_feats, "initial": init_feats,
                          "calibrated": best["feats"], "names": names}
        self.fit_time_s_ = time.monotonic() - t0
        return self

    def feature_differences(self, which="calibrated"):
        """Features that still differ most: ``[(name, standardized mean difference), …]``."""
        check_is_fitted(self, "features_")
        return feature_differences(self.features_["device"], self.features_[which],
                                   self.features_["names"], self.scaler_)

    def feature_giveaways(self, which="calibrated", n_top=8):
        """Which features still tell ``which`` from the device records:
        ``(rows, auc_all)`` of :func:`calibration.distance.feature_giveaways` (each feature's
        AUC alone, and the classifier's AUC without it)."""
        check_is_fitted(self, "features_")
        return feature_giveaways(self.features_["device"], self.features_[which],
                                 self.features_["names"], classifier=self.classifier,
                                 n_top=n_top, random_state=0)

    def augment(self, pipeline, public=None, public_sfreq=None):
        """Augmented public records on the device's leads and rate (for plots)."""
        check_is_fitted(self, "features_")
        x = self._public if public is None else public
        seeds = self._seeds if public is None else list(range(len(public)))
        out, leads, sfreq = _run(pipeline, x, public_sfreq or self.public_sfreq_, seeds)
        return self._to_device(out, sfreq, leads)

    # ------------------------------------------------------------------ internals
    def _notify(self, i, best_energy):
        if self.progress is not None:
            self.progress(i, max(int(self.n_iter), 2), best_energy)

    def _with(self, params):
        pipe = copy.deepcopy(self.pipeline)
        pipe.set_params(**params)
        # A searched max_x below the pipeline's fixed min_x (or a min above its max) would make
        # an invalid range: move the partner along, so every candidate is usable.
        current = pipe.get_params(deep=True)
        fix = {}
        for key, value in params.items():
            head, sep, tail = key.rpartition("__")
            for mine, other, bad in (("max_", "min_", lambda v, o: o > v),
                                     ("min_", "max_", lambda v, o: o < v)):
                partner = f"{head}{sep}{other}{tail[4:]}"
                if tail.startswith(mine) and partner not in params and partner in current:
                    o = current[partner]
                    if isinstance(o, (int, float)) and not isinstance(o, bool) and bad(value, o):
                        fix[partner] = value
        if fix:
            pipe.set_params(**fix)
        return pipe

    def _features(self, pipeline):
        out, leads, sfreq = _run(pipeline, self._public, self.public_sfreq_, self._seeds)
        x = self._to_device(out, sfreq, leads)
        return extract_features(x, self.device_sfreq_, self.device_leads_,
                                mains_hz=self.mains_hz)[0]

    def _to_device(self, x, sfreq, leads):
        leads = list(leads)
        missing = [lead for lead in self.device_leads_ if lead not in leads]
        if missing:
            raise UserError(f"the augmented records have no lead {missing[0]!r} (they have "
                            f"{', '.join(leads)}); the device leads must be among them")
        x = x[:, [leads.index(lead) for lead in self.device_leads_]]
        x = resample(x, sfreq, self.device_sfreq_)
        if self.crop_s is not None:
            x = x[..., :int(round(self.crop_s * self.device_sfreq_))]
        return x


def _groups(groups, n, name):
    """Group labels as a string array of length ``n``, or None."""
    if groups is None:
        return None
    groups = np.asarray(groups, dtype=str)
    if groups.shape != (n,):
        raise ValueError(f"{name} needs one label per record ({n}), got shape {groups.shape}")
    return groups


def _run(pipeline, x, sfreq, seeds):
    """Apply a pipeline; returns ``(out, output lead names, output sfreq)``."""
    out = np.asarray(pipeline(x, sfreq, random_state=seeds), dtype=np.float32)
    out_sfreq = pipeline.output_sfreq(sfreq) if hasattr(pipeline, "output_sfreq") else sfreq
    leads = getattr(pipeline, "output_leads", None) or LEADS_12
    if out.shape[1] != len(leads):
        leads = LEADS_12 if out.shape[1] == 12 else leads
    return out, list(leads), float(out_sfreq)


def resample(x, sfreq, target_sfreq):
    """Polyphase resampling along the last axis (no-op when the rates match)."""
    if abs(sfreq - target_sfreq) < 1e-9:
        return x
    from fractions import Fraction

    frac = Fraction(target_sfreq / sfreq).limit_denominator(1000)
    return signal.resample_poly(x, frac.numerator, frac.denominator, axis=-1).astype(np.float32)


def _latin_hypercube(n, d, rng):
    """``n`` points of a Latin hypercube in ``[0, 1]^d``."""
    cut = (np.arange(n)[:, None] + rng.random((n, d))) / n
    for j in range(d):
        cut[:, j] = cut[rng.permutation(n), j]
    return cut
