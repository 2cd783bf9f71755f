"""Checks every registered transform must pass (scikit-learn ``test_common`` style).

The list comes from ``augment.transform_registry()``, so a transform added anywhere under
``augment.transforms`` (noise and device included) is checked without editing this file.
"""

import json
import pickle
import re

import numpy as np
import pytest
from sklearn.base import clone

import augment
from augment import leads
from augment.serialization import pipeline_from_dict
from tests.augment.ecg_fixtures import synthetic_ecg

SFREQ = 500.0
REGISTRY = augment.transform_registry(include_compositions=False)
# Transforms that need a fitted noise profile are checked by their own tests with one.
RUNNABLE = [n for n, c in REGISTRY.items() if not getattr(c, "requires_profile", False)]
SIGNAL = synthetic_ecg(n_records=4, seconds=3.0, sfreq=SFREQ)


def _make(name, **params):
    t = REGISTRY[name]()
    return t.set_params(**{"p": 1.0, **params})


def _run(t, x, seed):
    return t(x, SFREQ, random_state=seed)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_default_construction_and_params(name):
    """Defaults construct, ``__init__`` only assigns, clone and repr work."""
    cls = REGISTRY[name]
    t = cls()
    params = t.get_params()
    assert "p" in params
    assert clone(t).get_params() == params
    assert name in repr(t)


def test_registry_lists_every_group():
    """The registry finds spatial, anatomical and (helper C2's) noise transforms."""
    groups = {augment.transforms.transform_group(c) for c in REGISTRY.values()}
    assert {"spatial", "anatomical", "noise"} <= groups
    for cls in ("TimeStretch", "ElectrodeDisplacement", "LeadVectorRotation"):
        assert cls in REGISTRY


def test_every_transform_is_exported_flat():
    """``augment.<Class>`` exists for every registered transform and composition."""
    for name, cls in augment.transform_registry().items():
        assert getattr(augment, name) is cls, name
        assert name in augment.__all__


@pytest.mark.parametrize("name", RUNNABLE)
def test_p_zero_returns_input_unchanged(name):
    """With ``p=0`` nothing is drawn beyond the gate and the leads are returned as they were."""
    t = _make(name, p=0.0)
    out8, records = t.transform_batch(leads.independent(SIGNAL).copy(), SFREQ,
                                      augment.base.make_rngs(1, len(SIGNAL)))
    np.testing.assert_array_equal(out8, leads.independent(SIGNAL))
    assert all(r == {"applied": False} for r in records)


@pytest.mark.parametrize("name", RUNNABLE)
def test_same_seed_same_output_and_input_untouched(name):
    """Equal seeds give identical output; the caller's array is never modified."""
    x = SIGNAL.copy()
    a = _run(_make(name), x, 7)
    b = _run(_make(name), x, 7)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(x, SIGNAL)


@pytest.mark.parametrize("name", RUNNABLE)
def test_per_record_seeds_do_not_depend_on_batching(name):
    """With per-record seeds, record i's output is the same alone, in a batch, or moved."""
    t = _make(name)
    seeds = [11, 12, 13, 14]
    full = _run(t, SIGNAL, seeds)
    alone = _run(t, SIGNAL[2:3], seeds[2:3])
    moved = _run(t, SIGNAL[[3, 2]], [seeds[3], seeds[2]])
    np.testing.assert_array_equal(full[2], alone[0])
    np.testing.assert_array_equal(full[2], moved[1])
    np.testing.assert_array_equal(full[3], moved[0])


@pytest.mark.parametrize("name", RUNNABLE)
def test_shape_dtype_and_lead_algebra(name):
    """float32 out, records kept; the 12-lead algebra holds to float32 rounding."""
    t = _make(name)
    out = _run(t, SIGNAL, 3)
    assert out.dtype == np.float32 and out.shape[0] == SIGNAL.shape[0]
    if t.keeps_independent_leads:
        assert out.shape[1] == 12
        if t.output_sfreq(SFREQ) == SFREQ:
            assert out.shape == SIGNAL.shape
        scale = max(1.0, float(np.abs(out).max()))
        assert leads.algebra_error(out) <= 4 * np.finfo(np.float32).eps * scale
    assert np.isfinite(out).all() or name in ("ElectrodeDropout",)


@pytest.mark.parametrize("name", RUNNABLE)
def test_drawn_parameters_are_recorded_as_json(name):
    """``last_parameters`` has one JSON-serialisable dict per record, ``applied`` first."""
    t = _make(name)
    _run(t, SIGNAL, 5)
    assert len(t.last_parameters) == len(SIGNAL)
    assert all(r["applied"] is True for r in t.last_parameters)
    json.dumps(t.last_parameters)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_yaml_and_pickle_round_trip(name, tmp_path):
    """A one-step pipeline survives YAML and pickle with identical params and output."""
    pipe = augment.Pipeline([REGISTRY[name]()])
    path = tmp_path / "p.yaml"
    pipe.to_yaml(path)
    again = augment.load_pipeline(path)
    if getattr(REGISTRY[name], "requires_profile", False):  # dropped without a profile (C2)
        assert list(again.dropped_steps) == [pipe.named_transforms[0][0]]
    else:
        assert again.to_dict() == pipe.to_dict()
    assert pipeline_from_dict(pipe.to_dict()).to_dict() == pipe.to_dict()
    t = REGISTRY[name]()
    t2 = pickle.loads(pickle.dumps(t))
    assert t2.get_params() == t.get_params()
    if name in RUNNABLE:
        t.set_params(p=1.0)
        t2.set_params(p=1.0)
        np.testing.assert_array_equal(_run(t, SIGNAL, 9), _run(t2, SIGNAL, 9))


def _range_pair(t):
    params = t.get_params()
    for key, value in params.items():
        numeric = isinstance(value, (int, float))
        if key.startswith("min_") and f"max_{key[4:]}" in params and numeric:
            return key, f"max_{key[4:]}"
    return None


@pytest.mark.parametrize("name", RUNNABLE)
def test_invalid_values_raise_clear_errors(name):
    """``min_* > max_*`` (set via set_params) and ``p`` outside [0, 1] name the culprit."""
    t = _make(name)
    pair = _range_pair(t)
    if pair is not None:
        lo, hi = pair
        high = t.get_params()[hi]
        t.set_params(**{lo: high + 1.0})
        with pytest.raises(ValueError, match=re.escape(lo)):
            _run(t, SIGNAL, 0)
    bad = _make(name, p=1.5)
    with pytest.raises(ValueError, match="p must be"):
        _run(bad, SIGNAL, 0)
    with pytest.raises(ValueError, match="Invalid parameter"):
        _make(name).set_params(no_such_parameter=1)
