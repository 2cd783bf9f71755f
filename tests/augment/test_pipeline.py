"""Pipeline behaviour: presets, 12-lead contract, output stage, profiles, per-record seeds."""

import json

import numpy as np
import pytest

import augment
from augment import leads
from augment.transforms.device import KeepDeviceLeads, Resample
from shirtecg_common.errors import UserError
from tests.augment.ecg_fixtures import synthetic_ecg

SFREQ = 500.0
X = synthetic_ecg(n_records=5, seconds=4.0, sfreq=SFREQ, seed=3)
COPIES = {"base": (2, 3), "displacement": (5, 10), "wearable": (10, 20)}


@pytest.mark.parametrize("preset", ["base", "displacement", "wearable"])
def test_presets_run_with_exact_lead_algebra(preset):
    """Every preset: 12 leads out, algebra exact, drawn values per record, JSON-friendly."""
    pipe = augment.load_pipeline(preset)
    assert tuple(pipe.recommended_copies) == COPIES[preset]
    out = pipe(X, SFREQ, random_state=[10, 11, 12, 13, 14])
    assert out.shape == X.shape and out.dtype == np.float32
    assert pipe.output_leads == leads.LEADS_12 and pipe.output_sfreq(SFREQ) == SFREQ
    assert leads.algebra_error(out) <= 4 * np.finfo(np.float32).eps * np.abs(out).max()
    assert not np.allclose(out, X)
    assert len(pipe.last_parameters) == len(X)
    assert set(pipe.last_parameters[0]) == {n for n, _ in pipe.named_transforms}
    json.dumps(pipe.last_parameters)


@pytest.mark.parametrize("preset", ["displacement", "wearable"])
def test_preset_records_depend_only_on_their_seed(preset):
    """Per-record seeds: record i is identical alone, in any batch, at any position."""
    pipe = augment.load_pipeline(preset)
    seeds = [21, 22, 23, 24, 25]
    full = pipe(X, SFREQ, random_state=seeds)
    full_params = pipe.last_parameters
    sub = pipe(X[[4, 1]], SFREQ, random_state=[25, 22])
    np.testing.assert_array_equal(full[4], sub[0])
    np.testing.assert_array_equal(full[1], sub[1])
    assert pipe.last_parameters[0] == full_params[4]
    single = pipe(X[2], SFREQ, random_state=[23])
    np.testing.assert_array_equal(single, full[2])
    # an int seeds the batch: reproducible, and different from other seeds
    np.testing.assert_array_equal(pipe(X, SFREQ, 5), pipe(X, SFREQ, 5))
    assert not np.array_equal(pipe(X, SFREQ, 5), pipe(X, SFREQ, 6))


def test_wearable_drops_or_receives_the_profile(tmp_path):
    """Without a profile the fitted-noise step is dropped (and its tunable); with one, set."""
    bare = augment.load_pipeline("wearable")
    assert bare.dropped_steps == ["add_profile_noise"]
    assert "add_profile_noise" not in dict(bare.named_transforms)
    assert not any(k.startswith("add_profile_noise__") for k in bare.tunable)
    profile_path = str(tmp_path / "shirt_profile.yaml")
    fitted = augment.load_pipeline("wearable", profile=profile_path)
    assert fitted.dropped_steps == []
    assert fitted.get_params()["add_profile_noise__profile"] == profile_path
    assert "add_profile_noise__max_scale" in fitted.tunable


