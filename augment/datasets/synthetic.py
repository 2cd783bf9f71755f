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

from augment.datasets.base import BaseReader, Record, RecordInfo, hash_fold
from augment.leads import DOWER, LEADS_12, derive_in_place
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
_MAX_WAVES = 6  # most waves of any beat (RBBB, ST changes)
_DOWER32 = DOWER.astype(np.float32)
_AF_AXIS = np.array([0.3, 0.5, -0.8]) / np.linalg.norm([0.3, 0.5, -0.8])


# (name, time of the wave's peak relative to R in s, width s, amplitude mV, direction X Y Z)
_NORMAL_WAVES = [
    ("P", -0.16, 0.025, 0.15, (0.55, 0.80, 0.10)),
    ("Q", -0.030, 0.010, 0.20, (-0.40, 0.15, -0.90)),
    ("R", 0.0, 0.012, 1.30, (0.70, 0.60, 0.35)),
    ("S", 0.030, 0.012, 0.45, (-0.40, -0.50, 0.75)),
    ("T", 0.28, 0.055, 0.35, (0.70, 0.45, -0.55)),
]


def _class_shape(name):
    """The mean beat of class ``name``: wave names and ``(t, width, amplitude, direction)``."""
    waves = [list(w) for w in _NORMAL_WAVES]
    by = {w[0]: w for w in waves}
    if name == "af":
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
    names = [w[0] for w in waves]
    return names, [np.array([w[k] for w in waves], dtype=float) for k in (1, 2, 3, 4)]


_CLASS_SHAPES = {name: _class_shape(name) for name in CLASSES}


def _class_waves(name, rng):
    """Wave table of one beat of class ``name`` with per-record jitter."""
    names, (t_s, width_s, amp_mv, dirs) = _CLASS_SHAPES[name]
    t_s = t_s.copy()
    pr = rng.uniform(0.14, 0.18)
    if "P" in names:
        t_s[names.index("P")] = -rng.uniform(0.26, 0.34) if name == "iavb" else -pr
    # Body habitus: amplitude and direction jitter, all waves in one draw each.
    amp_mv = amp_mv * rng.uniform(0.8, 1.2, len(names))
    dirs = dirs + rng.normal(0, 0.08, dirs.shape)
    return _wave_table(t_s, width_s, amp_mv, dirs)


def _wave_table(t_s, width_s, amp_mv, dirs):
    """``(_MAX_WAVES, 6)`` rows ``(t, width, amplitude, ux, uy, uz)``, zero-amplitude padded.

    A fixed row count keeps every record's arithmetic the same whatever else is in its batch.
    """
    table = np.zeros((_MAX_WAVES, 6))
    table[:, 1] = 1.0
    n = len(t_s)
    table[:n, 0], table[:n, 1], table[:n, 2] = t_s, width_s, amp_mv
    dirs = np.asarray(dirs, dtype=float)
    table[:n, 3:] = dirs / np.sqrt((dirs * dirs).sum(axis=1, keepdims=True))
    return table


def _pvc_waves(rng):
    dirs = np.array([[-0.5, 0.7, -0.6], [0.5, -0.6, 0.6]]) + rng.normal(0, .1, (2, 3))
    return _wave_table([0.0, 0.30], [0.035, 0.07], [1.4, 0.55], dirs)


def _pac_waves():
    waves = [list(w) for w in _NORMAL_WAVES]
    waves[0][1:] = [-0.12, 0.02, 0.12, (-0.3, -0.8, 0.2)]  # ectopic P: inverted in II
    return _wave_table(*zip(*[w[1:] for w in waves]))


def _draw(name, rng, sfreq, n_times):
    """Everything random about one record: its beat shapes, beat times and AF waves.

    Returns ``(tables, beats, af)``: wave tables (the first for normal beats, then the
    ectopic one), ``[(R-peak time s, table index)]`` and ``(f_hz, phase, amp_mv)`` or None.
    """
    if name not in CLASSES:
        raise UserError(f"synthetic: unknown class {name!r}; choose from {', '.join(CLASSES)}")
    tables = [_class_waves(name, rng)]
    rr_mean = 60.0 / rng.uniform(58, 92)
    duration = n_times / sfreq
    t = rng.uniform(0.1, rr_mean)
    ectopic_at = set()
    if name in ("pac", "pvc"):
        n_expected = int(duration / rr_mean)
        ectopic_at = set(rng.choice(np.arange(2, max(n_expected - 1, 3)),
                                    size=min(2, max(n_expected - 3, 1)), replace=False).tolist())
    # Beat-to-beat variation, drawn in one go (more if a long record needs them).
    n_draw = int((duration + _HALF_BEFORE_S) / (0.55 * rr_mean)) + 2
    steps = []
    # Beat times (R peaks, s): sinus rhythm varies a little, AF is irregularly irregular.
    beats, kinds = [], []
    while t < duration + _HALF_BEFORE_S:
        if not steps:
            steps = (rng.uniform(0.55, 1.45, n_draw) if name == "af"
                     else 1 + rng.normal(0, 0.02, n_draw)).tolist()[::-1]
        beats.append(t)
        i = len(beats)
        step = steps.pop()
        if i in ectopic_at:
            beats[-1] = beats[-2] + 0.62 * rr_mean if len(beats) > 1 else t
            kinds.append(1)
            # PVC: full compensatory pause; PAC: the sinus node resets.
            t = beats[-2] + 2 * rr_mean if name == "pvc" and len(beats) > 1 else \
                beats[-1] + rr_mean * 1.05
        else:
            kinds.append(0)
            t += rr_mean * step
    if name == "pvc":
        tables.append(_pvc_waves(rng))
    elif name == "pac":
        tables.append(_pac_waves())
    af = None
    if name == "af":  # fibrillatory waves: 4–9 Hz, irregular amplitude, along the atrial axis
        af = (rng.uniform(4.5, 8.5), rng.uniform(0, 6.3), rng.uniform(0.04, 0.09))
    return tables, list(zip(beats, kinds)), af


