"""Profile YAML + NPZ: round trip and every load error names file and field."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import yaml

from noise_profiles import load_profile
from shirtecg_common.errors import ConfigError

from np_sessions import SFREQ, older_schema_copy


@pytest.fixture()
def saved(walking_profile, tmp_path):
    prof = walking_profile[0]
    path = prof.save(tmp_path / "shirt.yaml")
    return prof, path


def test_round_trip(saved):
    prof, path = saved
    assert path.with_suffix(".npz").is_file()
    back = load_profile(path)
    assert back.get_params() == prof.get_params()
    assert back.ch_names_ == prof.ch_names_ and back.ch_leads_ == prof.ch_leads_
    assert back.content_hash() == prof.content_hash()
    assert yaml.safe_load(path.read_text())["content_hash"] == prof.content_hash()
    np.testing.assert_array_equal(back.sample(800, SFREQ, random_state=3),
                                  prof.sample(800, SFREQ, random_state=3))


def test_var_round_trip(walking_profile, tmp_path):
    from noise_profiles import fit

    prof = fit(walking_profile[1], model="var", var_max_order=6)
    back = load_profile(prof.save(tmp_path / "v.yaml"))
    np.testing.assert_array_equal(back.sample(500, SFREQ, random_state=1),
                                  prof.sample(500, SFREQ, random_state=1))


def _edit_yaml(path, fn):
    doc = yaml.safe_load(path.read_text())
    fn(doc)
    path.write_text(yaml.safe_dump(doc))


def test_unknown_schema(saved):
    _, path = saved
    _edit_yaml(path, lambda d: d.update(schema="shirtecg-noise-profile/99"))
    with pytest.raises(ConfigError, match=r"shirt\.yaml: schema: unknown profile schema"):
        load_profile(path)


def test_unknown_key(saved):
    _, path = saved
    _edit_yaml(path, lambda d: d.update(colour="red"))
    with pytest.raises(ConfigError, match="unknown key 'colour'"):
        load_profile(path)


def test_missing_npz(saved):
    _, path = saved
    path.with_suffix(".npz").unlink()
    with pytest.raises(ConfigError, match=r"shirt\.npz: profile arrays file not found"):
        load_profile(path)


def test_corrupt_npz(saved):
    _, path = saved
    path.with_suffix(".npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ConfigError, match=r"shirt\.npz: corrupt"):
        load_profile(path)


def _rewrite_npz(path, key, fn):
    npz = path.with_suffix(".npz")
    with np.load(npz) as f:
        arrays = {k: f[k] for k in f.files}
    arrays[key] = fn(arrays[key])
    np.savez(npz, **arrays)


def test_shape_mismatch(saved):
    _, path = saved
    _rewrite_npz(path, "walking::rms_v", lambda a: np.r_[a, 1.0])
    with pytest.raises(ConfigError, match=r"shirt\.npz: field 'walking::rms_v' has shape \(4,\)"):
        load_profile(path)


def test_nan(saved):
    _, path = saved

    def poison(a):
        a = a.copy()
        a.flat[5] = np.nan
        return a

    _rewrite_npz(path, "walking::csd", poison)
    with pytest.raises(ConfigError, match="field 'walking::csd' holds NaN"):
        load_profile(path)


def test_missing_field_and_bad_scalar(saved, tmp_path):
    _, path = saved
    other = tmp_path / "b.yaml"
    shutil.copy(path, other)
    shutil.copy(path.with_suffix(".npz"), other.with_suffix(".npz"))
    _edit_yaml(other, lambda d: d.update(arrays="b.npz"))
    _edit_yaml(path, lambda d: d["activities"]["walking"].update(duration_s=float("nan")))
    with pytest.raises(ConfigError, match=r"activities\.walking\.duration_s: expected a finite"):
        load_profile(path)
    npz = other.with_suffix(".npz")
    with np.load(npz) as f:
        arrays = {k: f[k] for k in f.files if k != "walking::env_acf"}
    np.savez(npz, **arrays)
    with pytest.raises(ConfigError, match="field 'walking::env_acf' is missing"):
        load_profile(other)


def test_pickle_round_trip_without_cache(walking_profile):
    import pickle

    prof = walking_profile[0]
    prof.sample(100, SFREQ, random_state=0)            # fills the factor cache
    blob = pickle.dumps(prof)
    back = pickle.loads(blob)
    assert "_cache" not in vars(back) or not back._cache
    np.testing.assert_array_equal(back.sample(700, SFREQ, random_state=2),
                                  prof.sample(700, SFREQ, random_state=2))


@pytest.mark.parametrize("schema, dropped, key", [
    (3, "::line_level_psd", "line_level_psd"),   # /3: the mains line keeps a constant level
    (4, "::env_low_", "env_low_quantiles"),      # /4: a steady baseline wander
    (5, "::rail_", "rail_on"),                   # /5: no amplifier rails
])
def test_older_schema_loads_without_its_newer_arrays(saved, tmp_path, schema, dropped, key):
    prof, path = saved
    old = older_schema_copy(path, tmp_path / f"v{schema}.yaml", schema, dropped)
    back = load_profile(old)
    assert all(key not in st for st in back.models_.values())
    assert all(key in st for st in prof.models_.values())
    y = back.sample(800, SFREQ, random_state=3)
    assert y.shape == prof.sample(800, SFREQ, random_state=3).shape and np.all(np.isfinite(y))
