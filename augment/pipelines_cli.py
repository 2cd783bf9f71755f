"""``shirtecg augment presets | show | transforms | apply``: pipelines from the command line.

Examples::

    shirtecg augment presets
    shirtecg augment show wearable
    shirtecg augment transforms
    shirtecg augment apply --pipeline displacement --in x.npy --sfreq 500 --out y.npy --seed 1
    shirtecg augment apply --pipeline wearable --profile shirt_profile.yaml \\
        --in ludb/1 --out y.npy            # a WFDB record (or a .fif session), sfreq from the file
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from shirtecg_common.cli import add_quiet
from shirtecg_common.errors import UserError


def add_commands(sub):
    """Add ``presets``, ``show``, ``transforms`` and ``apply`` to ``sub``."""
    p = sub.add_parser("presets", help="list the preset pipelines and their recommended copies")
    p.set_defaults(func=presets_command)

    p = sub.add_parser("show", help="steps, parameters and tunables of a preset or YAML pipeline")
    p.add_argument("pipeline", metavar="PRESET|YAML")
    p.add_argument("--profile", metavar="PROFILE.yaml", help="noise profile (else fitted-noise "
                   "steps are shown as dropped)")
    p.set_defaults(func=show_command)

    p = sub.add_parser("transforms", help="every transform class with its group and defaults")
    p.set_defaults(func=transforms_command)

    p = sub.add_parser("apply", help="augment records from a .npy, .fif or WFDB file into .npy",
                       description=apply_command.__doc__)
    p.add_argument("--pipeline", required=True, metavar="PRESET|YAML")
    p.add_argument("--in", dest="input", required=True, metavar="FILE",
                   help="X.npy ((12, T) or (n, 12, T), mV), a *_raw.fif or a WFDB record")
    p.add_argument("--sfreq", type=float, help="sampling rate in Hz (required for .npy)")
    p.add_argument("--out", required=True, metavar="Y.npy", help="augmented records (float32 mV)")
    p.add_argument("--seed", type=int, default=0, help="seed; record i uses (seed, i)")
    p.add_argument("--profile", metavar="PROFILE.yaml", help="fitted noise profile")
    p.add_argument("--batch-size", type=int, default=256, help="records per batch")
    add_quiet(p)
    p.set_defaults(func=apply_command)


# --------------------------------------------------------------------------- listing
def presets_command(args) -> int:
    """Print each preset: recommended copies, description and steps."""
    from augment.serialization import list_presets, load_pipeline

    for name in list_presets():
        pipe = load_pipeline(name)
        print(f"{name}  ({_copies(pipe.recommended_copies)}× copies)  {pipe.description or ''}")
        print("    " + ", ".join(n for n, _ in pipe.named_transforms))
        if pipe.dropped_steps:
            print(f"    needs a profile for: {', '.join(pipe.dropped_steps)}")
    return 0


def _copies(copies):
    return "–".join(map(str, copies)) if isinstance(copies, (tuple, list)) else str(copies)


def show_command(args) -> int:
    """Print a pipeline's step tree with parameters, then its tunables."""
    from augment.serialization import load_pipeline

    pipe = load_pipeline(args.pipeline, profile=args.profile)
    print(f"pipeline {pipe.name or args.pipeline}: {pipe.description or ''}")
    if pipe.recommended_copies is not None:
        print(f"recommended copies: {_copies(pipe.recommended_copies)}")
    _print_steps(pipe.to_dict()["transforms"], indent="  ")
    if pipe.dropped_steps:
        print(f"dropped (no --profile): {', '.join(pipe.dropped_steps)}")
    if pipe.tunable:
        print("tunable:")
        for key, (lo, hi) in pipe.tunable.items():
            print(f"  {key}: [{lo}, {hi}]")
    return 0


def _print_steps(steps, indent):
    for step in steps:
        params = ", ".join(f"{k}={v}" for k, v in step["params"].items())
        print(f"{indent}{step['name']} ({step['class']}): {params}")
        if "transforms" in step:
            _print_steps(step["transforms"], indent + "    ")


def transforms_command(args) -> int:
    """Print the transform registry: group, class, first docstring line, defaults."""
    from augment.transforms.registry import transform_group, transform_registry

    for name, cls in transform_registry(include_compositions=False).items():
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        print(f"[{transform_group(cls)}] {name}: {doc}")
        defaults = cls().get_params(deep=False)
        print("    " + ", ".join(f"{k}={v!r}" for k, v in defaults.items()))
    return 0


