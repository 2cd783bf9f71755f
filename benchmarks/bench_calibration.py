"""Calibration benchmark: ADC accuracy, synthetic-truth recovery, real wearable data, demo time.

``python benchmarks/run.py calibration [-- --quick] [-- --demo]``

1. ADC: gain error and corner estimates of :class:`AdcGainCalibrator` on square waves with
   noise, drift, glitches and front-end filters, beside the naive estimate (difference of the
   medians of the two plateau halves), in the same run.
2. Energy distance: ours beside ``dcor.energy_distance`` (peer, ``bench`` extra) on the same
   features: the same value (V-statistic form) and the time.
3. Synthetic truth: device-like records made with known parameters; recovered values, AUC and
   energy distance before/after.
4. Real data (``../shared/data/wearable_motion_artifacts``): augmentation of the gel-electrode
   rest recordings (01_01_klud, 03_01_klud) calibrated toward the textile-electrode recordings
   of arm movement, walking and running (01_03_*, 03_03_*), 5-s windows, lead II; with a
   searched high-pass corner, with a heart-rate change, within each subject, and toward the
   gel/moving recordings. AUC with random folds and with folds by subject (train on one
   subject, test on the other).
5. ``--demo``: wall time of ``shirtecg demo``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

#: The motion pipeline calibrated on the real wearable data (its YAML, as a user writes it).
MOTION_YAML = """\
format_version: 1
name: motion
description: motion artifacts and front end of a single-lead wearable
transforms:
  - class: AmplitudeScale
    params: {p: 1.0, min_scale: 0.9, max_scale: 1.1, per_lead: false}
  - class: BaselineWander
    params: {p: 1.0, min_amplitude_mv: 0.05, max_amplitude_mv: 0.3}
  - class: WalkingArtifact
    params: {p: 1.0, min_amplitude_mv: 0.02, max_amplitude_mv: 0.1}
  - class: BaselineShift
    params: {p: 0.5, min_offset_mv: 0.1, max_offset_mv: 0.5}
  - class: MuscleNoise
    params: {p: 1.0, min_rms_mv: 0.005, max_rms_mv: 0.02, max_freq_hz: 150.0}
  - class: PowerlineNoise
    params: {p: 1.0, min_amplitude_mv: 0.001, max_amplitude_mv: 0.005}
  - class: FrequencyResponse
    params: {p: 1.0, lowpass_hz: 150.0, lowpass_order: 2}
tunable:
  amplitude_scale__min_scale: [0.3, 1.5]
  amplitude_scale__max_scale: [0.3, 1.5]
  baseline_wander__max_amplitude_mv: [0.02, 4.0]
  walking_artifact__min_amplitude_mv: [0.005, 1.0]
  walking_artifact__max_amplitude_mv: [0.01, 2.0]
  baseline_shift__max_offset_mv: [0.05, 5.0]
  muscle_noise__max_rms_mv: [0.002, 0.5]
  muscle_noise__min_freq_hz: [3.0, 40.0]
  muscle_noise__max_freq_hz: [25.0, 200.0]
  powerline_noise__max_amplitude_mv: [0.0005, 0.05]
  frequency_response__lowpass_hz: [20.0, 200.0]
"""




def _with_profile_step(text):
    """MOTION_YAML plus the device's own noise (a profile from its ECG via noise_from_ecg)."""
    step = ("  - class: AddProfileNoise\n"
            "    params: {p: 1.0, min_scale: 0.5, max_scale: 1.0}\n")
    tunables = ("  add_profile_noise__min_scale: [0.05, 2.0]\n"
                "  add_profile_noise__max_scale: [0.05, 2.0]\n")
    return text.replace("tunable:\n", step + "tunable:\n") + tunables


