"""``shirtecg augment presets | show | transforms | apply`` end to end."""

import json

import numpy as np
import pytest

from augment import leads
from augment.cli import main as augment_main
from tests.augment.ecg_fixtures import synthetic_ecg


def main(argv):
    """``python -m augment augment …`` (the same parser ``shirtecg augment`` uses)."""
    return augment_main(["augment", *argv])


def test_presets_show_and_transforms_list(capsys):
    """Listing commands print presets with copies, step trees and the registry."""
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert "base  (2–3× copies)" in out and "wearable  (10–20× copies)" in out
    assert "needs a profile for: add_profile_noise" in out
    assert main(["show", "displacement"]) == 0
    out = capsys.readouterr().out
    assert "electrode_displacement (ElectrodeDisplacement): " in out
    assert "      lead_vector_rotation (LeadVectorRotation)" in out
    assert "tunable:\n  time_stretch__max_stretch_pct: [0.0, 15.0]" in out
    assert main(["transforms"]) == 0
    out = capsys.readouterr().out
    assert "[spatial] TimeStretch:" in out and "[anatomical] ElectrodeDisplacement:" in out


def test_apply_npy_is_seeded_per_record(tmp_path):
    """apply writes float32 mV + JSON; record i's result does not depend on the batch size."""
    x = synthetic_ecg(n_records=3, seconds=2.0)
    src = tmp_path / "x.npy"
    np.save(src, x)
    for batch, name in ((3, "a.npy"), (1, "b.npy")):
        assert main(["apply", "--pipeline", "displacement", "--in", str(src), "--sfreq", "500",
                     "--out", str(tmp_path / name), "--seed", "7", "--batch-size", str(batch),
                     "--quiet"]) == 0
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert a.shape == x.shape and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    meta = json.loads((tmp_path / "a.json").read_text())
    assert meta["leads"] == list(leads.LEADS_12) and meta["sfreq"] == 500.0
    assert len(meta["parameters"]) == 3 and meta["pipeline"]["name"] == "displacement"


def test_apply_reads_a_wfdb_record(shared_data, tmp_path):
    """A WFDB record (LUDB 1) goes in with its own sampling rate and lead names."""
    out = tmp_path / "ludb1.npy"
    assert main(["apply", "--pipeline", "base", "--in", str(shared_data / "ludb" / "1"),
                 "--out", str(out), "--quiet"]) == 0
    y = np.load(out)
    assert y.shape == (1, 12, 5000)
    assert leads.algebra_error(y) < 1e-5


@pytest.mark.parametrize("argv, message", [
    (["--pipeline", "nope", "--in", "x.npy", "--out", "y.npy"], "neither a preset"),
    (["--pipeline", "base", "--in", "X", "--out", "y.npy"], "a .npy file has no sampling rate"),
    (["--pipeline", "base", "--in", "X", "--sfreq", "500", "--out", "y.csv"], "must name a .npy"),
])
def test_apply_errors_are_one_line(argv, message, tmp_path, capsys):
    """User errors exit 2 with one line on stderr, no traceback."""
    np.save(tmp_path / "X.npy", synthetic_ecg(1, seconds=1.0))
    argv = [a.replace("X", str(tmp_path / "X.npy")) if a == "X" else a for a in argv]
    assert main(["apply", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
