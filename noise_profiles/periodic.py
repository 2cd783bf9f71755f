"""Harmonic families: step-locked motion keeps its waveform, not just its spectrum.

Walking puts a periodic artefact on every electrode: a fundamental (the step rate) and
harmonics whose phases are locked to it, so each step has the same shape. The CSD keeps
the power of each harmonic but not their relative phases; drawn independently they give
the right spectrum and the wrong waveform (and window kurtosis). Here lines that sit at
integer multiples of a stronger line form a family; their relative phases are measured
in the time domain by regressing the data on ``cos/sin(h phi(t))``, where ``phi`` is the
instantaneous phase of the fundamental (Hilbert transform of the band-passed fundamental),
and synthesis drives all members of a family from one wandering phase.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

HARMONIC_TOLERANCE = 0.03     # |f / f1 - h| below this (relative to h) counts as harmonic h
MIN_FUNDAMENTAL_HZ = 0.5
EDGE_S = 1.0                  # Hilbert edge effects: drop this much at both segment ends


def group(freqs_hz, amplitudes):
    """Family id and harmonic number per line: strongest lines first become fundamentals."""
    n = len(freqs_hz)
    family = np.arange(n)
    harmonic = np.ones(n, np.int64)
    strength = np.linalg.norm(amplitudes, axis=1) if n else np.zeros(0)
    assigned = np.zeros(n, bool)
    for i in np.argsort(-strength):
        if assigned[i]:
            continue
        assigned[i] = True
        f1 = freqs_hz[i]
        if f1 < MIN_FUNDAMENTAL_HZ:
            continue
        for j in range(n):
            h = int(round(freqs_hz[j] / f1))
            if not assigned[j] and h >= 2 and abs(freqs_hz[j] / f1 - h) < HARMONIC_TOLERANCE * h:
                assigned[j] = True
                family[j], harmonic[j] = family[i], h
    return family, harmonic


def lock_phases(segments, sfreq, freqs_hz, amplitudes, family, harmonic):
    """Relative phases of each family's members, measured on the data.

    Magnitudes stay those of the CSD (the power); the phase of every member and channel is
    replaced by the one found by regression on the fundamental's phase. Families whose
    fundamental is too weak to follow keep the CSD phases.
    """
    amplitudes = amplitudes.copy()
    for fam in np.unique(family):
        members = np.flatnonzero(family == fam)
        if len(members) < 2:
            continue
        fund = members[harmonic[members] == 1][0]
        f1 = freqs_hz[fund]
        ref_ch = int(np.argmax(np.abs(amplitudes[fund])))
        sos = scipy.signal.butter(2, [0.85 * f1, min(1.15 * f1, 0.45 * sfreq)], "bandpass",
                                  fs=sfreq, output="sos")
        hp = scipy.signal.butter(2, 0.5 * f1, "highpass", fs=sfreq, output="sos")
        edge = int(EDGE_S * sfreq)
        rows, targets = [], []
        for seg in segments:
            if seg.shape[1] < 2 * edge + int(4 * sfreq / f1):
                continue
            y = scipy.signal.sosfiltfilt(sos, seg[ref_ch])
            phi = np.unwrap(np.angle(scipy.signal.hilbert(y)))[edge:-edge]
            hs = harmonic[members]
            rows.append(np.concatenate([np.cos(np.outer(phi, hs)), -np.sin(np.outer(phi, hs))],
                                       axis=1))
            targets.append(scipy.signal.sosfiltfilt(hp, seg, axis=1)[:, edge:-edge].T)
        if not rows:
            continue
        coef, *_ = np.linalg.lstsq(np.concatenate(rows), np.concatenate(targets), rcond=None)
        k = len(members)
        locked = (coef[:k] + 1j * coef[k:]).astype(np.complex128)          # (k, C)
        amplitudes[members] = np.abs(amplitudes[members]) * np.exp(1j * np.angle(locked))
    return amplitudes