def _naive_gain(counts, sfreq, freq_hz, amplitude_mv):
    """Median of the upper half minus median of the lower half of each period (no model)."""
    n_per = int(round(sfreq / freq_hz))
    x = counts[: len(counts) // n_per * n_per].reshape(-1, n_per)
    mid = np.median(x)
    hi = np.median(x[x > mid])
    lo = np.median(x[x <= mid])
    return 1e-3 * amplitude_mv / (hi - lo)


def bench_adc(quick):
    from calibration.adc import AdcGainCalibrator
    from tests.calibration.conftest import VPC, square_recording

    cases = [("noise 10 µV + drift + glitches", {}),
             ("+ high-pass 0.5 Hz", {"highpass_hz": 0.5}),
             ("+ HP 0.05 Hz, LP 150 Hz", {"highpass_hz": 0.05, "lowpass_hz": 150.0}),
             ("+ LP 40 Hz, noise 30 µV", {"lowpass_hz": 40.0, "noise_uv": 30.0})]
    seeds = range(2 if quick else 5)
    print("| test signal (1 mV, 1 Hz, 20 s, 500 Hz) | gain error, ours (max over seeds) | "
          "± reported | gain error, naive medians | HP (Hz) | LP (Hz) | ms/channel |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, kw in cases:
        errs, naive, ses, hps, lps, times = [], [], [], [], [], []
        for seed in seeds:
            x = square_recording(seconds=20.0, seed=seed, **kw)
            t0 = time.perf_counter()
            cal = AdcGainCalibrator().fit(x[None], sfreq=500.0)
            times.append(time.perf_counter() - t0)
            errs.append(cal.volts_per_count_[0] / VPC - 1)
            ses.append(cal.gain_rel_uncertainty_[0])
            hps.append(cal.highpass_hz_[0])
            lps.append(cal.lowpass_hz_[0])
            naive.append(_naive_gain(x, 500.0, 1.0, 1.0) / VPC - 1)
        worst = max(errs, key=abs)
        print(f"| {label} | {worst:+.4%} | {np.mean(ses):.4%} | {max(naive, key=abs):+.3%} | "
              f"{_f(np.nanmedian(hps) if not np.all(np.isnan(hps)) else np.nan)} | "
              f"{_f(np.nanmedian(lps) if not np.all(np.isnan(lps)) else np.nan)} | "
              f"{1e3 * np.median(times):.0f} |")


def _f(v):
    return "–" if not np.isfinite(v) else f"{v:.3g}"


def bench_energy():
    from calibration.distance import energy_distance

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 36)), rng.normal(0.2, 1.0, size=(300, 36))
    energy_distance(a[:10], b[:10])
    t0 = time.perf_counter()
    ours_u = energy_distance(a, b, clip=False)
    t_ours = time.perf_counter() - t0
    # V-statistic form (self-distances included), which dcor computes.
    na, nb = len(a), len(b)
    from scipy.spatial.distance import cdist

    ours_v = 2 * cdist(a, b).mean() - cdist(a, a).mean() - cdist(b, b).mean()
    print("\n| energy distance, 400 × 300 feature vectors (36-D) | value | time (ms) | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| shirtecg (U-statistic, the fitter's objective) | {ours_u:.5f} | "
          f"{1e3 * t_ours:.1f} | 1.0 |")
    try:
        import dcor
    except ImportError:
        print("| dcor.energy_distance (peer) | not installed (pip install '.[bench]') | | |")
        return
    dcor.energy_distance(a[:10], b[:10])  # warm-up: leave any JIT compilation out of the time
    t0 = time.perf_counter()
    peer = dcor.energy_distance(a, b)
    t_peer = time.perf_counter() - t0
    print(f"| dcor.energy_distance (peer, V-statistic) | {peer:.5f} (ours as V: {ours_v:.5f}) | "
          f"{1e3 * t_peer:.1f} | {t_peer / t_ours:.2f} |")
    del na, nb


