"""The preview PNG: a 12-lead grid, original vs augmented, and the CLI commands."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import pytest  # noqa: E402
from dataset_helpers import GainPipeline  # noqa: E402

import augment  # noqa: E402
from augment.datasets import WFDBFolderReader  # noqa: E402
from augment.preview import preview_record  # noqa: E402
from shirtecg.cli import main as shirtecg_main  # noqa: E402


def test_preview_of_a_real_record(shared_data, tmp_path):
    reader = WFDBFolderReader(shared_data / "cinc2021")
    png = preview_record(reader, "HR06000", GainPipeline(0.05), tmp_path / "p.png", seed=1)
    img = mpimg.imread(png)
    assert img.shape[0] > 800 and img.shape[1] > 900
    # Paper colour dominates, black traces are present in both panels.
    dark = img[..., :3].mean(axis=2) < 0.3
    top, bottom = dark[: img.shape[0] // 2], dark[img.shape[0] // 2:]
    assert 0.002 < top.mean() < 0.2 and 0.002 < bottom.mean() < 0.2
    with pytest.raises(Exception, match="no record 'nope'"):
        preview_record(reader, "nope", GainPipeline(), tmp_path / "x.png")


def test_cli_run_and_preview(tmp_path, monkeypatch, capsys):
    # The CLI resolves --pipeline through augment.load_pipeline; a stand-in keeps this test
    # independent of the presets' content.
    monkeypatch.setattr(augment, "load_pipeline", lambda spec, profile=None: GainPipeline())
    out = tmp_path / "out"
    code = shirtecg_main(["augment", "run", "--dataset", "synthetic", "--n-records", "5",
                          "--duration", "1", "--pipeline", "base", "--copies", "2", "--out",
                          str(out), "--quiet"])
    assert code == 0 and (out / "manifest.csv").is_file()
    assert len((out / "manifest.csv").read_text().splitlines()) == 1 + 10
    code = shirtecg_main(["augment", "preview", "--dataset", "synthetic", "--record",
                          "syn000002", "--pipeline", "base", "--png", str(tmp_path / "s.png")])
    assert code == 0 and (tmp_path / "s.png").stat().st_size > 10_000
    code = shirtecg_main(["augment", "run", "--dataset", "ptbxl", "--pipeline", "base",
                          "--copies", "1", "--out", str(out)])
    assert code == 2
    assert "needs --root" in capsys.readouterr().err
    code = shirtecg_main(["augment", "run", "--dataset", "synthetic", "--pipeline", "base",
                          "--copies", "1", "--out", str(out), "--shard", "3/2"])
    assert code == 2
    assert "--shard 3/2: k must be between 1 and N" in capsys.readouterr().err
