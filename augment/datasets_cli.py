"""``shirtecg augment run`` and ``shirtecg augment preview``: datasets in, augmented datasets out.

Examples::

    shirtecg augment run --dataset synthetic --n-records 200 --pipeline wearable --copies 4 \\
        --out aug_synth --workers 2
    shirtecg augment run --dataset ptbxl --root PTB-XL/ --pipeline displacement --copies 5 \\
        --folds 1-8 --format ptbxl --out ptbxl_aug --workers 8
    shirtecg augment preview --dataset wfdb --root cinc2021 --record HR06000 \\
        --pipeline wearable --png preview.png
"""

from __future__ import annotations

import sys

from shirtecg_common.cli import add_quiet


def _add_dataset_args(p, *, needs_root_help):
    p.add_argument("--dataset", required=True, choices=("ptbxl", "sph", "wfdb", "synthetic"),
                   help="dataset layout to read")
    p.add_argument("--root", help=needs_root_help)
    p.add_argument("--sfreq", type=float, default=500.0,
                   help="sampling rate of the records (Hz; PTB-XL: 100 or 500 picks the folder)")
    p.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                   help="crop every record to its first SECONDS (needed for varying lengths)")
    p.add_argument("--windows", action="store_true",
                   help="SPH: cut records into consecutive --duration windows instead of cropping")
    p.add_argument("--n-records", type=int, default=100, help="synthetic: number of records")
    p.add_argument("--pipeline", required=True, metavar="PRESET|YAML",
                   help="preset name (base, displacement, wearable) or a pipeline YAML file")
    p.add_argument("--profile", metavar="PROFILE.yaml", help="noise profile for fitted noise")
    p.add_argument("--seed", type=int, default=0, help="seed of the run (default 0)")


def add_commands(sub):
    """Add ``run`` and ``preview`` to the ``shirtecg augment`` sub-parser set ``sub``."""
    p = sub.add_parser("run", help="augment a dataset to HDF5 shards or a PTB-XL-layout folder",
                       description=run_command.__doc__)
    _add_dataset_args(p, needs_root_help="dataset folder (not needed for synthetic)")
    p.add_argument("--copies", type=int, required=True, help="augmented copies per record")
    p.add_argument("--out", required=True, help="output folder (an interrupted run resumes)")
    p.add_argument("--format", default="hdf5", choices=("hdf5", "ptbxl"), help="output layout")
    p.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")
    p.add_argument("--shard", metavar="k/N", help="process only slice k of N (job arrays)")
    p.add_argument("--shard-size", type=int, default=256, help="records per shard file")
    p.add_argument("--folds", metavar="LIST", help="only these folds, e.g. 1-8 or 9,10")
    p.add_argument("--include-original", action="store_true",
                   help="store each original record too (copy -1)")
    p.add_argument("--labels", metavar="YAML", help="label map (default: the ten-class map)")
    p.add_argument("--on-error", default="raise", choices=("raise", "skip"),
                   help="a broken record stops the run (raise) or is skipped and reported")
    add_quiet(p)
    p.set_defaults(func=run_command)

    p = sub.add_parser("preview", help="PNG of one record, original vs augmented (12-lead grid)",
                       description=preview_command.__doc__)
    _add_dataset_args(p, needs_root_help="dataset folder (not needed for synthetic)")
    p.add_argument("--record", required=True, help="record id (e.g. HR06000, 17, syn000003)")
    p.add_argument("--png", required=True, help="output PNG file")
    p.add_argument("--copy", type=int, default=0, help="which augmented copy to draw")
    p.set_defaults(func=preview_command)


def _reader(args, on_error="raise"):
    from augment.datasets import make_reader

    return make_reader(args.dataset, args.root, sfreq=args.sfreq, duration_s=args.duration,
                       on_error=on_error, n_records=args.n_records, seed=args.seed,
                       windows=args.windows)


def _pipeline(args):
    """The pipeline and its profile's content hash (or None)."""
    import augment

    profile = None
    if args.profile:
        from noise_profiles import load_profile

        profile = load_profile(args.profile)
    pipeline = augment.load_pipeline(args.pipeline, profile=profile)
    return pipeline, (profile.content_hash() if profile is not None else None)


def run_command(args):
    """Augment every record of a dataset COPIES times; write HDF5 shards or PTB-XL layout."""
    if args.workers > 1:  # the workers' fork server imports while this process does
        from augment.output.pool import start_server

        start_server()
    from augment.datasets import load_label_map, parse_folds
    from augment.output import parse_shard, run_augmentation

    reader = _reader(args, on_error=args.on_error)
    pipeline, profile_hash = _pipeline(args)
    dropped = getattr(pipeline, "dropped_steps", None)
    if dropped and not args.quiet:
        print(f"note: no --profile given, so these steps that need one are left out: "
              f"{', '.join(dropped)}", file=sys.stderr)
    label_map = load_label_map(args.labels)
    summary = run_augmentation(
        reader, pipeline, args.out, copies=args.copies, fmt=args.format, workers=args.workers,
        shard=parse_shard(args.shard) if args.shard else None, seed=args.seed,
        folds=parse_folds(args.folds), include_original=args.include_original,
        label_map=label_map, shard_size=args.shard_size, profile_hash=profile_hash,
        quiet=True if args.quiet else None, source_root=args.root)
    if not args.quiet:
        state = "complete" if summary["complete"] else "partial (other shards still to run)"
        print(f"{summary['n_done']} records processed ({summary['rate']:,.0f} records/s); "
              f"{summary['n_skipped']} skipped; run {state}: {args.out}", file=sys.stderr)
        print(_timing_line(summary), file=sys.stderr)
        for rec, why in summary["skipped"][:20]:
            print(f"  skipped {rec}: {why}", file=sys.stderr)
    return 0


def _timing_line(summary):
    """Where the time went: wall seconds per phase, CPU ms per record per stage."""
    wall = summary["wall_s"]
    parts = [f"setup {wall['setup']:.2f} s"]
    if "workers_ready" in wall:
        parts.append(f"workers ready after {wall['workers_ready']:.2f} s")
    parts += [f"work {wall['work']:.2f} s", f"assemble {wall['assemble']:.2f} s"]
    n = max(summary["n_done"], 1)
    cpu = ", ".join(f"{k} {1000 * v / n:.3f}" for k, v in summary["cpu_s"].items())
    return f"time: {', '.join(parts)}; CPU ms/record: {cpu}"


def preview_command(args):
    """Draw one record as a 12-lead ECG on paper grid: original above, augmented below."""
    from augment.preview import preview_record

    reader = _reader(args)
    pipeline, _ = _pipeline(args)
    path = preview_record(reader, args.record, pipeline, args.png, seed=args.seed,
                          copy=args.copy)
    print(f"wrote {path}", file=sys.stderr)
    return 0