def bench_synthetic_truth(quick):
    from calibration.fitter import AugmentationFitter
    from tests.calibration._helpers import WanderAndNoise, synthetic_public

    truth = {"noise_mv": 0.08, "wander_mv": 0.5}
    print("\n| synthetic truth (seed) | noise_mv (truth 0.08) | wander_mv (truth 0.5) | "
          "AUC before → after | energy before → after | evaluations | s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for seed in range(2 if quick else 5):
        public = synthetic_public(40, seed=10 + seed)
        device = WanderAndNoise(**truth)(synthetic_public(40, seed=20 + seed), 250.0,
                                         random_state=seed)[:, [1, 7]]
        t0 = time.perf_counter()
        f = AugmentationFitter(WanderAndNoise(noise_mv=0.01, wander_mv=0.05),
                               search_space={"noise_mv": [0.005, 0.5], "wander_mv": [0.01, 2.0]},
                               n_iter=30, random_state=seed)
        f.fit(public, device, public_sfreq=250.0, device_sfreq=250.0, device_leads=["II", "V2"])
        d = f.distances_
        p = f.best_params_
        print(f"| {seed} | {p['noise_mv']:.4f} ({p['noise_mv'] / 0.08 - 1:+.1%}) | "
              f"{p['wander_mv']:.3f} ({p['wander_mv'] / 0.5 - 1:+.1%}) | "
              f"{d['initial']['auc']:.3f} → {d['calibrated']['auc']:.3f} | "
              f"{d['initial']['energy']:.2f} → {d['calibrated']['energy']:.3f} | "
              f"{len(f.history_)} | {time.perf_counter() - t0:.1f} |")


def _with_highpass(text):
    """MOTION_YAML with the front end's high-pass corner searched too (electrode-skin coupling:
    a higher corner would distort QRS/ST the way a high-impedance contact can)."""
    text = text.replace("params: {p: 1.0, lowpass_hz: 150.0, lowpass_order: 2}",
                        "params: {p: 1.0, highpass_hz: 0.05, lowpass_hz: 150.0, "
                        "lowpass_order: 2}")
    return text + "  frequency_response__highpass_hz: [0.05, 15.0]\n"


def _with_heart_rate(text):
    """MOTION_YAML with a time compression first: moving raises the heart rate (gel/rest 78–85
    bpm, textile/moving 98–154 bpm in these files). TimeStretch's sign is random, so half the
    records are slowed instead (a one-sided option would be an augment change)."""
    step = ("  - class: TimeStretch\n"
            "    params: {p: 1.0, min_stretch_pct: 0.0, max_stretch_pct: 10.0}\n")
    return (text.replace("transforms:\n", "transforms:\n" + step, 1)
            + "  time_stretch__min_stretch_pct: [0.0, 50.0]\n"
              "  time_stretch__max_stretch_pct: [0.0, 50.0]\n")


def bench_real(budget):
    from calibration.run_augment import calibrate_augmentation

    data = Path(os.environ.get("SHIRTECG_SHARED_DATA", ROOT.parent / "shared" / "data"))
    w = data / "wearable_motion_artifacts"
    if not w.is_dir():
        print(f"\n(real data skipped: {w} not found)")
        return
    both, moving = ("01", "03"), ("ruky", "chodza", "beh")
    hr = {"public_window_s": 10.0, "n_copies": 2}
    # (title, subjects, device electrode, pipeline YAML, options)
    scenarios = [
        ("gel/rest → textile/moving (the task)", both, "03", MOTION_YAML, {}),
        ("same + tunable high-pass corner", both, "03", _with_highpass(MOTION_YAML), {}),
        ("same + heart rate (TimeStretch; 10-s public windows, first 5 s compared)", both, "03",
         _with_heart_rate(MOTION_YAML), hr),
        ("same + profile noise from the textile records (noise_from_ecg)", both, "03",
         _with_profile_step(MOTION_YAML), {"profile_from_device": True}),
        ("within subject 01: gel/rest → textile/moving", ("01",), "03", MOTION_YAML, {}),
        ("within subject 03: gel/rest → textile/moving", ("03",), "03", MOTION_YAML, {}),
        ("within subject 01, + heart rate", ("01",), "03", _with_heart_rate(MOTION_YAML), hr),
        ("within subject 03, + heart rate", ("03",), "03", _with_heart_rate(MOTION_YAML), hr),
        ("gel/rest → gel/moving (motion only, same electrodes)", both, "01", MOTION_YAML, {}),
    ]
    print(f"\n| wearable data, lead II, 5-s windows, budget {budget} | public records | "
          "energy distance | AUC | AUC − 0.5 | AUC, folds by subject |")
    print("|---|---|---:|---:|---:|---:|")
    notes = []
    for title, subjects, electrode, text, options in scenarios:
        device = [w / s / f"{s}_{electrode}_{a}.csv" for s in subjects for a in moving]
        public = [w / s / f"{s}_01_klud.csv" for s in subjects]
        with tempfile.TemporaryDirectory() as tmp:
            yml = Path(tmp) / "motion.yaml"
            yml.write_text(text)
            t0 = time.perf_counter()
            f = calibrate_augmentation(device_records=[str(p) for p in device],
                                       public=[str(p) for p in public], pipeline=str(yml),
                                       out=Path(tmp) / "cal.yaml",
                                       report_dir=Path(tmp) / "report", budget=budget,
                                       window_s=5.0, quiet=True, group_by="subject",
                                       **options)
            wall = time.perf_counter() - t0
        d = f.distances_
        for label, what in (("raw", "gel/rest, not augmented"),
                            ("initial", "motion pipeline as written"),
                            ("calibrated", "motion pipeline calibrated")):
            g = d[label]["auc_grouped"]
            print(f"| {title} | {what} | {d[label]['energy']:.3f} | {d[label]['auc']:.3f} | "
                  f"{d[label]['auc'] - 0.5:+.3f} | {'–' if g is None else f'{g:.3f}'} |")
        p = f.best_params_
        extra = "".join(f"; {k} {p[k]:.3g}" for k in ("frequency_response__highpass_hz",
                                                      "time_stretch__min_stretch_pct",
                                                      "time_stretch__max_stretch_pct")
                        if k in p)
        notes.append(f"{title}: {len(f.features_['device'])} device windows, "
                     f"{len(f.features_['calibrated'])} augmented public windows, {wall:.0f} s"
                     f"{extra}; most different after calibration: "
                     + ", ".join(f"{n} {v:+.2f} SD" for n, v in f.feature_differences()[:3]))
    print()
    for n in notes:
        print(f"- {n}")


def bench_demo():
    import subprocess

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "shirtecg", "demo", "--out", tmp, "--quiet"],
                       check=True)
        print(f"\n| shirtecg demo (defaults) | {time.perf_counter() - t0:.0f} s wall on "
              f"{os.cpu_count()} CPUs |\n|---|---|")


def main(argv=None):
    argv = list(argv or [])
    quick = "--quick" in argv
    bench_adc(quick)
    bench_energy()
    bench_synthetic_truth(quick)
    bench_real(budget=60 if quick else 200)
    if "--demo" in argv:
        bench_demo()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
