"""AugmentationFitter: synthetic-truth recovery, declared search spaces, calibrated YAML."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.fitter import AugmentationFitter
from calibration.search_space import SearchSpace, declared_space
from shirtecg_common.errors import ConfigError, UserError
from tests.calibration._helpers import WanderAndNoise, synthetic_public

SF = 250.0


def test_synthetic_truth_recovered():
    """Device-like records made with known parameters: recovered within 15 %, AUC ≤ 0.6."""
    public = synthetic_public(40, seed=10)
    truth = WanderAndNoise(noise_mv=0.08, wander_mv=0.5)
    device = truth(synthetic_public(40, seed=20), SF, random_state=0)[:, [1, 7]]  # II, V2
    fitter = AugmentationFitter(WanderAndNoise(noise_mv=0.01, wander_mv=0.05),
                                search_space={"noise_mv": [0.005, 0.5],
                                              "wander_mv": [0.01, 2.0]},
                                n_iter=30, random_state=0)
    assert fitter.fit(public, device, public_sfreq=SF, device_sfreq=SF,
                      device_leads=["II", "V2"]) is fitter
    assert fitter.best_params_["noise_mv"] == pytest.approx(0.08, rel=0.15)
    assert fitter.best_params_["wander_mv"] == pytest.approx(0.5, rel=0.15)
    d = fitter.distances_
    assert d["initial"]["auc"] > 0.95 and d["calibrated"]["auc"] <= 0.6
    assert d["calibrated"]["energy"] < 0.1 * d["initial"]["energy"]
    assert 20 < len(fitter.history_) <= 30  # the simplex may converge before the budget
    assert fitter.best_pipeline_.noise_mv == fitter.best_params_["noise_mv"]
    assert fitter.score_ == min(h["energy"] for h in fitter.history_)
    # The given pipeline is left as it was.
    assert fitter.pipeline.noise_mv == 0.01


def test_device_rate_and_single_lead():
    """Public records at 500 Hz against single-lead device records at 250 Hz (resampled)."""
    public = synthetic_public(12, sfreq=500.0, seed=1)
    device = WanderAndNoise(noise_mv=0.05)(synthetic_public(12, seed=2), SF, random_state=1)
    fitter = AugmentationFitter(WanderAndNoise(), search_space={"noise_mv": [0.01, 0.2]},
                                n_iter=6, random_state=0)
    fitter.fit(public, device[:, [6]], public_sfreq=500.0, device_sfreq=SF, device_leads=["V1"])
    assert fitter.features_["calibrated"].shape[0] == 12
    assert fitter.augment(fitter.best_pipeline_).shape == (12, 1, int(8 * SF))
    assert fitter.distances_["raw"]["auc_grouped"] is None  # no groups given


def test_declared_space_from_pipeline_yaml(tmp_path):
    """A Pipeline's 'tunable:' is the default space; the calibrated YAML loads back unchanged."""
    import augment

    pipe = augment.Pipeline(
        [("noise", augment.get_transform_class("GaussianNoise")(p=1.0, min_sigma_mv=0.001,
                                                                max_sigma_mv=0.002))],
        tunable={"noise__max_sigma_mv": [0.001, 0.2]})
    assert declared_space(pipe) == {"noise__max_sigma_mv": [0.001, 0.2]}
    public = synthetic_public(10, seed=3)
    truth = augment.Pipeline([("noise", augment.get_transform_class("GaussianNoise")(
        p=1.0, min_sigma_mv=0.001, max_sigma_mv=0.05))])
    device = truth(synthetic_public(10, seed=4), SF, random_state=2)[:, [0]]
    fitter = AugmentationFitter(pipe, n_iter=8, random_state=0).fit(
        public, device, public_sfreq=SF, device_sfreq=SF, device_leads=["I"])
    out = tmp_path / "calibrated.yaml"
    fitter.best_pipeline_.to_yaml(out)
    again = augment.load_pipeline(str(out))
    assert again.get_params()["noise__max_sigma_mv"] == pytest.approx(
        fitter.best_params_["noise__max_sigma_mv"])
    assert again.tunable == pipe.tunable
    assert fitter.best_params_["noise__max_sigma_mv"] > 0.01  # moved toward the truth (0.05)


def test_search_space_rules():
    """Log scale for wide positive ranges, min ≤ max kept, bad specs are ConfigErrors."""
    s = SearchSpace({"a__min_x": [0.0, 1.0], "a__max_x": [0.0, 1.0], "b": [0.01, 10.0]})
    assert list(s.log) == [False, False, True]
    p = s.to_params([0.9, 0.1, 0.5])
    assert p["a__min_x"] <= p["a__max_x"]
    assert p["b"] == pytest.approx(np.sqrt(0.01 * 10.0))
    np.testing.assert_allclose(s.to_unit(s.to_params([0.2, 0.7, 0.3])), [0.2, 0.7, 0.3])
    for bad, match in (({}, "empty"), ({"k": [2, 1]}, "must be <"), ({"k": "x"}, "expected"),
                       ({"k": {"low": 0, "high": 1, "step": 2}}, "expected")):
        with pytest.raises(ConfigError, match=match):
            SearchSpace(bad)


def test_unknown_key_and_missing_lead():
    """A search key the pipeline lacks, or a device lead the output lacks: clear errors."""
    public = synthetic_public(4, seed=5)
    dev = public[:, [1]]
    with pytest.raises(UserError, match="not a parameter"):
        AugmentationFitter(WanderAndNoise(), search_space={"nope": [0, 1]}, n_iter=2).fit(
            public, dev, public_sfreq=SF, device_sfreq=SF, device_leads=["II"])
    with pytest.raises(UserError, match="no lead 'X1'"):
        AugmentationFitter(WanderAndNoise(), search_space={"noise_mv": [0.01, 0.1]},
                           n_iter=2).fit(public, dev, public_sfreq=SF, device_sfreq=SF,
                                         device_leads=["X1"])


def test_grouped_auc_and_crop():
    """Groups give a grouped AUC beside the window AUC; crop_s compares only the first seconds
    of the (longer) public records; bad groups and crops are clear errors."""
    public = synthetic_public(8, seed=3)  # 8-s records
    device = WanderAndNoise(noise_mv=0.05)(synthetic_public(8, seed=4), SF,
                                            random_state=2)[:, [1], :int(5 * SF)]
    kw = {"public_sfreq": SF, "device_sfreq": SF, "device_leads": ["II"],
          "public_groups": [f"p{i // 2}" for i in range(8)],
          "device_groups": [f"d{i // 2}" for i in range(8)]}
    fitter = AugmentationFitter(WanderAndNoise(), search_space={"noise_mv": [0.01, 0.2]},
                                n_iter=2, n_copies=2, crop_s=5.0, random_state=0)
    fitter.fit(public, device, **kw)
    for label in ("raw", "initial", "calibrated"):
        g = fitter.distances_[label]["auc_grouped"]
        assert 0.0 <= g <= 1.0
    assert fitter.augment(fitter.best_pipeline_).shape == (16, 1, int(5 * SF))
    assert fitter.distances_["raw"]["auc_grouped"] > 0.9  # noise-free public vs noisy device
    with pytest.raises(ValueError, match="device_groups needs one label per record"):
        fitter.fit(public, device, **dict(kw, device_groups=["d0"] * 5))
    with pytest.raises(UserError, match="crop_s must be in"):
        fitter.set_params(crop_s=20.0).fit(public, device, **kw)
