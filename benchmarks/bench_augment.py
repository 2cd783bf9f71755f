"""Augmentation speed: every transform and preset, and the peer libraries, in one run.

``python benchmarks/run.py augment`` (or ``python benchmarks/bench_augment.py``) prints a
Markdown table of records/s on a batch of 256 × 12 × 5000 float32 (10 s at 500 Hz), ONE
thread (``OMP/OPENBLAS/MKL_NUM_THREADS=1``, ``threadpoolctl`` limits, ``torch`` 1 thread),
every record augmented (``p=1`` for single transforms; presets with their own ``p``).
Each row: one warm-up call, then the median of ``--repeats`` calls; the same batch for all.

Peers doing comparable work, side by side (install with ``pip install -e .[bench]``):

* ecg-augmentations 1.0.1: ``Compose[BaselineWander, MuscleNoise, PowerlineNoise,
  BaselineShift, GaussianNoise]`` on a torch tensor (its five-noise chain);
* torch_ecg 0.0.33: ``AugmenterManager[BaselineWanderAugmenter, RandomRenormalize,
  StretchCompress]``, ``prob=1`` each;
* tsaug 0.2.1: ``AddNoise + Drift + TimeWarp`` (channels-last transposes included).

Installing the peers: torch is pinned (2.13.0 CPU) and must never be replaced, so the peers
go in with ``pip install --no-deps ecg-augmentations==1.0.1 torch-ecg==0.0.33 tsaug==0.2.1``
plus torch_ecg's light import-time dependencies, also ``--no-deps``: ``biosppy peakutils
PyWavelets bib-lookup feedparser sgmllib3k beautifulsoup4 soupsieve pybtex Deprecated einops
easydict safetensors tensorboardX protobuf deprecate-kwargs`` (its full list pins
``pandas<3`` and pulls boto3, pyarrow, torch-optimizer …, none needed for the augmenters).
A peer that is not installed gets a row saying so.

The ``wearable + profile`` row uses a real :class:`noise_profiles.NoiseProfile` fitted on
60 s of synthetic noise sessions (channels on I, II and V2; sitting and walking), so the
crop-and-add path runs exactly as with a recorded profile. Peak memory is measured with
``tracemalloc`` (numpy reports its buffers to it) over one call of that pipeline, as a
multiple of the input batch.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

SFREQ = 500.0


def _batch(n, n_times, seed=0):
    from augment.datasets.synthetic import CLASSES, synthesize

    rng = np.random.default_rng(seed)
    names = list(CLASSES)
    base = np.stack([synthesize(names[k % len(names)], rng, SFREQ, n_times) for k in range(16)])
    return np.ascontiguousarray(base[np.arange(n) % len(base)], dtype=np.float32)


def _profile():
    import mne

    from noise_profiles import fit
    from noise_profiles.sessions import make_raw

    rng = np.random.default_rng(1)
    n = int(30 * SFREQ)
    raws = []
    for act, level in (("sitting", 5e-6), ("walking", 4e-5)):
        ch = rng.standard_normal((3, n)) * level
        ch[1] += 0.6 * ch[0]
        raws.append(make_raw(ch, SFREQ, act, ch_names=["a", "b", "c"],
                             ch_leads=["I", "II", "V2"]))
    return fit(mne.concatenate_raws(raws))


def _time(fn, repeats, fresh=None):
    """``(wall, cpu)`` seconds per call: medians over ``repeats`` after one warm-up.

    CPU time (``time.process_time``) is reported next to wall time because benchmark
    machines are often shared: on one thread it is the work the call really costs.
    """
    if fresh is not None:
        fresh()
    fn()  # warm-up: caches (noise banks, filters), page faults
    walls, cpus = [], []
    for _ in range(repeats):
        if fresh is not None:
            fresh()
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def _ours(x, profile, presets_only=False):
    """``[(label, callable)]`` for every transform at p=1 and every preset."""
    import augment
    from augment.transforms import transform_group

    rows = []
    registry = augment.transform_registry(include_compositions=False)
    for name, cls in ({} if presets_only else registry).items():
        kwargs = {"p": 1.0}
        if getattr(cls, "requires_profile", False):
            kwargs["profile"] = profile
        if name == "Resample":
            kwargs["target_sfreq"] = 250.0
        if name == "FrequencyResponse":
            kwargs.update(highpass_hz=0.5, lowpass_hz=40.0)
        t = cls(**kwargs)
        rows.append((f"{transform_group(cls)}: {name}", _call(t, x)))
    for preset, prof, label in (("base", None, "preset base"),
                                ("displacement", None, "preset displacement"),
                                ("wearable", None, "preset wearable (no profile)"),
                                ("wearable", profile, "preset wearable + profile noise")):
        rows.append((label, _call(augment.load_pipeline(preset, profile=prof), x)))
    return rows


def _call(t, x):
    state = {"seed": 0}

    def run():
        state["seed"] += 1
        return t(x, SFREQ, random_state=state["seed"])
    return run


def _peers(x):
    """``[(label, callable or None, note)]`` for the peer libraries."""
    out = []
    try:
        import torch

        torch.set_num_threads(1)
        xt = torch.from_numpy(x.copy())
    except ImportError as err:
        return [(f"peers (torch missing: {err})", None, "")]
    try:
        import ecg_augmentations as ea

        chain = ea.Compose([ea.BaselineWander(fs=SFREQ), ea.MuscleNoise(fs=SFREQ),
                            ea.PowerlineNoise(fs=SFREQ), ea.BaselineShift(),
                            ea.GaussianNoise()])
        gen = torch.Generator().manual_seed(0)
        out.append(("ecg-augmentations 1.0.1: 5-noise chain", lambda: chain(xt, generator=gen),
                    "torch, batched"))
    except ImportError as err:
        out.append(("ecg-augmentations 1.0.1", None, f"not installed ({err})"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from torch_ecg.augmenters import (
                AugmenterManager,
                BaselineWanderAugmenter,
                RandomRenormalize,
                StretchCompress,
            )
        manager = AugmenterManager(BaselineWanderAugmenter(fs=int(SFREQ), prob=1.0),
                                   RandomRenormalize(prob=1.0), StretchCompress(prob=1.0))
        label = torch.zeros((len(x), 1))
        work = {}

        def run_torch_ecg():
            return manager(work["x"], label)

        def fresh():  # in-place augmenters: a fresh copy per call, outside the timing
            work["x"] = xt.clone()
        out.append(("torch_ecg 0.0.33: wander + renormalize + stretch", (fresh, run_torch_ecg),
                    "torch + NumPy float64 wander"))
    except ImportError as err:
        out.append(("torch_ecg 0.0.33", None, f"not installed ({err})"))
    try:
        import tsaug

        aug = (tsaug.AddNoise(scale=(0.01, 0.05)) + tsaug.Drift(max_drift=(0.1, 0.5),
                                                               n_drift_points=5)
               + tsaug.TimeWarp(n_speed_change=3, max_speed_ratio=(1.1, 1.5)))

        def run_tsaug():
            return np.ascontiguousarray(aug.augment(x.transpose(0, 2, 1)).transpose(0, 2, 1))
        out.append(("tsaug 0.2.1: noise + drift + time warp", run_tsaug, "NumPy, (N, T, C)"))
    except ImportError as err:
        out.append(("tsaug 0.2.1", None, f"not installed ({err})"))
    return out


def _time_peer(fn, repeats):
    if isinstance(fn, tuple):
        fresh, run = fn
        return _time(run, repeats, fresh=fresh)
    return _time(fn, repeats)


def _peak_memory(fn):
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def main(argv=None):
    """Print the table; returns a dict of the measured numbers (for scripts)."""
    parser = argparse.ArgumentParser(prog="bench_augment", description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--n-times", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--presets-only", action="store_true",
                        help="skip the single-transform rows (presets and peers only)")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = _batch(args.batch, args.n_times)
        profile = _profile()
        results = {}
        print(f"batch {args.batch} × 12 × {args.n_times} float32 ({x.nbytes / 1e6:.1f} MB), "
              f"{SFREQ:g} Hz, one thread, median of {args.repeats}\n")
        print("| what | records/s (CPU time) | records/s (wall) | CPU ms / record | notes |")
        print("|---|---:|---:|---:|---|")
        cpu_rate = {}

        def row(label, timing, note=""):
            wall, cpu = timing
            results[label] = args.batch / wall
            cpu_rate[label] = args.batch / cpu
            print(f"| {label} | {args.batch / cpu:,.0f} | {args.batch / wall:,.0f} | "
                  f"{1e3 * cpu / args.batch:.3f} | {note} |", flush=True)
        for label, fn in _ours(x, profile, args.presets_only):
            row(label, _time(fn, args.repeats))
        peers = [] if args.no_peers else _peers(x)
        for label, fn, note in peers:
            if fn is None:
                print(f"| {label} | — | — | — | {note} |", flush=True)
                continue
            row(label, _time_peer(fn, args.repeats), note)
        import augment

        pipe = augment.load_pipeline("wearable", profile=profile)
        peak = _peak_memory(lambda: pipe(x, SFREQ, random_state=123))
        key = "preset wearable + profile noise"
        print(f"\n`wearable` + profile noise: **{cpu_rate[key]:,.0f} records/s** of CPU time "
              f"({results[key]:,.0f} wall) on one thread; peak memory {peak / 1e6:.0f} MB = "
              f"**{peak / x.nbytes:.2f}× the batch** (tracemalloc, output included).")
        for label, _, _ in peers:
            if label in results:
                print(f"- {cpu_rate[key] / cpu_rate[label]:.1f}× {label} (CPU time; "
                      f"{results[key] / results[label]:.1f}× by wall time)")
        results["cpu_records_per_s"] = cpu_rate
        results["peak_memory_x_batch"] = peak / x.nbytes
        return results


if __name__ == "__main__":
    main()