def _render(draws, sfreq, n_times) -> np.ndarray:
    """The 12-lead records ``(n, 12, n_times)`` float32 mV of the :func:`_draw` results.

    Vectorized across records, yet each record's numbers come from the same operations in
    the same order whatever else is in the batch, so a record is identical alone or batched.
    """
    before = int(round(_HALF_BEFORE_S * sfreq))
    length = before + int(round(_HALF_AFTER_S * sfreq))
    t = (np.arange(length) - before) / sfreq
    # Every beat template of the batch at once: sum_k a_k exp(-(t - t_k)^2 / 2 w_k^2) u_k.
    table = np.stack([tab for tables, _, _ in draws for tab in tables])  # (n_tpl, W, 6)
    gauss = t - table[:, :, 0, None]  # (n_tpl, W, L), in place from here on
    gauss /= table[:, :, 1, None]
    np.square(gauss, out=gauss)
    gauss *= -0.5
    np.exp(gauss, out=gauss)
    gauss *= table[:, :, 2, None]
    # One (3, W) @ (W, L) product per template (same shapes alone or batched).
    tpl = np.matmul(table[:, :, 3:].transpose(0, 2, 1), gauss).astype(np.float32)
    if not np.isfinite(tpl).all():  # only finite numbers are summed from here on
        raise UserError("a beat template is not finite (bad wave parameters)")
    # Beats in time order per record, into a buffer with a template's length of room on each
    # side (its sample ``length`` is time 0), so no beat needs clipping.
    vcg = np.zeros((len(draws), 3, n_times + 2 * length), dtype=np.float32)
    offset = length - before  # where the template of a beat at t = 0 starts
    first = 0
    for b, (tables, beats, _) in enumerate(draws):
        v = vcg[b]
        for t_beat, k in beats:
            start = int(round(t_beat * sfreq)) + offset
            v[:, start:start + length] += tpl[first + k]
        first += len(tables)
    vcg = vcg[:, :, length:length + n_times]
    af_terms = None
    for b, (_, _, af) in enumerate(draws):
        if af is None:
            continue
        if af_terms is None:  # shared by every AF record: time, its slow phase, the envelope
            time = np.arange(n_times) / sfreq
            af_terms = (2 * np.pi * 0.3 * time, 1 + 0.4 * np.sin(2 * np.pi * 0.7 * time))
        slow, envelope = af_terms
        f_hz, phase0, amp = af
        phase = np.cumsum(2 * np.pi * f_hz * (1 + 0.1 * np.sin(slow + phase0))) / sfreq
        vcg[b] += np.outer(_AF_AXIS, amp * np.sin(phase) * envelope)
    # Dower projection per record (one BLAS call of one shape each), then the derived leads.
    out = np.empty((len(draws), 12, n_times), dtype=np.float32)
    for b in range(len(draws)):
        np.matmul(_DOWER32[:2], vcg[b], out=out[b, 0:2])
        np.matmul(_DOWER32[2:], vcg[b], out=out[b, 6:12])
    # Noise-free on purpose: the augmentation pipeline adds the device's noise.
    return derive_in_place(out)


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
    return _render([_draw(name, rng, sfreq, n_times)], sfreq, n_times)[0]


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

    def _render_records(self, infos):
        n_times = int(round(self.duration_s * self.sfreq))
        draws = [_draw(info.location, record_rng(self.seed, f"synthetic/{info.record_id}"),
                       self.sfreq, n_times) for info in infos]
        return _render(draws, self.sfreq, n_times)

    def _read_signal(self, info):
        try:
            return self._render_records([info])[0], LEADS_12, self.sfreq
        except UserError as err:
            raise UserError(f"synthetic record {info.record_id}: {err}") from None

    def load_many(self, infos) -> list:
        """The records of ``infos`` built in one vectorized pass (each equal to :meth:`load`).

        Their signals are consecutive rows of one ``(n, 12, T)`` array.
        """
        infos = [i if isinstance(i, RecordInfo) else self.find(i) for i in infos]
        if not infos:
            return []
        try:
            x = self._render_records(infos)  # finite by construction (checked templates)
        except UserError:  # one at a time, so the record is named (or skipped)
            return super().load_many(infos)
        return [Record(info=info, signal=x[k], sfreq=self.sfreq)
                for k, info in enumerate(infos)]
