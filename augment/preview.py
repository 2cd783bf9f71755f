"""A 12-lead ECG drawn as a person reads it: original above, augmented below.

Standard layout on ECG paper: four columns of 2.5 s (I II III | aVR aVL aVF | V1 V2 V3 |
V4 V5 V6) and a full-length lead II rhythm strip, at 25 mm/s and 10 mm/mV, with the 1 mm /
5 mm grid (0.04 s and 0.1 mV; 0.2 s and 0.5 mV). Leads the augmented output does not have
(a device with fewer leads) are left blank and marked. Each trace is drawn about its median
and clipped at ±1.8 mV so rows stay readable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from augment.leads import LEADS_12
from shirtecg_common.random import record_seed_sequence

#: Leads of each column of the standard layout.
LAYOUT = (("I", "II", "III"), ("aVR", "aVL", "aVF"), ("V1", "V2", "V3"), ("V4", "V5", "V6"))
RHYTHM_LEAD = "II"
ROW_MV = 3.0  # vertical space per row
CLIP_MV = 1.8  # traces are clipped here so a large lead does not draw over its neighbours


def _trace(x):
    return np.clip(x - np.median(x), -CLIP_MV, CLIP_MV)


def augment_record(record, pipeline, seed=0, copy=0):
    """Copy ``copy`` of ``record`` through ``pipeline`` exactly as ``augment run`` makes it.

    Returns ``(signal (n_leads, T'), sfreq', leads, parameters)``.
    """
    seeds = [record_seed_sequence(seed, record.record_id, copy)]
    out = np.asarray(pipeline(record.signal[None], record.sfreq, random_state=seeds))[0]
    params = (getattr(pipeline, "last_parameters", None) or [{}])[0]
    leads = tuple(getattr(pipeline, "output_leads", LEADS_12))
    return out, float(pipeline.output_sfreq(record.sfreq)), leads, params


def draw_ecg(ax, signal, sfreq, leads, title=""):
    """Draw ``signal`` ``(n_leads, T)`` mV on ``ax`` in the standard 3×4 + rhythm layout."""
    leads = list(leads)
    duration = signal.shape[1] / sfreq
    col_s = duration / len(LAYOUT)
    t = np.arange(signal.shape[1]) / sfreq
    for c, column in enumerate(LAYOUT):
        lo, hi = int(round(c * col_s * sfreq)), int(round((c + 1) * col_s * sfreq))
        for r, lead in enumerate(column):
            y0 = -ROW_MV * r
            ax.text(c * col_s + 0.04, y0 + 0.9, lead, fontsize=9, fontweight="bold")
            if lead in leads:
                x = signal[leads.index(lead), lo:hi]
                ax.plot(t[lo:hi], y0 + _trace(x), color="black", lw=0.7)
            else:
                ax.text(c * col_s + 0.5, y0, "(not recorded)", fontsize=8, color="gray")
        if c:  # lead-change marks, as printed ECGs have
            ax.plot([c * col_s] * 2, [-ROW_MV * 2 - 0.5, 0.5], color="black", lw=0.8)
    y0 = -ROW_MV * 3
    ax.text(0.04, y0 + 0.9, RHYTHM_LEAD, fontsize=9, fontweight="bold")
    if RHYTHM_LEAD in leads:
        x = signal[leads.index(RHYTHM_LEAD)]
        ax.plot(t, y0 + _trace(x), color="black", lw=0.7)
    _paper(ax, duration)
    ax.set_title(title, fontsize=10, loc="left")


def _paper(ax, duration):
    y_lo, y_hi = -ROW_MV * 3 - 1.5, 1.5
    ax.set_xlim(0, duration)
    ax.set_ylim(y_lo, y_hi)
    # The grid is drawn as lines (not from ticks) so the tick labels can stay sparse.
    for step, color, lw in ((0.04, "#f6d8d8", 0.3), (0.2, "#e8a0a0", 0.6)):
        ax.vlines(np.arange(0, duration + 1e-9, step), y_lo, y_hi, colors=color, lw=lw,
                  zorder=0)
    for step, color, lw in ((0.1, "#f6d8d8", 0.3), (0.5, "#e8a0a0", 0.6)):
        ax.hlines(np.arange(np.ceil(y_lo / step) * step, y_hi + 1e-9, step), 0, duration,
                  colors=color, lw=lw, zorder=0)
    ax.set_aspect(0.4)  # 25 mm/s and 10 mm/mV
    ax.set_facecolor("#fff8f6")
    ax.set_xticks(np.arange(0, duration + 1e-9, 1.0))
    ax.set_yticks(np.arange(-ROW_MV * 3 - 1, 1.6, 1.0))
    ax.tick_params(labelsize=7)
    ax.set_xlabel("time (s)  —  25 mm/s; grid 0.04 s and 0.2 s", fontsize=8)
    ax.set_ylabel("mV (rows offset)  —  10 mm/mV; grid 0.1 and 0.5 mV", fontsize=8)


def preview_record(reader, record_id, pipeline, png, *, seed=0, copy=0, label_map=None):
    """Write a PNG of record ``record_id``: original (top) and augmented copy ``copy`` (bottom).

    Returns the PNG path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from augment.datasets.labels import SYSTEM_OF_SOURCE, load_label_map

    record = reader.load(reader.find(record_id))
    label_map = load_label_map() if label_map is None else label_map
    classes = label_map.classes_of(record.codes, SYSTEM_OF_SOURCE[reader.name])
    aug, aug_sfreq, aug_leads, params = augment_record(record, pipeline, seed=seed, copy=copy)
    applied = [k for k, v in params.items() if isinstance(v, dict) and v.get("applied")]
    duration = record.signal.shape[1] / record.sfreq
    fig, axes = plt.subplots(2, 1, figsize=(max(duration, 4) * 1.05, 9.5))
    info = f"{reader.name} {record.record_id} · patient {record.patient_id} · fold " \
           f"{record.fold} · labels: {', '.join(classes) or 'none mapped'}"
    draw_ecg(axes[0], record.signal, record.sfreq, LEADS_12,
             f"original — {info} · {record.sfreq:g} Hz")
    draw_ecg(axes[1], aug, aug_sfreq, aug_leads,
             f"augmented copy {copy} (seed {seed}) · {aug_sfreq:g} Hz"
             + (f" · applied: {', '.join(applied)}" if applied else ""))
    fig.tight_layout()
    png = Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png
