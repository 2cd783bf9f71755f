"""Synthetic 12-lead ECGs from a 3-D heart-dipole model, for demos and tests (no download).

The heart is a single current dipole whose vector (Frank X left, Y feet, Z back) is a sum of
Gaussian waves in time, each with its own 3-D direction (P, septal Q, R, S, T, ST injury):
``vcg(t) = Σ_k a_k exp(-(t - t_k)² / 2 w_k²) u_k`` — the vector form of McSharry's ECGSYN
(IEEE TBME 50:289, 2003; Sameni et al., Biomed Eng Online 6:28, 2007). The independent leads
are the Dower projection ``DOWER @ vcg`` (:data:`augment.leads.DOWER`) and the other four
are derived, so the lead algebra is exact.

Each class changes the waves or the rhythm in the way its ECG criteria describe, so the
classes look different to a person and to a classifier. Every record is a pure function of
``(seed, record id)``; its labels are SNOMED-CT codes, read through the same label map as CinC.
"""

from __future__ import annotations

import numpy as np

from augment.datasets.base import BaseReader, RecordInfo, hash_fold
from augment.leads import DOWER, LEADS_12, derive
from shirtecg_common.errors import UserError
from shirtecg_common.random import record_rng

#: Class name → SNOMED-CT code (PhysioNet/CinC 2021 ``dx_mapping_scored.csv``).
CLASSES = {
    "normal": "426783006",  # sinus rhythm
    "af": "164889003",  # atrial fibrillation
    "iavb": "270492004",  # 1st degree AV block
    "lbbb": "164909002",  # left bundle branch block
    "rbbb": "59118001",  # right bundle branch block
    "pac": "284470004",  # premature atrial contraction
    "pvc": "427172004",  # premature ventricular contractions
    "std": "429622005",  # ST depression
    "ste": "164931005",  # ST elevation
    "mi": "164865005",  # myocardial infarction
}

_HALF_BEFORE_S, _HALF_AFTER_S = 0.45, 0.65  # beat template span around the R peak
_DOWER32 = DOWER.astype(np.float32)


def _unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


# (name, time of the wave's peak relative to R in s, width s, amplitude mV, direction X Y Z)
_NORMAL_WAVES = [
    ("P", -0.16, 0.025, 0.15, (0.55, 0.80, 0.10)),
    ("Q", -0.030, 0.010, 0.20, (-0.40, 0.15, -0.90)),
    ("R", 0.0, 0.012, 1.30, (0.70, 0.60, 0.35)),
    ("S", 0.030, 0.012, 0.45, (-0.40, -0.50, 0.75)),
    ("T", 0.28, 0.055, 0.35, (0.70, 0.45, -0.55)),
]


def _class_waves(name, rng):
    """Waves of one beat of class ``name`` with per-record jitter."""
    waves = [list(w) for w in _NORMAL_WAVES]
    by = {w[0]: w for w in waves}
    pr = rng.uniform(0.14, 0.18)
    by["P"][1] = -pr
    if name == "iavb":
        by["P"][1] = -rng.uniform(0.26, 0.34)  # PR > 200 ms
    elif name == "af":
        waves.remove(by["P"])  # no P waves (f waves are added to the whole record)
    elif name == "lbbb":
        # No septal q; slow, notched leftward-posterior activation; discordant T.
        waves.remove(by["Q"])
        by["R"][2:] = [0.028, 1.1, (0.80, 0.20, 0.55)]
        by["S"][1:] = [0.055, 0.025, 0.9, (0.75, 0.10, 0.65)]
        by["T"][2:] = [0.06, 0.40, (-0.75, -0.20, -0.60)]
        by["T"][1] = 0.32
    elif name == "rbbb":
        # Normal start, then a late slow rightward-anterior wave (rsR' in V1, wide S in I, V6).
        waves.append(["Rp", 0.075, 0.022, 0.70, (-0.55, 0.05, -0.85)])
        by["T"][4] = (0.75, 0.45, 0.45)
    elif name == "std":
        waves.append(["ST", 0.17, 0.07, 0.18, (-0.65, -0.55, 0.50)])
    elif name == "ste":
        waves.append(["ST", 0.16, 0.07, 0.30, (0.15, 0.05, -1.0)])
    elif name == "mi":
        # Anterior infarct: big initial vector away from the anterior wall (QS in V1–V3),
        # inverted anterior T.
        by["Q"][2:] = [0.018, 0.55, (0.10, 0.05, 1.0)]
        by["T"][4] = (0.50, 0.40, 0.75)
    for w in waves:  # body habitus: amplitude and direction jitter
        w[3] *= rng.uniform(0.8, 1.2)
        w[4] = _unit(np.asarray(w[4]) + rng.normal(0, 0.08, 3))
    return waves


def _template(waves, sfreq):
    """One beat ``(3, L)`` around its R peak, and the R peak's index inside it."""
    before = int(round(_HALF_BEFORE_S * sfreq))
    t = (np.arange(before + int(round(_HALF_AFTER_S * sfreq))) - before) / sfreq
    t_k = np.array([w[1] for w in waves])[:, None]
    width = np.array([w[2] for w in waves])[:, None]
    gauss = np.array([w[3] for w in waves])[:, None] * np.exp(-0.5 * ((t - t_k) / width) ** 2)
    directions = np.array([w[4] for w in waves])  # (W, 3)
    return (directions.T @ gauss).astype(np.float32), before


def _pvc_template(rng, sfreq):
    waves = [["R", 0.0, 0.035, 1.4, _unit(np.array([-0.5, 0.7, -0.6]) + rng.normal(0, .1, 3))],
             ["T", 0.30, 0.07, 0.55, _unit(np.array([0.5, -0.6, 0.6]) + rng.normal(0, .1, 3))]]
    return _template(waves, sfreq)


