"""``shirtecg demo`` end to end, shortened (--fast): every step runs for real."""

from __future__ import annotations

import h5py
import numpy as np
import yaml

from shirtecg.cli import main


def test_demo_fast(tmp_path, capsys):
    """The demo records from the pty emulator, calibrates, and writes report.md with PNGs."""
    from acquisition.device import load_device
    from acquisition.session import read_session
    from shirtecg.demo_steps import GAIN_ERRORS

    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--fast"]) == 0
    printed = capsys.readouterr().out
    assert "[6/6]" in printed and f"Everything is in {out}" in printed

    # ADC: the emulated front end's gain errors were measured and stored.
    dev = load_device(out / "device.yaml")
    measured = dev.volts_per_count / dev.nominal_volts_per_count - 1
    np.testing.assert_allclose(measured, GAIN_ERRORS, atol=1e-3)

    # The recorder followed the protocol: both passes of each activity are annotated.
    raw, meta = read_session(out / "sessions" / "shirt_noise_raw.fif")
    acts = sorted(a["description"] for a in raw.annotations)
    assert acts == sorted(["sitting", "walking", "arm_movement"] * 2)
    assert meta["counts"]["lost_samples"] == 0

    # Profile, augmented HDF5, calibrated pipeline that augment can load.
    assert (out / "profile" / "shirt_profile.yaml").exists()
    shards = sorted((out / "augmented" / "shards").glob("*.h5"))
    with h5py.File(shards[0]) as f:
        assert f["ecg"].shape[1:] == (12, 5000)
    import augment

    calibrated = augment.load_pipeline(str(out / "calibrated_pipeline.yaml"),
                                       profile=str(out / "profile" / "shirt_profile.yaml"))
    assert calibrated.tunable  # the tunables travel with the calibrated pipeline
    assert yaml.safe_load((out / "calibrated_pipeline.yaml").read_text())["transforms"]

    report = (out / "report.md").read_text()
    for png in ("noise_psd.png", "ecg_12lead_before_after.png", "ecg_psd.png", "distances.png"):
        assert (out / "figures" / png).stat().st_size > 5000
        assert f"figures/{png}" in report
    assert "For scale, the recorded first pass" in report      # the floor's table
    assert report.count("| walking |") >= 2
    assert "classifier AUC" in report and (out / "calibration" / "report.md").exists()
