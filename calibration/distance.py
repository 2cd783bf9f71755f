"""Domain distances between two sets of feature vectors.

* :func:`energy_distance` — the multivariate energy distance (Székely & Rizzo) on features
  standardized by a :class:`FeatureScaler` fitted once (so candidates of a search compare);
  0 for identical distributions.
* :func:`classifier_auc` — a classifier two-sample test: the cross-validated ROC AUC of a
  scikit-learn classifier that tries to tell the two sets apart; 0.5 means indistinguishable.
  With ``groups_a``/``groups_b`` (the recording or subject of each row) the folds keep a group
  whole, so the classifier is scored on recordings it never saw: windows of one recording
  share its heart (rate, QRS shape), and with random folds the AUC also measures recording
  identity.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.covariance import LedoitWolf
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from shirtecg_common.random import check_random_state


class FeatureScaler(TransformerMixin, BaseEstimator):
    """Robust standardization: (x − median) / scale, scale = IQR/1.349 (the std for a normal
    sample; the std is used where the IQR is 0), floored at ``min_scale``.

    Parameters
    ----------
    min_scale : float
        Smallest scale (a constant feature does not divide by 0).
    whiten : bool
        Also decorrelate with the inverse square root of the Ledoit–Wolf covariance.

    Attributes
    ----------
    center_, scale_ : ndarray, shape (n_features,)
    whitener_ : ndarray (n_features, n_features) | None
    """

    def __init__(self, min_scale=1e-6, whiten=False):
        self.min_scale = min_scale
        self.whiten = whiten

    def fit(self, X, y=None):
        """Fit the center and scale on ``X`` (n, n_features)."""
        X = np.asarray(X, float)
        self.center_ = np.median(X, axis=0)
        q75, q25 = np.percentile(X, [75, 25], axis=0)
        iqr = (q75 - q25) / 1.349
        iqr = np.where(iqr > 0, iqr, X.std(axis=0))
        self.scale_ = np.maximum(iqr, self.min_scale)
        self.whitener_ = None
        if self.whiten and X.shape[1] > 1:
            # Whiten with the shrunk (Ledoit–Wolf) covariance of the standardized features, so
            # a difference across the device's feature correlations counts fully.
            z = (X - self.center_) / self.scale_
            cov = LedoitWolf().fit(z).covariance_
            vals, vecs = np.linalg.eigh(cov)
            self.whitener_ = vecs @ np.diag(1.0 / np.sqrt(np.maximum(vals, 1e-6))) @ vecs.T
        return self

    def transform(self, X):
        """Standardize ``X``."""
        check_is_fitted(self, "scale_")
        z = (np.asarray(X, float) - self.center_) / self.scale_
        return z if self.whitener_ is None else z @ self.whitener_


def energy_distance(a, b, *, clip=True):
    """Multivariate energy distance ``2E|A−B| − E|A−A'| − E|B−B'|``.

    Parameters
    ----------
    a, b : ndarray, shape (n_a, d) and (n_b, d)
        Already standardized feature vectors.
    clip : bool
        Clip at 0. The unclipped value is the unbiased U-statistic, which can be slightly
        negative for samples of one distribution (a search should use it, so ties at 0 do not
        hide which candidate is closer).
    """
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must be 2-D with the same number of columns, got {a.shape}, "
                         f"{b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError("each set needs at least 2 feature vectors")
    ab = cdist(a, b).mean()
    aa = cdist(a, a).sum() / (len(a) * (len(a) - 1))
    bb = cdist(b, b).sum() / (len(b) * (len(b) - 1))
    e = float(2 * ab - aa - bb)
    return max(e, 0.0) if clip else e


def classifier_auc(a, b, *, classifier="logistic", n_splits=5, n_repeats=3, random_state=None,
                   groups_a=None, groups_b=None):
    """Cross-validated two-sample AUC: can a classifier tell ``a`` from ``b``?

    Parameters
    ----------
    a, b : ndarray, shape (n_a, d) and (n_b, d)
        Feature vectors of the two sets.
    classifier : {"logistic", "forest"}
        L2 logistic regression on standardized features, or a random forest.
    n_splits : int
        Folds (reduced when a set is smaller).
    n_repeats : int
        Cross-validation repeated with new fold splits; the AUCs are averaged (a steadier
        estimate for small sets).
    random_state : None | int | numpy.random.Generator
        Seeds the fold split and the forest.
    groups_a, groups_b : sequence | None
        Group label (recording, subject) of each row of ``a`` and ``b``; given both, the folds
        never split a group (:class:`~sklearn.model_selection.StratifiedGroupKFold`), and a
        label found in both sets (one subject on both sides) keeps all its rows in one fold.
        ``n_splits`` is cut to the number of groups of the set with fewer. The AUC is then
        computed per test fold and averaged (over the folds that hold both sets; pooled
        out-of-fold scores where none does).

    Returns
    -------
    auc : float
        Out-of-fold ROC AUC; 0.5 = indistinguishable, 1.0 = perfectly separated. Grouped,
        it can fall below 0.5: what tells the training groups apart points the wrong way on
        the held-out ones (e.g. subject differences mistaken for the domain difference).

    Raises
    ------
    ValueError
        Fewer than 2 rows (2 groups, when grouped) in a set.
    """
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    grouped = groups_a is not None and groups_b is not None
    if grouped:
        groups = np.r_[np.asarray(groups_a, str), np.asarray(groups_b, str)]
        if len(groups) != len(a) + len(b):
            raise ValueError(f"groups_a/groups_b need one label per row ({len(a)} + {len(b)}), "
                             f"got {len(groups_a)} + {len(groups_b)}")
        n_ga, n_gb = len(set(groups[:len(a)])), len(set(groups[len(a):]))
        n_splits = int(min(n_splits, n_ga, n_gb, len(set(groups))))
        if n_splits < 2:
            raise ValueError(f"a grouped AUC needs at least 2 groups in each set, got {n_ga} "
                             f"and {n_gb}")
    else:
        n_splits = int(min(n_splits, len(a), len(b)))
        if n_splits < 2:
            raise ValueError("each set needs at least 2 feature vectors for a cross-validated AUC")
    seed = int(check_random_state(random_state).integers(2**31 - 1))
    X = np.vstack([a, b])
    y = np.r_[np.zeros(len(a)), np.ones(len(b))]
    if classifier == "logistic":
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.3, class_weight="balanced",
                                                                 max_iter=2000))
        method = "decision_function"
    elif classifier == "forest":
        clf = RandomForestClassifier(n_estimators=100, min_samples_leaf=2,
                                     class_weight="balanced", random_state=seed, n_jobs=1)
        method = "predict_proba"
    else:
        raise ValueError(f"classifier must be 'logistic' or 'forest', got {classifier!r}")
    # One BLAS thread: these fits are tiny, and threads fighting over busy cores made each
    # logistic fit ~10x slower (80 ms vs 8 ms on the shared 2-core machine).
    with threadpool_limits(limits=1):
        aucs = _cv_aucs(clf, method, X, y, groups if grouped else None, n_splits,
                        n_repeats, seed)
    return float(np.mean(aucs))


def _cv_aucs(clf, method, X, y, groups, n_splits, n_repeats, seed):
    """The AUC of each repeat of the cross-validation (see :func:`classifier_auc`)."""
    grouped = groups is not None
    aucs = []
    for r in range(max(int(n_repeats), 1)):
        if grouped:
            cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed + r)
            # AUC per test fold, averaged: pooling the scores of different fold models is
            # biased (their scales differ); folds holding one class only are skipped.
            fold_aucs = []
            for train, test in cv.split(X, y, groups):
                if len(np.unique(y[test])) == 2 and len(np.unique(y[train])) == 2:
                    s = getattr(clone(clf).fit(X[train], y[train]), method)(X[test])
                    fold_aucs.append(roc_auc_score(y[test], s[:, 1] if s.ndim == 2 else s))
            if fold_aucs:
                aucs.append(float(np.mean(fold_aucs)))
                continue
            score = cross_val_predict(clf, X, y, cv=cv, groups=groups, method=method)
        else:
            cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed + r)
            score = cross_val_predict(clf, X, y, cv=cv, method=method)
        if score.ndim == 2:
            score = score[:, 1]
        aucs.append(roc_auc_score(y, score))
    return aucs


def feature_differences(device, other, names, scaler):
    """Standardized mean difference per feature, largest first.

    Per feature, in units of the scaler's robust scale, never whitened: a whitened
    coordinate mixes features, so it could not be named after one.

    Returns
    -------
    rows : list of (name, difference)
        ``difference`` = (mean(other) − mean(device)) in units of the scaler's scale.
    """
    check_is_fitted(scaler, "scale_")
    d = (np.asarray(other, float).mean(0) - np.asarray(device, float).mean(0)) / scaler.scale_
    order = np.argsort(-np.abs(d))
    return [(names[i], float(d[i])) for i in order]


def feature_giveaways(device, other, names, *, classifier="logistic", n_top=8,
                      random_state=None):
    """Which features let the classifier tell ``other`` from ``device``.

    Two views: each feature alone (its two-sample ROC AUC, no fitting: a difference of
    the marginals) and the classifier without it (the cross-validated AUC of
    :func:`classifier_auc` on all features but that one: a large drop means the
    classifier relies on it, also where it only matters together with another feature).
    The drop is computed for the ``n_top`` features with the most telling marginals and
    the ``n_top`` largest absolute coefficients of a standardized logistic fit.

    Returns
    -------
    rows : list of dict
        ``{"name", "auc_alone", "auc_without"}`` (``auc_without`` None where not
        computed), sorted by ``auc_without`` (lowest first), then by ``|auc_alone − 0.5|``.
    auc_all : float
        The cross-validated AUC with every feature (same folds).
    """
    device = np.asarray(device, float)
    other = np.asarray(other, float)
    X = np.vstack([device, other])
    y = np.r_[np.zeros(len(device)), np.ones(len(other))]
    alone = np.array([roc_auc_score(y, X[:, j]) for j in range(X.shape[1])])
    seed = int(check_random_state(random_state).integers(2**31 - 1))
    auc_all = classifier_auc(device, other, classifier=classifier, random_state=seed)
    with threadpool_limits(limits=1):
        coef = make_pipeline(StandardScaler(), LogisticRegression(
            C=0.3, class_weight="balanced", max_iter=2000)).fit(X, y)[-1].coef_[0]
    picked = (set(np.argsort(-np.abs(alone - 0.5))[:n_top])
              | set(np.argsort(-np.abs(coef))[:n_top]))
    without = {}
    if X.shape[1] > 1:
        for j in sorted(picked):
            keep = np.arange(X.shape[1]) != j
            without[j] = classifier_auc(device[:, keep], other[:, keep], classifier=classifier,
                                        random_state=seed)
    rows = [{"name": names[j], "auc_alone": float(alone[j]),
             "auc_without": None if j not in without else float(without[j])}
            for j in range(X.shape[1])]
    rows.sort(key=lambda r: (r["auc_without"] if r["auc_without"] is not None else np.inf,
                             -abs(r["auc_alone"] - 0.5)))
    return rows, float(auc_all)