def _pac_template(rng, sfreq):
    waves = [list(w) for w in _NORMAL_WAVES]
    waves[0][1:] = [-0.12, 0.02, 0.12, _unit((-0.3, -0.8, 0.2))]  # ectopic P: inverted in II
    return _template(waves, sfreq)


def synthesize(name, rng, sfreq, n_times) -> np.ndarray:
    """One 12-lead record ``(12, n_times)`` float32 mV of class ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`CLASSES`.
    rng : numpy.random.Generator
        All randomness (rate, rhythm, shape jitter).
    sfreq : float
        Sampling rate (Hz).
    n_times : int
        Number of samples.
    """
    if name not in CLASSES:
        raise UserError(f"synthetic: unknown class {name!r}; choose from {', '.join(CLASSES)}")
    tpl, r_idx = _template(_class_waves(name, rng), sfreq)
    rr_mean = 60.0 / rng.uniform(58, 92)
    duration = n_times / sfreq
    # Beat times (R peaks, s): sinus rhythm varies a little, AF is irregularly irregular.
    beats, kinds = [], []
    t = rng.uniform(0.1, rr_mean)
    ectopic_at = set()
    if name in ("pac", "pvc"):
        n_expected = int(duration / rr_mean)
        ectopic_at = set(rng.choice(np.arange(2, max(n_expected - 1, 3)),
                                    size=min(2, max(n_expected - 3, 1)), replace=False).tolist())
    while t < duration + _HALF_BEFORE_S:
        beats.append(t)
        i = len(beats)
        if name == "af":
            t += rr_mean * rng.uniform(0.55, 1.45)
            kinds.append("n")
        elif i in ectopic_at:
            beats[-1] = beats[-2] + 0.62 * rr_mean if len(beats) > 1 else t
            kinds.append(name)
            # PVC: full compensatory pause; PAC: the sinus node resets.
            t = beats[-2] + 2 * rr_mean if name == "pvc" and len(beats) > 1 else \
                beats[-1] + rr_mean * 1.05
        else:
            kinds.append("n")
            t += rr_mean * (1 + rng.normal(0, 0.02))
    templates = {"n": (tpl, r_idx)}
    if name == "pvc":
        templates["pvc"] = _pvc_template(rng, sfreq)
    elif name == "pac":
        templates["pac"] = _pac_template(rng, sfreq)
    vcg = np.zeros((3, n_times), dtype=np.float32)
    for t_beat, kind in zip(beats, kinds):
        beat, r = templates[kind]
        start = int(round(t_beat * sfreq)) - r
        lo, hi = max(start, 0), min(start + beat.shape[1], n_times)
        if hi > lo:
            vcg[:, lo:hi] += beat[:, lo - start:hi - start]
    if name == "af":  # fibrillatory waves: 4–9 Hz, irregular amplitude, along the atrial axis
        time = np.arange(n_times) / sfreq
        f_hz = rng.uniform(4.5, 8.5)
        phase = np.cumsum(2 * np.pi * f_hz * (1 + 0.1 * np.sin(2 * np.pi * 0.3 * time
                                                                + rng.uniform(0, 6.3)))) / sfreq
        fwave = rng.uniform(0.04, 0.09) * np.sin(phase) * (1 + 0.4 * np.sin(2 * np.pi * 0.7
                                                                             * time))
        vcg += np.outer(_unit((0.3, 0.5, -0.8)), fwave)
    # Noise-free on purpose: the augmentation pipeline adds the device's noise.
    return derive(_DOWER32 @ vcg)


class SyntheticReader(BaseReader):
    """A reader of ``n_records`` synthetic records (no files).

    Record ``i`` is ``syn{i:06d}`` of class ``classes[i % len(classes)]``; records ``2k`` and
    ``2k+1`` share patient ``p{k:06d}`` (so fold safety is exercised); folds are hashed from
    the patient id.

    Parameters
    ----------
    n_records : int
        How many records.
    sfreq : float
        Sampling rate (Hz).
    duration_s : float
        Length of every record (s).
    seed : int
        Seed of the generator; each record's draws derive from ``(seed, record id)``.
    classes : sequence of str | None
        Which classes of :data:`CLASSES` to generate (default all ten).
    on_error
        See :class:`~augment.datasets.base.BaseReader`.
    """

    name = "synthetic"

    def __init__(self, n_records=100, sfreq=500.0, duration_s=10.0, seed=0, classes=None,
                 on_error="raise"):
        super().__init__(sfreq=sfreq, duration_s=duration_s, on_error=on_error)
        if duration_s is None:
            raise UserError("synthetic: duration_s (the length of every record, s) is required")
        if int(n_records) < 1:
            raise UserError(f"synthetic: n_records must be >= 1, got {n_records}")
        self.n_records = int(n_records)
        self.seed = seed
        self.classes = tuple(classes) if classes else tuple(CLASSES)
        unknown = [c for c in self.classes if c not in CLASSES]
        if unknown:
            raise UserError(f"synthetic: unknown class {unknown[0]!r}; "
                            f"choose from {', '.join(CLASSES)}")

    def _build_index(self):
        infos = []
        for i in range(self.n_records):
            name = self.classes[i % len(self.classes)]
            patient = f"p{i // 2:06d}"
            infos.append(RecordInfo(f"syn{i:06d}", patient, hash_fold(patient),
                                    (CLASSES[name],), self.name, location=name))
        return infos

    def _read_signal(self, info):
        rng = record_rng(self.seed, f"synthetic/{info.record_id}")
        n_times = int(round(self.duration_s * self.sfreq))
        return synthesize(info.location, rng, self.sfreq, n_times), LEADS_12, self.sfreq
