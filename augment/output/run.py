"""``shirtecg augment run``: a dataset through a pipeline to an augmented dataset on disk.

The run is planned before any signal is read: the reader's records (optionally only some
folds) are cut into shards of ``shard_size`` records, in the reader's stable order. Each shard
is one unit of work, of parallelism (``workers``), of cluster splitting (``shard=(k, N)`` takes
shards ``k-1, k-1+N, …``) and of resumption (a complete shard is never redone). When every shard
of the plan is complete, ``manifest.csv`` (and for ``fmt="ptbxl"`` ``ptbxl_database.csv``) are
assembled from the per-shard manifests. ``run.json`` freezes the settings and the hashes of
pipeline, profile and label map; re-running into the same folder with other settings is an error.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import time
from pathlib import Path

from augment.datasets.labels import load_label_map
from augment.output import pool as _pool
from augment.output.shard import MANIFEST_COLUMNS, ShardJob, clean_partial, shard_done, shard_stem
from shirtecg_common.errors import UserError
from shirtecg_common.files import atomic_write_text, tmp_name
from shirtecg_common.progress import Progress

RUN_SCHEMA = "shirtecg-augment-run/1"
FORMATS = ("hdf5", "ptbxl")


def parse_shard(text):
    """``"2/8"`` → ``(2, 8)``; k counts from 1."""
    try:
        k, n = (int(v) for v in str(text).split("/"))
    except ValueError:
        raise UserError(f"--shard must look like k/N (e.g. 3/8), got {text!r}") from None
    if not 1 <= k <= n:
        raise UserError(f"--shard {text}: k must be between 1 and N")
    return k, n


def _sha256_text(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_augmentation(reader, pipeline, out, *, copies, fmt="hdf5", workers=1, shard=None,
                     seed=0, folds=None, include_original=False, label_map=None,
                     shard_size=256, profile_hash=None, quiet=None, source_root=None):
    """Augment every record of ``reader`` ``copies`` times and write the result to ``out``.

    Parameters
    ----------
    reader : augment.datasets.BaseReader
        Where the records come from.
    pipeline : augment Pipeline
        Called as ``pipeline(x (n, 12, T), sfreq, random_state=[seed sequences])``.
    out : str | Path
        Output folder (created; an earlier run of the same settings there is resumed).
    copies : int
        Augmented copies per record; copy ``c`` of record ``r`` uses
        ``record_seed_sequence(seed, r, c)``.
    fmt : {"hdf5", "ptbxl"}
        HDF5 shards, or a PTB-XL-layout WFDB folder.
    workers : int
        Processes (forked from a fork server, see :mod:`augment.output.pool`); 1 works in
        this process. The output does not depend on it.
    shard : (k, N) | None
        Process only the k-th of N interleaved slices of the shards (cluster job arrays).
    seed : int
        Seed of the run.
    folds : sequence of int | None
        Keep only records in these folds (copies keep their source patient's fold).
    include_original : bool
        Also store each original record (``copy`` = -1 in the manifest).
    label_map : LabelMap | None
        Classes for the ``labels`` column and HDF5 ``labels``; default the packaged map.
    shard_size : int
        Records per shard.
    profile_hash : str | None
        Content hash of the noise profile the pipeline uses (provenance).
    quiet : bool | None
        Progress output (None: only on a terminal).
    source_root : path | None
        The dataset folder (recorded in ``run.json``; PTB-XL's ``scp_statements.csv`` is copied).

    Returns
    -------
    summary : dict
        ``n_records`` planned, ``n_done`` processed now, ``n_skipped``, ``complete`` (all
        shards of the plan done), ``rate`` (records/s), ``skipped`` (list); where the time
        went: ``cpu_s`` (CPU seconds of the stages ``read``, ``augment``, ``write``, all
        processes) and ``wall_s`` (``setup``: planning and freezing, ``work``, ``assemble``,
        and with workers ``workers_ready``: from starting them to the last one ready).
    """
    t_start = time.time()
    if fmt not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if int(copies) < 1:
        raise UserError(f"--copies must be >= 1, got {copies}")
    if int(workers) < 1:
        raise UserError(f"--workers must be >= 1, got {workers}")
    if int(shard_size) < 1:
        raise UserError(f"shard_size must be >= 1, got {shard_size}")
    label_map = load_label_map() if label_map is None else label_map
    folds = sorted({int(f) for f in folds}) if folds else None  # () and None mean all folds
    out = Path(out)
    infos = reader.index(folds)
    if not infos:
        raise UserError(f"{reader.name}: no records" + (f" in folds {list(folds)}" if folds
                                                          else ""))
    plan = [infos[i:i + shard_size] for i in range(0, len(infos), shard_size)]
    (out / "shards").mkdir(parents=True, exist_ok=True)
    _freeze(out, reader, pipeline, label_map, fmt=fmt, copies=copies, seed=seed, folds=folds,
            include_original=include_original, shard_size=shard_size, n_records=len(infos),
            n_shards=len(plan), profile_hash=profile_hash, source_root=source_root)

    mine = range(len(plan)) if shard is None else range(shard[0] - 1, len(plan), shard[1])
    todo = [s for s in mine if not shard_done(out, s)]
    for s in todo:
        clean_partial(out, s)
    job = ShardJob(reader=reader, pipeline=pipeline, label_map=label_map, out=out, fmt=fmt,
                   copies=copies, include_original=include_original, seed=seed,
                   shard_size=shard_size)
    n_todo = sum(len(plan[s]) for s in todo)
    skipped, ready = [], []
    t_setup = time.time()
    with Progress(total=n_todo, desc=f"augment {reader.name}", unit="records",
                  quiet=quiet) as progress:
        if workers == 1 or len(todo) <= 1:
            for s in todo:
                _, sk = job.run_shard(s, plan[s], progress=progress.update)
                skipped.extend(sk)
        else:
            skipped, ready = _pool.run_parallel(job, plan, todo, workers, progress, out)
        rate = progress.rate
    t_work = time.time()
    complete = all(shard_done(out, s) for s in range(len(plan)))
    if complete:
        _assemble(out, len(plan), fmt)
    wall_s = {"setup": t_setup - t_start, "work": t_work - t_setup,
              "assemble": time.time() - t_work}
    if ready:  # from starting the pool to the last worker being ready
        wall_s["workers_ready"] = max(ready) - t_setup
    return {"n_records": len(infos), "n_done": n_todo, "n_skipped": len(skipped),
            "skipped": skipped, "complete": complete, "rate": rate, "n_shards": len(plan),
            "out": str(out), "cpu_s": dict(job.cpu_s), "wall_s": wall_s}


def _freeze(out, reader, pipeline, label_map, *, profile_hash, source_root, **settings):
    """Write ``pipeline.yaml``, ``labels.yaml`` and ``run.json``; refuse a different earlier run."""
    import yaml

    pipe_yaml = yaml.safe_dump(pipeline.to_dict(), sort_keys=True)
    labels_yaml = yaml.safe_dump({"schema": "shirtecg-label-map/1", "classes": {
        name: {"description": label_map.descriptions[name],
               **{s: list(label_map.codes_for(name, s)) for s in ("scp", "aha", "snomed")}}
        for name in label_map.classes}}, sort_keys=False)
    out_sfreq = float(pipeline.output_sfreq(reader.sfreq))
    run = {"schema": RUN_SCHEMA, "dataset": reader.name,
           "source_root": str(Path(source_root).resolve()) if source_root else None,
           "sfreq": reader.sfreq, "duration_s": reader.duration_s,
           "output_sfreq": out_sfreq,
           "output_leads": list(getattr(pipeline, "output_leads", ())) or None,
           **{k: (list(v) if isinstance(v, tuple) else v) for k, v in settings.items()},
           "pipeline_sha256": _sha256_text(pipe_yaml), "profile_sha256": profile_hash,
           "dropped_steps": list(getattr(pipeline, "dropped_steps", None) or []),
           "label_map_sha256": _sha256_text(labels_yaml), "classes": list(label_map.classes)}
    text = json.dumps(run, indent=1, sort_keys=True) + "\n"
    run_path = out / "run.json"
    if run_path.is_file():
        old = json.loads(run_path.read_text(encoding="utf-8"))
        diff = [k for k in sorted(set(old) | set(run)) if old.get(k) != run.get(k)]
        if diff:
            k = diff[0]
            raise UserError(f"{out} already holds a run with other settings ({k}: "
                            f"{old.get(k)!r} there, {run.get(k)!r} now); resume it with the "
                            "same settings or write to a new --out")
    atomic_write_text(out / "pipeline.yaml", pipe_yaml)
    atomic_write_text(out / "labels.yaml", labels_yaml)
    atomic_write_text(run_path, text)
    statements = Path(source_root) / "scp_statements.csv" if source_root else None
    if reader.name == "ptbxl" and settings.get("fmt") == "ptbxl" and statements.is_file():
        # PTB-XL training code aggregates labels through this table; keep it beside the data.
        shutil.copyfile(statements, out / "scp_statements.csv")


def _assemble(out, n_shards, fmt):
    """Concatenate the per-shard manifests into ``manifest.csv`` (and ``ptbxl_database.csv``)."""
    manifest = out / "manifest.csv"
    tmp = tmp_name(manifest)  # per process: several job-array tasks may finish together
    skipped = []
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(MANIFEST_COLUMNS) + "\n")
        for s in range(n_shards):
            stem = shard_stem(out, s)
            f.write(stem.with_suffix(".csv").read_text(encoding="utf-8"))
            skipped.extend(json.loads(stem.with_suffix(".json").read_text("utf-8"))["skipped"])
    tmp.replace(manifest)
    if skipped:
        atomic_write_text(out / "skipped.csv", "record,reason\n" + "".join(
            f"{s['record']},\"{s['reason'].replace(chr(34), chr(39))}\"\n" for s in skipped))
    if fmt == "ptbxl":
        _write_ptbxl_database(out, manifest)


def _write_ptbxl_database(out, manifest):
    import io

    from augment.datasets.labels import load_label_map as _load

    lm = _load(out / "labels.yaml")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["ecg_id", "patient_id", "scp_codes", "strat_fold", "filename_lr", "filename_hr",
                "source_dataset", "source_record", "copy", "seed", "labels"])
    with open(manifest, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["source_dataset"] == "ptbxl":
                codes = [c for c in row["codes"].split(";") if c]
            else:  # other code systems: the first SCP code of each mapped class
                codes = [lm.codes_for(c, "scp")[0] for c in row["labels"].split(";")
                         if c and lm.codes_for(c, "scp")]
            scp = "{" + ", ".join(f"'{c}': 100.0" for c in codes) + "}"
            w.writerow([row["ecg_id"], row["patient_id"], scp, row["fold"], row["filename_lr"],
                        row["filename_hr"], row["source_dataset"], row["source_record"],
                        row["copy"], row["seed"], row["labels"]])
    atomic_write_text(out / "ptbxl_database.csv", buf.getvalue())
