"""The default label map: codes checked against the real code tables, strict keys."""

from __future__ import annotations

import csv

import pytest

from augment.datasets import WFDBFolderReader, load_label_map
from augment.datasets.labels import LabelMap
from shirtecg_common.errors import ConfigError

#: CinC 2021 SNOMED codes of the ten classes (dx_mapping_scored.csv / _unscored.csv), typed in
#: independently of the YAML file.
CINC_REFERENCE = {
    "426783006": "normal", "164889003": "af", "270492004": "iavb", "164909002": "lbbb",
    "733534002": "lbbb", "59118001": "rbbb", "713427006": "rbbb", "284470004": "pac",
    "63593006": "pac", "427172004": "pvc", "17338001": "pvc", "429622005": "std",
    "164931005": "ste", "164865005": "mi",
}


def test_default_map_has_ten_classes_and_scp_codes_exist(shared_data):
    lm = load_label_map()
    assert lm.classes == ("normal", "af", "iavb", "lbbb", "rbbb", "pac", "pvc", "std", "ste",
                          "mi")
    with open(shared_data / "ptbxl" / "scp_statements.csv", newline="") as f:
        table = {row[""]: row for row in csv.DictReader(f)}
    for name in lm.classes:
        codes = lm.codes_for(name, "scp")
        assert codes, name
        for code in codes:
            assert code in table, f"{code} ({name}) is not a PTB-XL SCP statement"
    # Every MI statement of PTB-XL maps to mi, and nothing else does.
    mi_codes = {c for c, row in table.items() if row["diagnostic_class"] == "MI"}
    assert set(lm.codes_for("mi", "scp")) == mi_codes
    # AHA codes listed by scp_statements.csv for the single-statement classes agree.
    for scp, name in (("AFIB", "af"), ("CLBBB", "lbbb"), ("CRBBB", "rbbb"), ("PAC", "pac"),
                      ("PVC", "pvc"), ("STE_", "ste"), ("STD_", "std"), ("NORM", "normal")):
        aha = table[scp]["AHA code"]
        assert lm.classes_of([aha], "aha") == (name,), (scp, aha)


def test_snomed_codes_against_reference_and_real_headers(shared_data):
    lm = load_label_map()
    for code, name in CINC_REFERENCE.items():
        assert lm.classes_of([code], "snomed") == (name,)
    reader = WFDBFolderReader(shared_data / "cinc2021")
    counts = {}
    for info in reader.index():
        for name in lm.classes_of(info.codes, "snomed"):
            counts[name] = counts.get(name, 0) + 1
    # Counted by hand from the 50 headers: 15 sinus rhythm, 20 PAC (Ningbo), 5 PVC, 2 RBBB.
    assert counts == {"normal": 15, "pac": 20, "pvc": 5, "rbbb": 2}


def test_aha_modifiers_and_multi_hot():
    lm = load_label_map()
    assert lm.classes_of(["145+363"], "aha") == ("ste",)
    assert lm.classes_of(["363+145"], "aha") == ("ste",)  # modifier first, as SPH writes MI
    assert lm.classes_of(["145"], "aha") == ()  # ST deviation without direction: no class
    assert lm.classes_of(["50+346", "332+160"], "aha") == ("af", "mi")
    y = lm.encode(["50+346", "82"], "aha")
    assert y.tolist() == [0, 1, 1, 0, 0, 0, 0, 0, 0, 0]


def test_strict_keys(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("classes:\n  af:\n    snomed: ['164889003']\n    smomed: ['1']\n")
    with pytest.raises(ConfigError, match=r"classes.af: unknown key 'smomed'; allowed keys"):
        load_label_map(path)
    path.write_text("clases: {}\n")
    with pytest.raises(ConfigError, match=r"unknown key 'clases'"):
        load_label_map(path)
    path.write_text("schema: other/2\nclasses: {af: {snomed: ['164889003']}}\n")
    with pytest.raises(ConfigError, match=r"schema 'other/2' is not supported"):
        load_label_map(path)
    with pytest.raises(ConfigError, match="expected a list of codes"):
        LabelMap({"af": {"scp": "AFIB"}})
