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
   of arm movement, walking and running (01_03_*, 03_03_*), 5-s windows, lead II. Headline:
   ``calibration/examples/wearable_motion.yaml`` (heart rate raised beat by beat, amplitude,
   the device's own noise profile, front end) over three seeds; beside it, in the same run,
   the same plus parametric motion models, a uniform TimeStretch instead of the beat-wise
   heart-rate change, the previous motion-only pipeline, and toward the gel/moving
   recordings. AUC with random folds and with folds by subject; what still gives the
   augmented records away (each feature's AUC alone, the classifier's AUC without it).
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


#: The headline pipeline of the real-data scenario, as shipped for users.
SHIRT_MOTION_YAML = ROOT / "calibration" / "examples" / "wearable_motion.yaml"


def _with_motion_models(text):
    """The shipped pipeline plus MOTION_YAML's parametric motion, EMG and mains models (on top
    of the device's own noise), with their tunable ranges."""
    steps = {"BaselineWander": "baseline_wander", "WalkingArtifact": "walking_artifact",
             "BaselineShift": "baseline_shift", "MuscleNoise": "muscle_noise",
             "PowerlineNoise": "powerline_noise"}
    lines = MOTION_YAML.splitlines(keepends=True)
    blocks, tunables = [], []
    for i, line in enumerate(lines):
        if line.startswith("  - class: ") and line.split(": ", 1)[1].strip() in steps:
            blocks += lines[i:i + 2]  # "- class:" and its "params:" line
        elif line.strip().split("__")[0] in steps.values():
            tunables.append(line)
    text = text.replace("  - class: AddProfileNoise",
                        "".join(blocks) + "  - class: AddProfileNoise", 1)
    return text + "".join(tunables)


def _uniform_stretch(text):
    """The shipped pipeline with a uniform TimeStretch (faster) instead of HeartRateChange:
    every interval, the QRS included, shortens by the rate."""
    return (text.replace("class: HeartRateChange", "class: TimeStretch")
            .replace("min_change_pct", "min_stretch_pct")
            .replace("max_change_pct", "max_stretch_pct")
            .replace("heart_rate_change__", "time_stretch__"))


def bench_real(budget, quick):
    from calibration.distance import classifier_auc
    from calibration.run_augment import calibrate_augmentation

    data = Path(os.environ.get("SHIRTECG_SHARED_DATA", ROOT.parent / "shared" / "data"))
    w = data / "wearable_motion_artifacts"
    if not w.is_dir():
        print(f"\n(real data skipped: {w} not found)")
        return
    both, moving = ("01", "03"), ("ruky", "chodza", "beh")
    shirt = SHIRT_MOTION_YAML.read_text()
    # HeartRateChange needs public windows longer than the compared 5 s (a faster record
    # reads up to 10 s of input); the device's own noise comes from its records.
    hr = {"public_window_s": 10.0, "n_copies": 4, "profile_from_device": True}
    seeds = (0,) if quick else (0, 1, 2)
    # (title, subjects, device electrode, pipeline YAML, options, seeds)
    scenarios = [
        ("**headline**: heart rate beat by beat + amplitude + device noise + front end",
         both, "03", shirt, hr, seeds),
        ("same + parametric motion, EMG and mains models", both, "03",
         _with_motion_models(shirt), hr, (0,)),
        ("same as headline, uniform TimeStretch instead of HeartRateChange", both, "03",
         _uniform_stretch(shirt), hr, seeds),
        ("previous motion pipeline (parametric models, no heart rate, 5-s public windows)",
         both, "03", MOTION_YAML, {}, (0,)),
        ("headline pipeline, gel/rest → gel/moving (electrodes unchanged)", both, "01", shirt,
         hr, (0,)),
    ]
    print(f"\n| wearable data, lead II, 5-s windows, budget {budget} | public records | seed | "
          "energy distance | AUC | AUC − 0.5 | AUC, 10 fold seeds (mean ± sd) | "
          "AUC, folds by subject |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    notes = []
    for title, subjects, electrode, text, options, scenario_seeds in scenarios:
        device = [w / s / f"{s}_{electrode}_{a}.csv" for s in subjects for a in moving]
        public = [w / s / f"{s}_01_klud.csv" for s in subjects]
        for seed in scenario_seeds:
            with tempfile.TemporaryDirectory() as tmp:
                yml = Path(tmp) / "pipeline.yaml"
                yml.write_text(text)
                t0 = time.perf_counter()
                f = calibrate_augmentation(device_records=[str(p) for p in device],
                                           public=[str(p) for p in public], pipeline=str(yml),
                                           out=Path(tmp) / "cal.yaml",
                                           report_dir=Path(tmp) / "report", budget=budget,
                                           window_s=5.0, quiet=True, group_by="subject",
                                           seed=seed, **options)
                wall = time.perf_counter() - t0
            d = f.distances_
            for label, what in (("raw", "gel/rest, not augmented"),
                                ("initial", "pipeline as written"),
                                ("calibrated", "pipeline calibrated")):
                g = d[label]["auc_grouped"]
                # The same features under 10 other fold splits: how much of an AUC difference
                # is the split (the fitter's AUC is one seed of 3 x 5-fold).
                folds = [classifier_auc(f.features_["device"], f.features_[label],
                                        random_state=s) for s in range(10)]
                print(f"| {title} | {what} | {seed} | {d[label]['energy']:.3f} | "
                      f"{d[label]['auc']:.3f} | {d[label]['auc'] - 0.5:+.3f} | "
                      f"{np.mean(folds):.3f} ± {np.std(folds):.3f} | "
                      f"{'–' if g is None else f'{g:.3f}'} |")
            params = ", ".join(f"{k.split('__')[-1] if 'scale' not in k else k} {v:.3g}"
                               for k, v in f.best_params_.items())
            rows, auc_all = f.feature_giveaways()
            give = ", ".join(f"{r['name']} alone {r['auc_alone']:.2f} / without "
                             f"{r['auc_without']:.2f}" for r in rows[:4]
                             if r["auc_without"] is not None)
            notes.append(f"{title} (seed {seed}): {len(f.features_['device'])} device windows, "
                         f"{len(f.features_['calibrated'])} augmented public windows, "
                         f"{wall:.0f} s; calibrated: {params}; gives it away (AUC "
                         f"{auc_all:.3f} with all features): {give}")
    print()
    if quick:
        print(f"- quick mode: budget {budget}, one seed; the real-data search needs about 200 "
              "evaluations (the README's numbers), so expect a higher calibrated AUC here")
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
    bench_real(budget=60 if quick else 200, quick=quick)
    if "--demo" in argv:
        bench_demo()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
