"""YAML round trips and the errors a pipeline file can raise."""

import pickle

import numpy as np
import pytest
import yaml

import augment
from augment.serialization import load_pipeline, pipeline_from_dict
from shirtecg_common.errors import ConfigError
from tests.augment.ecg_fixtures import synthetic_ecg

X = synthetic_ecg(n_records=3, seconds=2.0)


@pytest.mark.parametrize("preset", ["base", "displacement", "wearable"])
def test_presets_round_trip_through_yaml_and_pickle(preset, tmp_path):
    """to_yaml → load_pipeline gives the same dict and, for one seed, the same output."""
    pipe = load_pipeline(preset)
    path = tmp_path / f"{preset}.yaml"
    pipe.to_yaml(path)
    again = load_pipeline(path)
    assert again.to_dict() == pipe.to_dict()
    assert again.tunable == pipe.tunable
    np.testing.assert_array_equal(again(X, 500.0, 4), pipe(X, 500.0, 4))
    unpickled = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(unpickled(X, 500.0, 4), pipe(X, 500.0, 4))


def _base_dict():
    return {"format_version": 1, "transforms": [
        {"class": "TimeShift", "params": {"p": 1.0}},
        {"class": "OneOf", "params": {"weights": [1, 2]}, "transforms": [
            {"class": "AmplitudeScale", "name": "gain"}, {"class": "TimeStretch"}]}],
        "tunable": {"one_of__gain__max_scale": [1.0, 1.5]}}


def test_pipeline_from_dict_builds_names_and_values():
    """Names, nested params, tuples from YAML lists and tunables come through."""
    pipe = pipeline_from_dict(_base_dict())
    params = pipe.get_params()
    assert params["one_of__weights"] == (1, 2)
    assert "one_of__gain__max_scale" in params
    assert pipe.tunable == {"one_of__gain__max_scale": [1.0, 1.5]}


@pytest.mark.parametrize("mutate, match", [
    (lambda d: d.update(colour="red"), r"unknown key 'colour'.*allowed keys: format_version"),
    (lambda d: d["transforms"].append({"class": "Blur"}),
     r"transforms\[2\]: unknown transform class 'Blur'; known classes: .*TimeShift"),
    (lambda d: d["transforms"][0]["params"].update(max_shift=3),
     r"transforms\[0\]\.params \(TimeShift\): unknown key 'max_shift'.*max_shift_s"),
    (lambda d: d["transforms"][0].update(prams={}), r"unknown key 'prams'.*class, name, params"),
    (lambda d: d["transforms"][0].update(transforms=[]), "only allowed for Compose"),
    (lambda d: d["transforms"][1].pop("transforms"), "OneOf needs a 'transforms' list"),
    (lambda d: d.update(format_version=9), "format_version 9 is not supported"),
    (lambda d: d.update(tunable={"one_of__gain__max_scal": [1, 2]}), "tunable key"),
    (lambda d: d.update(tunable={"one_of__gain__max_scale": [2, 1]}), r"\[low, high\]"),
    (lambda d: d.pop("transforms"), "missing required key 'transforms'"),
])
def test_bad_pipeline_dicts_name_the_problem(mutate, match):
    """Unknown keys, classes, params; bad versions and tunables → ConfigError naming them."""
    d = _base_dict()
    mutate(d)
    with pytest.raises(ConfigError, match=match):
        pipeline_from_dict(d)


def test_yaml_files_are_loaded_safely_and_errors_name_the_file(tmp_path):
    """A Python-object tag is refused by safe_load; a missing preset lists the presets."""
    evil = tmp_path / "evil.yaml"
    evil.write_text("transforms: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match="evil.yaml"):
        load_pipeline(evil)
    with pytest.raises(ConfigError, match="neither a preset.*base, displacement, wearable"):
        load_pipeline("wearabel")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"transforms": [{"class": "Nope"}]}))
    with pytest.raises(ConfigError, match=r"bad\.yaml: transforms\[0\]: unknown transform"):
        load_pipeline(bad)


def test_objects_that_cannot_be_yaml_are_refused():
    """A parameter holding an arbitrary object is an error, not a silent ``repr``."""
    pipe = augment.Pipeline([augment.TimeShift(mode=object())])
    with pytest.raises(ConfigError, match="TimeShift.mode"):
        pipe.to_dict()
