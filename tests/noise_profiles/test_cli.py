"""``shirtecg profile ...`` end to end through ``shirtecg.cli.main(argv)``."""

from __future__ import annotations

import mne
import numpy as np
import yaml

from shirtecg.cli import main


def test_fit_show_sample_validate_report(two_activity_fif, tmp_path, capsys):
    fit_s, held = two_activity_fif
    prof = tmp_path / "shirt.yaml"
    assert main(["profile", "fit", str(fit_s), "--out", str(prof), "-q"]) == 0
    assert yaml.safe_load(prof.read_text())["schema"] == "shirtecg-noise-profile/6"
    assert main(["profile", "show", str(prof)]) == 0
    out = capsys.readouterr().out
    assert "| rest |" in out and "| walking |" in out and "I (I)" in out
    assert out.count("| one |") == 2           # no quiet/burst regimes in rest or walking
    npy = tmp_path / "n.npy"
    assert main(["profile", "sample", str(prof), "--activity", "walking", "--seconds", "4",
                 "--sfreq", "100", "--out", str(npy), "--seed", "3"]) == 0
    x = np.load(npy)
    assert x.shape == (3, 400) and x.dtype == np.float32
    fif = tmp_path / "n_raw.fif"
    assert main(["profile", "sample", str(prof), "--activity", "rest", "--seconds", "2",
                 "--sfreq", "250", "--out", str(fif)]) == 0
    raw = mne.io.read_raw_fif(fif, verbose="error")
    assert raw.ch_names == ["I", "II", "V1"] and list(raw.annotations.description) == ["rest"]
    capsys.readouterr()
    rep = tmp_path / "val"
    assert main(["profile", "validate", str(prof), str(held), "--report", str(rep)]) == 0
    out = capsys.readouterr().out
    assert "median LSD" in out and "| walking |" in out
    for name in ("report.md", "rest_psd.png", "walking_coherence.png", "walking_rms.png"):
        assert (rep / name).stat().st_size > 500
    assert main(["profile", "report", str(prof), str(held), "--out", str(tmp_path / "r")]) == 0
    assert "![walking_psd]" in (tmp_path / "r" / "report.md").read_text()


def test_user_errors_exit_2(two_activity_fif, tmp_path, capsys):
    prof = tmp_path / "p.yaml"
    assert main(["profile", "fit", str(two_activity_fif[0]), "--out", str(prof), "-q",
                 "--activity", "rest"]) == 0
    assert main(["profile", "sample", str(prof), "--seconds", "1", "--sfreq", "1000",
                 "--out", str(tmp_path / "x.npy")]) == 2
    err = capsys.readouterr().err
    assert "Nyquist" in err and "--allow-empty-band" in err and len(err.strip().splitlines()) == 1
    assert main(["profile", "show", str(tmp_path / "missing.yaml")]) == 2
    assert main(["profile", "fit", str(tmp_path / "none_raw.fif"), "--out", str(prof)]) == 2


def test_from_ecg(shared_data, tmp_path, capsys):
    folder = shared_data / "wearable_motion_artifacts" / "03"
    out = tmp_path / "w.yaml"
    assert main(["profile", "from-ecg", str(folder / "03_02_chodza.csv"),
                 str(folder / "03_02_ruky.csv"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "beats" in text and "QRS energy left" in text
    doc = yaml.safe_load(out.read_text())
    assert set(doc["activities"]) == {"walking", "arm_movement"}
    assert all(len(p["sha256"]) == 64 for p in doc["provenance"])
