"""Energy distance and classifier AUC: against a loop reference, and sanity on known cases."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.distance import (
    FeatureScaler,
    classifier_auc,
    energy_distance,
    feature_differences,
    feature_giveaways,
)


def _energy_reference(a, b):
    """Energy distance written out with loops (the textbook definition, unbiased)."""
    def mean_dist(x, y, same):
        total, count = 0.0, 0
        for i in range(len(x)):
            for j in range(len(y)):
                if same and i == j:
                    continue
                total += np.sqrt(np.sum((x[i] - y[j]) ** 2))
                count += 1
        return total / count
    return 2 * mean_dist(a, b, False) - mean_dist(a, a, True) - mean_dist(b, b, True)


def test_energy_matches_reference():
    """Matches the loop definition; clip=False keeps the (possibly negative) U-statistic."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(12, 3)), rng.normal(0.3, 1.0, size=(9, 3))
    assert energy_distance(a, b, clip=False) == pytest.approx(_energy_reference(a, b), rel=1e-10)


def test_energy_same_vs_shifted():
    """Same distribution ≈ 0; a 2-sigma shift is large and grows with the shift."""
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(200, 5)), rng.normal(size=(200, 5))
    same = energy_distance(a, b)
    shifted = energy_distance(a, b + 2.0)
    assert same < 0.1
    assert shifted > 3.0
    assert energy_distance(a, b + 4.0) > shifted


def test_auc_same_vs_shifted():
    """Indistinguishable sets give AUC ≈ 0.5; clearly shifted sets ≥ 0.95 (both classifiers)."""
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(80, 6)), rng.normal(size=(80, 6))
    for clf in ("logistic", "forest"):
        kw = {"classifier": clf, "random_state": 0, "n_repeats": 1 if clf == "forest" else 3}
        assert abs(classifier_auc(a, b, **kw) - 0.5) < 0.12
        assert classifier_auc(a, b + 1.5, **kw) > 0.95


def test_scaler_and_errors():
    """The scaler is robust to one outlier; bad inputs raise ValueError."""
    x = np.vstack([np.random.default_rng(3).normal(5.0, 2.0, size=(100, 2)), [[1e6, 1e6]]])
    sc = FeatureScaler().fit(x)
    assert np.allclose(sc.center_, 5.0, atol=0.6)
    assert np.allclose(sc.scale_, 2.0, rtol=0.25)
    with pytest.raises(ValueError, match="same number of columns"):
        energy_distance(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="logistic"):
        classifier_auc(np.zeros((5, 2)), np.ones((5, 2)), classifier="svm")


def _recordings(rng, n_rec, shift, offsets):
    """Windows of ``n_rec`` recordings (8 each): a per-recording offset (its 'heart') drawn
    from ``offsets`` plus a small within-recording spread, plus a class ``shift``."""
    rows, groups = [], []
    for r in range(n_rec):
        centre = offsets[r] + shift
        rows.append(centre + 0.05 * rng.normal(size=(8, 3)))
        groups += [f"rec{r}"] * 8
    return np.vstack(rows), groups


def test_grouped_auc_ignores_recording_identity():
    """Two sets of recordings from one population of 'hearts': windows of a recording cluster,
    so random folds tell the sets apart by recording identity; grouped folds do not. A real
    class difference stays visible with grouped folds."""
    rng = np.random.default_rng(4)
    hearts = rng.normal(size=(12, 3))
    a, ga = _recordings(rng, 6, 0.0, hearts[:6])
    b, gb = _recordings(rng, 6, 0.0, hearts[6:])
    gb = [g.replace("rec", "dev") for g in gb]
    assert classifier_auc(a, b, random_state=0, classifier="forest", n_repeats=1) > 0.9
    grouped = classifier_auc(a, b, random_state=0, classifier="forest", n_repeats=1,
                             groups_a=ga, groups_b=gb)
    assert grouped < 0.75
    shifted = classifier_auc(a, b + 3.0, random_state=0, groups_a=ga, groups_b=gb)
    assert shifted > 0.95
    with pytest.raises(ValueError, match="at least 2 groups"):
        classifier_auc(a, b, groups_a=["one"] * len(a), groups_b=gb)
    with pytest.raises(ValueError, match="one label per row"):
        classifier_auc(a, b, groups_a=ga[:-1], groups_b=gb)


def test_giveaways_find_a_feature_invisible_alone():
    """x1 − x0 tells the sets apart; x0 alone does not (same marginal), x2 is pure noise: the
    classifier without x0 or x1 drops, without x2 it does not; x0's AUC alone stays ≈ 0.5."""
    rng = np.random.default_rng(3)

    def make(n, shift):
        x0 = rng.normal(size=n)
        return np.c_[x0, x0 + shift + 0.1 * rng.normal(size=n), rng.normal(size=n)]

    dev, other = make(80, 0.0), make(80, 1.0)
    rows, auc_all = feature_giveaways(dev, other, ["x0", "x1", "x2"], random_state=0)
    by = {r["name"]: r for r in rows}
    assert auc_all > 0.95
    assert abs(by["x0"]["auc_alone"] - 0.5) < 0.1 and by["x0"]["auc_without"] < 0.85
    assert by["x1"]["auc_alone"] > 0.65 and by["x1"]["auc_without"] < 0.65
    assert by["x2"]["auc_without"] > 0.9
    assert {rows[0]["name"], rows[1]["name"]} == {"x0", "x1"}  # most relied upon first
    # per-feature differences are in each feature's own scale (never whitened mixtures)
    scaler = FeatureScaler(whiten=True).fit(dev)
    diffs = dict(feature_differences(dev, other, ["x0", "x1", "x2"], scaler))
    ref = (other.mean(0) - dev.mean(0)) / scaler.scale_
    assert diffs["x1"] == pytest.approx(ref[1]) and diffs["x0"] == pytest.approx(ref[0])