# --------------------------------------------------------------------------- apply
def apply_command(args) -> int:
    """Augment every record of a file with a pipeline; write float32 mV to ``--out``.

    Record ``i`` is seeded by ``(seed, i)``, so its output does not depend on the batch
    size. Beside ``Y.npy`` goes ``Y.json``: output leads, sampling rate and what was
    drawn for each record.
    """
    from augment.serialization import load_pipeline
    from shirtecg_common.progress import Progress
    from shirtecg_common.random import record_seed_sequence

    if args.batch_size < 1:
        raise UserError(f"--batch-size must be >= 1, got {args.batch_size}")
    out_path = Path(args.out)
    if out_path.suffix != ".npy":
        raise UserError(f"--out must name a .npy file, got {args.out}")
    pipe = load_pipeline(args.pipeline, profile=args.profile)
    x, sfreq = read_records(args.input, args.sfreq)
    chunks, params = [], []
    with Progress(total=len(x), desc="augment", unit="records", quiet=args.quiet or None) as bar:
        for start in range(0, len(x), args.batch_size):
            stop = min(start + args.batch_size, len(x))
            seeds = [record_seed_sequence(args.seed, i) for i in range(start, stop)]
            chunks.append(pipe(x[start:stop], sfreq, random_state=seeds))
            params += pipe.last_parameters
            bar.update(stop - start)
    meta = {"pipeline": pipe.to_dict(), "input": str(args.input), "seed": args.seed,
            "sfreq": pipe.output_sfreq(sfreq), "leads": list(pipe.output_leads),
            "dropped_steps": list(pipe.dropped_steps), "parameters": params}
    _write_atomic(out_path, lambda f: np.save(f, np.concatenate(chunks)))
    _write_atomic(out_path.with_suffix(".json"),
                  lambda f: f.write(json.dumps(meta, indent=1).encode("utf-8")))
    print(f"{len(x)} records → {out_path} ({len(meta['leads'])} leads, {meta['sfreq']:g} Hz)",
          file=sys.stderr)
    return 0


def _write_atomic(path, write):
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def read_records(path, sfreq=None):
    """``(x (n, 12, T) float32 mV, sfreq)`` from a .npy, an MNE .fif or a WFDB record.

    ``.npy`` needs ``sfreq``; FIF and WFDB carry their own (a different ``sfreq`` is an
    error). Channels are matched to leads by name (case-insensitive); the 8 independent
    leads (I, II, V1–V6) must be present, the other four are derived.
    """
    from augment import leads as _leads

    text = os.fspath(path)
    p = Path(text)
    if p.suffix == ".npy":
        if sfreq is None:
            raise UserError(f"{text}: a .npy file has no sampling rate; pass --sfreq")
        x = np.load(p, allow_pickle=False)
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or x.shape[1] != 12:
            raise UserError(f"{text}: expected shape (12, T) or (n, 12, T) in the lead order "
                            f"{' '.join(_leads.LEADS_12)}, got {x.shape}")
        return x.astype(np.float32), float(sfreq)
    if p.suffix == ".fif":
        import mne

        raw = mne.io.read_raw_fif(p, preload=True, verbose="error")
        data, names, file_sfreq = raw.get_data() * 1000.0, raw.ch_names, raw.info["sfreq"]
    else:
        import wfdb

        base = str(p.with_suffix("")) if p.suffix in (".hea", ".dat") else text
        if not Path(base + ".hea").is_file():
            raise FileNotFoundError(2, "no such .npy, .fif or WFDB record", text)
        rec = wfdb.rdrecord(base)
        scale = np.array([{"uv": 1e-3, "v": 1e3}.get(u.lower(), 1.0) for u in rec.units])
        data, names, file_sfreq = (rec.p_signal * scale).T, rec.sig_name, rec.fs
    if sfreq is not None and float(sfreq) != float(file_sfreq):
        raise UserError(f"{text}: --sfreq {sfreq:g} differs from the file's {file_sfreq:g} Hz")
    lookup = {n.lower(): k for k, n in enumerate(names)}
    missing = [lead for lead in _leads.INDEPENDENT_LEADS if lead.lower() not in lookup]
    if missing:
        raise UserError(f"{text}: no channel for lead(s) {', '.join(missing)}; channels are "
                        f"{', '.join(names)}")
    x8 = data[[lookup[lead.lower()] for lead in _leads.INDEPENDENT_LEADS]]
    return _leads.derive(np.nan_to_num(x8).astype(np.float32))[None], float(file_sfreq)
