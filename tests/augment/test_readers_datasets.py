"""Dataset readers on the real CinC 2021 records and on PTB-XL- and SPH-layout fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import wfdb
from dataset_helpers import write_ptbxl_fixture, write_sph_fixture

from augment.datasets import (PTBXLReader, SPHReader, WFDBFolderReader, hash_fold, make_reader,
                              parse_folds)
from augment.leads import LEADS_12
from shirtecg_common.errors import UserError


@pytest.fixture(scope="module")
def cinc(shared_data):
    return shared_data / "cinc2021"


def _dx_from_text(hea: Path):
    """Independent header parse: the ``# Dx:`` line as written in the file."""
    for line in hea.read_text().splitlines():
        if line.startswith("# Dx:"):
            return tuple(line.split(":", 1)[1].strip().split(","))
    return ()


def test_cinc_reader_reads_all_50_real_records(cinc):
    reader = WFDBFolderReader(cinc, sfreq=500)
    infos = reader.index()
    assert len(infos) == 50
    assert [i.record_id for i in infos] == sorted(p.stem for p in cinc.glob("*.hea"))
    for info in infos:
        assert info.codes == _dx_from_text(cinc / f"{info.record_id}.hea")
        assert info.fold == hash_fold(info.record_id) and 1 <= info.fold <= 10
    rec = reader.load(infos[0])
    assert rec.signal.shape == (12, 5000) and rec.signal.dtype == np.float32
    # Same values as wfdb gives (µV storage, gain 1000 -> mV).
    ref = wfdb.rdrecord(str(cinc / infos[0].record_id)).p_signal.T
    np.testing.assert_allclose(rec.signal, ref, atol=1e-6)
    # Streaming: every record once, all finite.
    n = sum(1 for r in reader if np.isfinite(r.signal).all())
    assert n == 50 and not reader.skipped


def test_cinc_wrong_rate_is_an_error_naming_the_record(cinc):
    reader = WFDBFolderReader(cinc, sfreq=250)
    with pytest.raises(UserError, match=r"E07500.*500 Hz, expected 250 Hz"):
        reader.load(reader.index()[0])


@pytest.fixture(scope="module")
def ptbxl_root(cinc, tmp_path_factory):
    root = tmp_path_factory.mktemp("ptbxl")
    ids = [f"HR0600{i}" for i in range(6)]
    codes = [{"NORM": 100.0, "SR": 0.0}, {"IMI": 50.0, "SR": 0.0}, {"AFIB": 100.0},
             {"CLBBB": 100.0}, {"STD_": 100.0, "NDT": 100.0}, {"1AVB": 100.0, "SR": 0.0}]
    return write_ptbxl_fixture(root, cinc, ids, patients=[11, 11, 12, 13, 13, 14],
                               folds=[3, 3, 9, 10, 10, 1], scp_codes=codes)


def test_ptbxl_reader_500_and_100_hz(ptbxl_root, cinc):
    r500 = PTBXLReader(ptbxl_root, sfreq=500)
    infos = r500.index()
    assert [i.record_id for i in infos] == ["1", "2", "3", "4", "5", "6"]
    assert infos[0].patient_id == "11" and infos[1].patient_id == "11"
    assert infos[1].codes == ("IMI", "SR") and infos[2].fold == 9
    rec = r500.load(infos[0])
    ref = wfdb.rdrecord(str(cinc / "HR06000")).p_signal.T
    np.testing.assert_allclose(rec.signal, ref, atol=1e-3)  # 1 µV quantization
    r100 = PTBXLReader(ptbxl_root, sfreq=100)
    assert r100.load(r100.index()[0]).signal.shape == (12, 1000)
    assert [i.record_id for i in r500.index(folds=[10])] == ["4", "5"]


def test_ptbxl_scp_codes_are_parsed_safely(tmp_path):
    (tmp_path / "ptbxl_database.csv").write_text(
        "ecg_id,patient_id,scp_codes,strat_fold,filename_lr,filename_hr\n"
        "1,5.0,\"__import__('os').system('echo hacked')\",1,a,b\n")
    with pytest.raises(UserError, match=r"line 2 scp_codes: not a dict literal"):
        PTBXLReader(tmp_path).index()


def test_ptbxl_missing_column_and_missing_record(tmp_path, ptbxl_root):
    (tmp_path / "ptbxl_database.csv").write_text("ecg_id,patient_id,scp_codes\n1,1,{}\n")
    with pytest.raises(UserError, match=r"missing column 'strat_fold'"):
        PTBXLReader(tmp_path).index()
    with pytest.raises(UserError, match=r"ptbxl_database.csv not found"):
        PTBXLReader(tmp_path / "nowhere")
    reader = PTBXLReader(ptbxl_root)
    broken = reader.index()[0].__class__(**{**reader.index()[0].__dict__,
                                            "location": str(ptbxl_root / "records500/x/gone")})
    with pytest.raises(UserError, match=r"ptbxl record 1: .*gone.hea not found"):
        reader.load(broken)


