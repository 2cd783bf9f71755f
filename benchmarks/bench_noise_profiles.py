"""Noise profiles: realism against two baselines, in the same run, and speed.

Each source is cut into a fitting half and a held-out half; the spectral profile (with and
without the quiet/burst regime model, :mod:`noise_profiles.regimes`), the VAR
profile, white noise at the recorded RMS and a per-channel AR(12) (FECGSYN-style) are
fitted on the first half and validated on the second. Sources: emulator-like sessions per
activity (``acquisition.activity_noise`` when present, else ``noise_profiles.simulate``),
the real wearable AD8232 recordings (dry 02 / textile 03 × walk / run / arm, after
``noise_from_ecg``) and the NSTDB 10-s excerpts (5 s per half: too short for low bands).
Every metric is averaged over validation seeds; a last table says, metric by metric, whether
the spectral profile meets a target wherever the two recorded halves meet it. Then: fit time
for 30 min × 8 ch × 500 Hz and records/s sampled from a bank.

``python benchmarks/run.py noise_profiles [-- --quick] [-- --sessions 7,21,33]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def _emulator(activity, n_ch, n, sfreq, seed):
    try:
        from acquisition.activity_noise import synthesize
    except ImportError:
        from noise_profiles.simulate import activity_noise

        return activity_noise(activity, n_ch, n, sfreq, random_state=seed), "simulate"
    return np.asarray(synthesize(activity, n_ch, n, sfreq, seed), float), "acquisition"


def _sources(quick, sessions=(7,)):
    from noise_profiles import noise_from_ecg
    from noise_profiles.recordings import read_recording

    seconds = 120 if quick else 600
    for session in sessions:
        for act in ("rest", "sitting", "walking", "arm_movement"):
            try:
                x, origin = _emulator(act, 8, int(seconds * 500), 500.0, session)
            except (KeyError, ValueError):
                continue
            yield f"emulator ({origin}) {act} s{session}", act, x, 500.0
    wear = DATA / "wearable_motion_artifacts"
    for subject in ("01", "03"):
        for elec, name in (("02", "dry"), ("03", "textile")):
            for code in ("chodza", "beh", "ruky"):
                path = wear / subject / f"{subject}_{elec}_{code}.csv"
                if path.is_file():
                    raw = read_recording(path)
                    noise, _ = noise_from_ecg(raw)
                    act = raw.annotations.description[0]
                    yield f"wearable {subject} {name} {act}", act, noise.get_data(), 500.0
        if quick:
            break
    from scipy.io import loadmat

    for rec in ("bwm", "emm", "mam"):
        path = DATA / "nstdb_excerpts" / f"{rec}.mat"
        if path.is_file():
            volts = loadmat(path)["val"].astype(float) / 200 * 1e-3      # counts -> mV -> V
            yield f"NSTDB {rec[:2]}", rec[:2], volts, 360.0


_METRICS = (("lsd_db", "LSD"), ("coherence_error", "coherence error"),
            ("kurtosis_rel_error", "kurtosis error"), ("auc", "AUC"))
#: the classifier's grouped 3-fold split needs three blocks of 5 windows a side
_MIN_AUC_WINDOWS = 15
_MODELS = ("recorded 1st half (floor)", "spectral", "spectral, no regimes", "var", "white",
           "AR(12)")


def _realism(quick, sessions=(7,)):
    from noise_profiles import fit, validate
    from noise_profiles.baselines import ARBaseline, RecordedNoiseBaseline, WhiteNoiseBaseline
    from noise_profiles.sessions import make_raw
    from noise_profiles.validation import meets_target

    n_seeds = 2 if quick else 4
    print("Fit on the first half, validated on the held-out second half. The first row of each "
          "source compares the two recorded halves: the floor set by the recording's own "
          f"non-stationarity. Every metric is the mean over validation seeds 0-{n_seeds - 1} "
          "(synthesis and the classifier's fold draws change; the fitted model does not): one "
          "seed's AUC moves by about ±0.04 on the 300-s emulator halves and ±0.1 on the 30-s "
          "wearable halves. The AUC range over the seeds is in brackets; 'passes' judges "
          "the means.\n")
    print("| source | model | LSD dB | coh err | kurt err | AUC | passes |")
    print("|---|---|---|---|---|---|---|")
    results = []
    for label, act, x, sfreq in _sources(quick, sessions):
        h = x.shape[1] // 2
        train, test = make_raw(x[:, :h], sfreq, act), make_raw(x[:, h:2 * h], sfreq, act)
        builders = {"recorded 1st half (floor)": lambda: RecordedNoiseBaseline().fit(train),
                    "spectral": lambda: fit(train),
                    "spectral, no regimes": lambda: fit(train, regimes=False),
                    "var": lambda: fit(train, model="var"),
                    "white": lambda: WhiteNoiseBaseline().fit(train),
                    "AR(12)": lambda: ARBaseline().fit(train)}
        res = {}
        for name in _MODELS:
            fitted, win = builders[name](), min(2.0, h / sfreq / 8)
            runs = [validate(fitted, test, random_state=k, window_s=win).summary[act]
                    for k in range(n_seeds)]
            s = {key: float(np.mean([r[key] for r in runs])) for key, _ in _METRICS}
            s["n_windows"] = int(runs[0]["seconds"] // runs[0]["window_s"])
            aucs = [r["auc"] for r in runs]
            s["passes"] = all(meets_target(key, s[key]) for key, _ in _METRICS)
            res[name] = s
            print(f"| {label} | {name} | {s['lsd_db']:.2f} | {_f(s['coherence_error'])} | "
                  f"{100 * s['kurtosis_rel_error']:.0f} % | {_f(s['auc'])} "
                  f"[{min(aucs):.2f}-{max(aucs):.2f}] | {'yes' if s['passes'] else 'no'} |",
                  flush=True)
        results.append((label, res))
    _wins([r for _, r in results])
    _reachable(results)


def _reachable(results):
    """Bars the recording's own halves meet, and whether the spectral profile meets them.

    A metric the two recorded halves miss (the recording changed between them) is out of
    reach for any model fitted on one half; the gaps worth work are the others.
    """
    from noise_profiles.validation import meets_target

    print("\nPer metric, against the targets (LSD ≤ 1.5 dB, coherence error ≤ 0.1, kurtosis "
          "within ±25 %, AUC ≤ 0.6): where the two recorded halves meet a target, does the "
          "spectral profile meet it too?\n")
    print("| source | " + " | ".join(m[1] for m in _METRICS) + " |")
    print("|---|" + "---|" * len(_METRICS))
    reach = met = beyond = out = 0
    gaps = []
    for label, res in results:
        cells = []
        for key, name in _METRICS:
            floor, ours = res[_MODELS[0]][key], res["spectral"][key]
            if not np.isfinite(floor):
                cells.append("n/a")
                continue
            if key == "auc" and res[_MODELS[0]]["n_windows"] < _MIN_AUC_WINDOWS:
                # two blocks a side: each fold tests one block against one; AUC 0 or 1 by chance
                cells.append(f"too short ({res[_MODELS[0]]['n_windows']} windows a side)")
                continue
            floor_ok, ours_ok = meets_target(key, floor), meets_target(key, ours)
            if floor_ok:
                reach += 1
                met += ours_ok
                cells.append("met" if ours_ok else "**missed**")
                if not ours_ok:
                    gaps.append(f"{label}: {name}")
            else:
                out += 1
                beyond += ours_ok
                cells.append("met (halves miss)" if ours_ok else "halves miss")
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(f"\nSpectral profile: meets {met} of the {reach} (source, metric) targets the "
          f"recorded halves meet; of the {out} the halves miss, it still meets {beyond}. "
          "'too short': halves with fewer than "
          f"{_MIN_AUC_WINDOWS} windows, where the cross-validated AUC is not an estimate.")
    if gaps:
        print("Missed where the halves meet it: " + "; ".join(gaps) + ".")


def _wins(results):
    """How often each model does better than each baseline, metric by metric."""
    print("\nSources where the model is better (lower) than the baseline, per metric "
          "(coherence: multichannel sources only):\n")
    print("| model | vs | " + " | ".join(m[1] for m in _METRICS) + " |")
    print("|---|---|" + "---|" * len(_METRICS))
    for ours in ("spectral", "var"):
        for base in ("white", "AR(12)"):
            cells = []
            for key, _ in _METRICS:
                pairs = [(r[ours][key], r[base][key]) for r in results
                         if np.isfinite(r[ours][key]) and np.isfinite(r[base][key])]
                cells.append(f"{sum(a < b for a, b in pairs)}/{len(pairs)}")
            print(f"| {ours} | {base} | " + " | ".join(cells) + " |")


def _f(v):
    return "n/a" if not np.isfinite(v) else f"{v:.3f}"


def _speed(quick):
    from noise_profiles import fit
    from noise_profiles.baselines import ARBaseline
    from noise_profiles.sessions import make_raw
    from noise_profiles.simulate import activity_noise

    minutes = 5 if quick else 30
    x = activity_noise("walking", 8, int(minutes * 60 * 500), 500.0, random_state=1)
    raw = make_raw(x, 500.0, "walking")
    print("\n| task | shirtecg | AR(12) baseline | target |")
    print("|---|---|---|---|")
    t = time.perf_counter()
    fit(raw)
    t_fit = time.perf_counter() - t
    t = time.perf_counter()
    ARBaseline().fit(raw)
    t_ar = time.perf_counter() - t
    print(f"| fit {minutes} min × 8 ch × 500 Hz (spectral) | {t_fit:.2f} s | {t_ar:.2f} s | "
          f"≤ 10 s for 30 min |")
    t = time.perf_counter()
    fit(raw, model="var")
    print(f"| fit {minutes} min × 8 ch × 500 Hz (var) | {time.perf_counter() - t:.2f} s | | |")
    x12 = activity_noise("walking", 12, int(300 * 500), 500.0, random_state=2)
    p12 = fit(make_raw(x12, 500.0, "walking"))
    t = time.perf_counter()
    bank = p12.noise_bank(500.0, seconds=120, random_state=0)
    t_bank = time.perf_counter() - t
    rng = np.random.default_rng(0)
    n = 20000
    t = time.perf_counter()
    for _ in range(n):
        bank.crop(5000, rng)
    rate = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(20):
        p12.sample(5000, 500.0, random_state=rng)
    direct = 20 / (time.perf_counter() - t)
    print(f"| 10 s × 12 leads from a bank | {rate:,.0f} records/s | | ≥ 2,000 records/s |")
    print(f"| 10 s × 12 leads, direct sample() | {direct:,.0f} records/s | | |")
    print(f"| render a 120-s 12-lead bank | {t_bank:.2f} s | | |")


def main(argv=None):
    """Print the realism and speed tables (``--quick``: shorter sources)."""
    p = argparse.ArgumentParser(prog="bench_noise_profiles")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--sessions", default="7",
                   help="emulator session seeds, comma-separated (default 7)")
    args = p.parse_args(argv)
    _realism(args.quick, tuple(int(v) for v in args.sessions.split(",")))
    _speed(args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