def test_output_stage_keeps_device_leads_and_resamples():
    """A final KeepDeviceLeads gives the device's channels; Resample changes sfreq and length."""
    pipe = augment.Pipeline([augment.AmplitudeScale(p=1.0), Resample(target_sfreq=250.0),
                             KeepDeviceLeads(leads=["I", "III", "V2"])])
    out = pipe(X, SFREQ, random_state=1)
    assert pipe.output_leads == ("I", "III", "V2")
    assert pipe.output_sfreq(SFREQ) == 250.0
    assert out.shape == (len(X), 3, X.shape[-1] // 2)
    full = augment.Pipeline([augment.AmplitudeScale(p=1.0), Resample(target_sfreq=250.0)])
    ref = full(X, SFREQ, random_state=1)
    np.testing.assert_allclose(out, ref[:, [0, 2, 7]], atol=1e-5)


def test_output_stage_must_be_last_and_input_must_have_12_leads():
    """Misplaced output stages and wrong lead counts are user errors that say why."""
    bad = augment.Pipeline([KeepDeviceLeads(leads=["I"]), augment.AmplitudeScale()])
    with pytest.raises(UserError, match="must be the last step"):
        bad(X, SFREQ)
    nested = augment.Pipeline([augment.OneOf([KeepDeviceLeads(leads=["I"])])])
    with pytest.raises(UserError, match="OneOf"):
        nested(X, SFREQ)
    gated = augment.Pipeline([augment.Compose([KeepDeviceLeads(leads=["I"])], p=0.5)])
    with pytest.raises(UserError, match="p=0.5"):
        gated(X, SFREQ)
    inside = augment.Pipeline([augment.Compose([augment.AmplitudeScale(),
                                                KeepDeviceLeads(leads=["II"])])])
    assert inside(X, SFREQ, 0).shape == (len(X), 1, X.shape[-1])
    assert inside.output_leads == ("II",)
    with pytest.raises(UserError, match="12 leads"):
        augment.Pipeline([augment.AmplitudeScale()])(X[:, :8], SFREQ)
    with pytest.raises(ValueError, match="sfreq"):
        augment.Pipeline([augment.AmplitudeScale()])(X, -1)


def test_pipeline_params_are_tunable_like_sklearn():
    """Nested step__param keys read and set through the pipeline."""
    pipe = augment.load_pipeline("displacement")
    pipe.set_params(geometry__heart_axis_rotation__max_angle_deg=3.0,
                    electrode_displacement__max_shift_cm=1.0)
    params = pipe.get_params()
    assert params["geometry__heart_axis_rotation__max_angle_deg"] == 3.0
    for key in pipe.tunable:
        assert key in params
    from sklearn.base import clone

    assert clone(pipe).to_dict() == pipe.to_dict()  # what calibration's searches rely on
    pipe.set_params(electrode_displacement__min_shift_cm=2.0)  # min > max → error on call
    with pytest.raises(ValueError, match="min_shift_cm"):
        pipe(X, SFREQ, 0)


def test_wearable_with_a_fitted_profile_object_runs_and_round_trips(tmp_path):
    """A real NoiseProfile object: noise added with exact algebra; YAML stores no object, and
    reloading with the same profile reproduces the output."""
    mne = pytest.importorskip("mne")
    from noise_profiles import fit
    from noise_profiles.sessions import make_raw

    rng = np.random.default_rng(0)
    raws = [make_raw(rng.standard_normal((3, int(20 * SFREQ))) * level, SFREQ, act,
                     ch_names=["a", "b", "c"], ch_leads=["I", "II", "V2"])
            for act, level in (("sitting", 5e-6), ("walking", 4e-5))]
    profile = fit(mne.concatenate_raws(raws))
    pipe = augment.load_pipeline("wearable", profile=profile)
    seeds = [1, 2, 3, 4, 5]
    out = pipe(X, SFREQ, random_state=seeds)
    assert all(r["add_profile_noise"]["applied"] for r in pipe.last_parameters)
    assert leads.algebra_error(out) <= 4 * np.finfo(np.float32).eps * np.abs(out).max()
    d = pipe.to_dict()
    assert d["transforms"][-1]["class"] == "AddProfileNoise"
    assert d["transforms"][-1]["params"]["profile"] is None
    pipe.to_yaml(tmp_path / "w.yaml")
    again = augment.load_pipeline(tmp_path / "w.yaml", profile=profile)
    np.testing.assert_array_equal(again(X, SFREQ, random_state=seeds), out)