def _sph_signals(cinc):
    base = [wfdb.rdrecord(str(cinc / f"JS2000{i}")).p_signal.T for i in range(3)]
    long = np.concatenate([base[0]] * 3, axis=1)  # 30 s record
    return [long, base[1], base[2]]


def test_sph_reader_crop_windows_and_aha_codes(cinc, tmp_path):
    signals = _sph_signals(cinc)
    root = write_sph_fixture(tmp_path, signals, ["1", "50+346;145+363", "332+160;22"],
                             ["P1", "P2", "P1"])
    reader = SPHReader(root, duration_s=10)
    infos = reader.index()
    assert [i.record_id for i in infos] == ["A00001", "A00002", "A00003"]
    assert infos[1].codes == ("50+346", "145+363")
    assert infos[0].fold == infos[2].fold == hash_fold("P1")
    rec = reader.load(infos[0])
    assert rec.signal.shape == (12, 5000)
    np.testing.assert_allclose(rec.signal, signals[0][:, :5000], atol=1e-6)
    windows = SPHReader(root, duration_s=10, windows=True)
    ids = [i.record_id for i in windows.index()]
    assert ids == ["A00001_w0", "A00001_w1", "A00001_w2", "A00002_w0", "A00003_w0"]
    w2 = windows.load(windows.index()[2])
    np.testing.assert_allclose(w2.signal, signals[0][:, 10000:15000], atol=1e-6)
    # Native length when no duration is set.
    assert SPHReader(root).load("A00001").signal.shape == (12, 15000)


def test_sph_bad_records_raise_or_are_skipped(cinc, tmp_path):
    good = _sph_signals(cinc)[1]
    nan = good.copy()
    nan[3, 100] = np.nan
    root = write_sph_fixture(tmp_path, [good, nan, good[:8], good[:, :3000]],
                             ["1", "1", "1", "1"], ["a", "b", "c", "d"])
    (root / "records" / "A00001.h5").rename(root / "records" / "moved.h5")
    reader = SPHReader(root, duration_s=10)
    with pytest.raises(UserError, match=r"sph record A00001: .*A00001.h5 not found"):
        reader.load("A00001")
    with pytest.raises(UserError, match=r"A00002: 1 non-finite sample"):
        reader.load("A00002")
    with pytest.raises(UserError, match=r"A00003: expected the 12 leads .* got 8 channel"):
        reader.load("A00003")
    with pytest.raises(UserError, match=r"A00004: 6 s long, shorter than the requested 10 s"):
        reader.load("A00004")
    skipping = SPHReader(root, duration_s=10, on_error="skip")
    assert list(skipping) == []
    assert [r for r, _ in skipping.skipped] == ["A00001", "A00002", "A00003", "A00004"]


def test_make_reader_and_folds_errors(tmp_path):
    with pytest.raises(UserError, match="needs --root"):
        make_reader("ptbxl")
    with pytest.raises(UserError, match="unknown dataset 'mitdb'"):
        make_reader("mitdb", tmp_path)
    with pytest.raises(UserError, match="no WFDB headers"):
        make_reader("wfdb", tmp_path).index()
    assert parse_folds("1-3,9") == (1, 2, 3, 9)
    with pytest.raises(UserError, match="fold 11 is outside"):
        parse_folds("10-11")
    with pytest.raises(UserError, match="cannot read 'x'"):
        parse_folds("1,x")


def test_lead_order_is_canonicalized(tmp_path, cinc):
    # A WFDB record stored with the chest leads first and lower-case names.
    rec = wfdb.rdrecord(str(cinc / "HR06001"))
    order = list(range(6, 12)) + list(range(6))
    wfdb.wrsamp("X1", fs=500, units=["mV"] * 12, sig_name=[rec.sig_name[i].lower() for i in order],
                p_signal=rec.p_signal[:, order], fmt=["16"] * 12, adc_gain=[1000.0] * 12,
                baseline=[0] * 12, comments=["Dx: 164889003"], write_dir=str(tmp_path))
    got = WFDBFolderReader(tmp_path).load("X1")
    np.testing.assert_allclose(got.signal, rec.p_signal.T, atol=1e-3)
    assert got.codes == ("164889003",)
    assert tuple(LEADS_12) == ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4",
                               "V5", "V6")
