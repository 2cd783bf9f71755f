"""``shirtecg calibrate augment`` end to end, and the device-record readers (FIF, WFDB, CSV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from calibration.records import load_device_records
from shirtecg.cli import main
from shirtecg_common.errors import UserError
from tests.calibration._helpers import WanderAndNoise, synthetic_public
from tests.calibration.conftest import write_session

SF = 250.0
PIPELINE = {
    "format_version": 1, "name": "noise-only",
    "transforms": [{"class": "GaussianNoise", "params": {"p": 1.0, "min_sigma_mv": 0.001,
                                                         "max_sigma_mv": 0.002}},
                   {"class": "BaselineWander", "params": {"p": 1.0}}],
    "tunable": {"gaussian_noise__max_sigma_mv": [0.001, 0.3],
                "baseline_wander__max_amplitude_mv": [0.05, 2.0]},
}


def _device_files(tmp_path):
    """Shirt-like records on leads II and V2: two WFDB records and one FIF session."""
    import wfdb

    x = WanderAndNoise(noise_mv=0.06, wander_mv=0.4)(synthetic_public(6, seed=8), SF,
                                                      random_state=1)[:, [1, 7]]
    files = []
    for i in range(2):
        sig = np.hstack(list(x[3 * i:3 * i + 3])).T.astype(np.float64)
        wfdb.wrsamp(f"rec{i}", fs=SF, units=["mV", "mV"], sig_name=["II", "V2"], p_signal=sig,
                    fmt=["16", "16"], write_dir=str(tmp_path))
        files.append(tmp_path / f"rec{i}.hea")
    fif = write_session(tmp_path / "shirt_raw.fif", np.hstack(list(x[:3])) * 1e-3, SF,
                        vpc=1e-7, ch_names=["ch1", "ch2"], leads=["II", "V2"],
                        annotations=[(0.0, 16.0, "walking"), (16.0, 8.0, "sitting")])
    return files + [fif]


def test_cli_end_to_end(tmp_path, capsys):
    """WFDB + FIF device records vs synthetic public records: YAML that augment loads, report."""
    import augment

    files = _device_files(tmp_path)
    pipe_yaml = tmp_path / "pipe.yaml"
    pipe_yaml.write_text(yaml.safe_dump(PIPELINE, sort_keys=False))
    out, rep = tmp_path / "calibrated.yaml", tmp_path / "report"
    code = main(["calibrate", "augment", "--device-records", *map(str, files), "--public",
                 "synthetic", "--pipeline", str(pipe_yaml), "--out", str(out), "--report",
                 str(rep), "--budget", "8", "--n-public", "10", "--window-s", "8", "--quiet"])
    assert code == 0
    calibrated = augment.load_pipeline(str(out))
    sigma = calibrated.get_params()["gaussian_noise__max_sigma_mv"]
    assert sigma > 0.002  # moved toward the device's 0.06 mV noise
    text = (rep / "report.md").read_text()
    assert "| calibrated pipeline |" in text and "What still differs" in text
    for png in ("psd_overlay.png", "feature_overlays.png", "search_history.png",
                "example_traces.png"):
        assert (rep / png).stat().st_size > 3000


def test_readers_fif_activities_and_wfdb(tmp_path):
    """FIF windows follow activity annotations; leads map from the session and WFDB names."""
    files = _device_files(tmp_path)
    walking = load_device_records([files[2]], window_s=8.0, activities=["walking"])
    assert walking.data.shape == (2, 2, int(8 * SF)) and walking.activities == ["walking"] * 2
    assert walking.leads == ["II", "V2"]
    both = load_device_records(files[:2], window_s=8.0, leads=["V2"])
    assert both.data.shape == (6, 1, int(8 * SF))
    with pytest.raises(UserError, match="none of the activities"):
        load_device_records([files[2]], activities=["running"])
    with pytest.raises(UserError, match="lead 'V5'"):
        load_device_records(files[:1], leads=["V5"])


def test_reader_wearable_csv(shared_data):
    """The real AD8232 CSVs: 60-s files cut into 10-s windows, QRS of a plausible size."""
    from calibration.features import extract_features

    path = shared_data / "wearable_motion_artifacts" / "01" / "01_01_klud.csv"
    recs = load_device_records([path], window_s=10.0)
    assert recs.data.shape[0] == 6 and recs.sfreq == 500.0 and recs.leads == ["II"]
    f, names = extract_features(recs.data, recs.sfreq, recs.leads)
    qrs_mv = 10 ** f[:, names.index("II:qrs_amp")]
    assert np.all((qrs_mv > 0.5) & (qrs_mv < 5.0)), qrs_mv


def test_cli_profile_from_device(tmp_path):
    """--profile-from-device: noise_from_ecg on the device records gives the profile noise."""
    import augment

    files = _device_files(tmp_path)[:2]
    spec = dict(PIPELINE, transforms=[{"class": "AddProfileNoise",
                                       "params": {"p": 1.0, "min_scale": 0.1, "max_scale": 0.2}}],
                tunable={"add_profile_noise__max_scale": [0.1, 3.0]})
    pipe_yaml = tmp_path / "pipe.yaml"
    pipe_yaml.write_text(yaml.safe_dump(spec, sort_keys=False))
    out = tmp_path / "cal.yaml"
    assert main(["calibrate", "augment", "--device-records", *map(str, files), "--public",
                 "synthetic", "--pipeline", str(pipe_yaml), "--profile-from-device", "--out",
                 str(out), "--report", str(tmp_path / "rep"), "--budget", "5", "--n-public", "6",
                 "--window-s", "8", "--quiet"]) == 0
    profile = tmp_path / "cal_profile.yaml"
    assert profile.exists()
    pipe = augment.load_pipeline(str(out), profile=str(profile))
    assert pipe.get_params()["add_profile_noise__max_scale"] > 0.2  # more device noise needed


def test_real_wearable_calibration_moves_toward_textile(shared_data, tmp_path):
    """Gel/rest CSVs augmented toward textile/walking CSVs get closer to them (real data)."""
    import augment

    from calibration.fitter import AugmentationFitter
    from calibration.run_augment import embed_12

    w = shared_data / "wearable_motion_artifacts"
    dev = load_device_records([w / "01" / "01_03_chodza.csv", w / "03" / "03_03_chodza.csv"],
                              window_s=5.0)
    pub = load_device_records([w / "01" / "01_01_klud.csv", w / "03" / "03_01_klud.csv"],
                              window_s=5.0)
    pipe = augment.Pipeline(
        [("amp", augment.get_transform_class("AmplitudeScale")(p=1.0, per_lead=False)),
         ("wander", augment.get_transform_class("BaselineWander")(p=1.0)),
         ("walk", augment.get_transform_class("WalkingArtifact")(p=1.0)),
         ("emg", augment.get_transform_class("MuscleNoise")(p=1.0))],
        tunable={"wander__max_amplitude_mv": [0.05, 3.0], "walk__max_amplitude_mv": [0.05, 2.0],
                 "emg__max_rms_mv": [0.005, 0.3], "emg__min_freq_hz": [3.0, 30.0],
                 "amp__min_scale": [0.5, 1.2], "amp__max_scale": [0.5, 1.2]})
    f = AugmentationFitter(pipe, n_iter=20, random_state=0).fit(
        embed_12(pub.data, pub.leads), dev.data, public_sfreq=pub.sfreq,
        device_sfreq=dev.sfreq, device_leads=dev.leads)
    d = f.distances_
    # Augmented gel/rest is much closer to textile/walking than gel/rest itself (the search never
    # ends above the given pipeline, which is one of its candidates).
    assert d["calibrated"]["energy"] < 0.65 * d["raw"]["energy"]
    assert d["calibrated"]["energy"] <= d["initial"]["energy"]
    assert d["calibrated"]["auc"] < d["raw"]["auc"]


def test_cli_wearable_example_then_augment_run(shared_data, tmp_path, monkeypatch):
    """The README's wearable run: the shipped example pipeline (HeartRateChange, amplitude,
    the device's own noise, front end) on the real CSVs with --profile-from-device, 10-s
    public windows of which 5 s are compared, folds by subject; then `shirtecg augment run`
    takes the calibrated YAML unchanged, from another working directory."""
    import h5py

    import augment

    w = shared_data / "wearable_motion_artifacts"
    example = Path(__file__).resolve().parents[2] / "calibration" / "examples"
    out, rep = tmp_path / "cal" / "motion_cal.yaml", tmp_path / "rep"
    assert main(["calibrate", "augment", "--device-records", str(w / "01" / "01_03_chodza.csv"),
                 str(w / "03" / "03_03_chodza.csv"), "--public", str(w / "01" / "01_01_klud.csv"),
                 str(w / "03" / "03_01_klud.csv"), "--pipeline",
                 str(example / "wearable_motion.yaml"), "--profile-from-device", "--window-s",
                 "5", "--public-window-s", "10", "--copies", "2", "--group-by", "subject",
                 "--budget", "2", "--out", str(out), "--report", str(rep), "--quiet"]) == 0
    spec = yaml.safe_load(out.read_text())
    assert [s["class"] for s in spec["transforms"]][:1] == ["HeartRateChange"]
    profile = Path(next(s["params"]["profile"] for s in spec["transforms"]
                        if s["class"] == "AddProfileNoise"))
    assert profile.is_absolute() and profile == out.with_name("motion_cal_profile.yaml")
    assert augment.load_pipeline(str(out)).get_params()["heart_rate_change__max_change_pct"] <= 100
    text = (rep / "report.md").read_text()
    rows = [r for r in text.splitlines()
            if r.startswith(("| not augmented |", "| calibrated pipeline |"))]
    assert len(rows) == 2
    for r in rows:  # energy, AUC, AUC with folds by subject: all numbers
        cells = [c.strip() for c in r.strip("|").split("|")]
        assert all(0.0 <= float(c) for c in cells[1:4]) and float(cells[3]) <= 1.0
    assert "What gives the augmented records away" in text and "`II:qrs_amp`" in text
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["augment", "run", "--dataset", "synthetic", "--n-records", "3", "--sfreq",
                 "500", "--pipeline", str(out), "--copies", "2", "--out", "aug",
                 "--quiet"]) == 0
    shards = sorted((elsewhere / "aug").rglob("*.h5"))
    assert shards
    with h5py.File(shards[0], "r") as h5:
        sig = h5["ecg"][...]
    assert sig.shape[:2] == (6, 12) and np.isfinite(sig).all() and np.ptp(sig) > 0
