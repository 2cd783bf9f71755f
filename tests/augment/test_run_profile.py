"""``shirtecg augment run --pipeline wearable --profile P.yaml``: fitted device noise end to end."""

from __future__ import annotations

import csv
import json

import numpy as np

from shirtecg.cli import main as shirtecg_main


def _fit_profile(path):
    """A real NoiseProfile fitted on two short synthetic activity sessions, saved as YAML."""
    import mne

    from noise_profiles import fit
    from noise_profiles.sessions import make_raw

    rng = np.random.default_rng(0)
    n = 20 * 500
    raws = [make_raw(rng.standard_normal((3, n)) * level, 500.0, act, ch_names=["a", "b", "c"],
                     ch_leads=["I", "II", "V2"])
            for act, level in (("sitting", 5e-6), ("walking", 4e-5))]
    profile = fit(mne.concatenate_raws(raws))
    profile.save(path)
    return profile


def test_wearable_with_a_fitted_profile(tmp_path, capsys):
    profile = _fit_profile(tmp_path / "shirt.yaml")
    out = tmp_path / "out"
    code = shirtecg_main(["augment", "run", "--dataset", "synthetic", "--n-records", "4",
                          "--duration", "4", "--pipeline", "wearable", "--profile",
                          str(tmp_path / "shirt.yaml"), "--copies", "2", "--out", str(out),
                          "--seed", "3"])
    assert code == 0
    err = capsys.readouterr().err
    assert "left out" not in err and "4 records processed" in err
    run = json.loads((out / "run.json").read_text())
    assert run["profile_sha256"] == profile.content_hash()
    assert run["dropped_steps"] == []
    rows = list(csv.DictReader(open(out / "manifest.csv", newline="")))
    assert len(rows) == 8
    drawn = [json.loads(r["parameters"]) for r in rows]
    assert any("add_profile_noise" in json.dumps(d) for d in drawn)
    # Without the profile the step is dropped and the user is told.
    code = shirtecg_main(["augment", "run", "--dataset", "synthetic", "--n-records", "2",
                          "--duration", "4", "--pipeline", "wearable", "--copies", "1",
                          "--out", str(tmp_path / "plain")])
    assert code == 0 and "add_profile_noise" in capsys.readouterr().err
