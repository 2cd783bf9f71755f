"""A small deterministic 12-lead test signal: P, QRS and T dipoles through the Dower matrix.

Used by the transform tests that need ECG-like input without the shared recordings.
"""

import numpy as np

from augment import leads


def synthetic_ecg(n_records=4, seconds=4.0, sfreq=500.0, seed=0):
    """``(n, 12, T)`` float32 mV: beats at ~1 Hz, a small non-dipolar part on V1–V6."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sfreq)) / sfreq
    out = np.empty((n_records, 8, len(t)), dtype=np.float32)
    waves = (  # (offset s, width s, VCG direction X, Y, Z in mV)
        (-0.18, 0.025, (0.10, 0.15, -0.05)),  # P
        (-0.02, 0.010, (-0.15, -0.05, 0.20)),  # Q
        (0.00, 0.012, (1.10, 0.90, 0.35)),  # R
        (0.03, 0.012, (-0.30, -0.20, -0.40)),  # S
        (0.28, 0.060, (0.35, 0.25, -0.20)),  # T
    )
    for i in range(n_records):
        rr = rng.uniform(0.8, 1.1)
        beats = np.arange(0.4 + rng.uniform(0, 0.2), seconds, rr)
        vcg = np.zeros((3, len(t)))
        for onset in beats:
            for off, width, vec in waves:
                vcg += np.outer(vec, np.exp(-0.5 * ((t - onset - off) / width) ** 2))
        x8 = leads.DOWER @ vcg
        x8[2:] += 0.05 * np.sin(2 * np.pi * rng.uniform(3, 8, (6, 1)) * t)  # non-dipolar
        out[i] = x8
    return leads.derive(out)
