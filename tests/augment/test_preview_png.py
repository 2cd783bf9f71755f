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


def test_preview_marks_leads_the_device_does_not_record(tmp_path):
    import matplotlib.pyplot as plt
    from dataset_helpers import DevicePipeline

    from augment.datasets import SyntheticReader
    from augment.preview import augment_record, draw_ecg

    record = SyntheticReader(2, duration_s=5).load("syn000001")
    x, sfreq, leads, _ = augment_record(record, DevicePipeline())
    assert sfreq == 250.0 and leads == ("I", "II", "V1")
    fig, (a, b) = plt.subplots(2)
    draw_ecg(a, record.signal, record.sfreq, augment.leads.LEADS_12)
    draw_ecg(b, x, sfreq, leads)

    def traces(ax):
        return [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]

    def notes(ax):
        return [t.get_text() for t in ax.texts if t.get_text() == "(not recorded)"]

    assert len(traces(a)) == 13 and notes(a) == []  # 12 leads + the lead II rhythm strip
    assert len(traces(b)) == 4 and len(notes(b)) == 9  # I, II, V1 + rhythm; 9 leads marked
    # Time axis in seconds at the device rate: the rhythm strip spans the whole 5 s.
    assert traces(b)[-1].get_xdata()[-1] == pytest.approx(5.0 - 1 / 250)
    plt.close(fig)
    png = preview_record(SyntheticReader(2, duration_s=5), "syn000001", DevicePipeline(),
                         tmp_path / "d.png")
    assert mpimg.imread(png).shape[0] > 800
