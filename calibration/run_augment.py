"""``shirtecg calibrate augment`` as a function: files in, calibrated pipeline YAML + report out."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from calibration.fitter import AugmentationFitter
from calibration.records import describe, load_device_records
from shirtecg_common.errors import UserError
from shirtecg_common.progress import Progress


def embed_12(x, leads):
    """Records measured on some leads → 12-lead records that reproduce them exactly.

    The 8 independent leads are the minimum-norm solution of ``DERIVE_MATRIX[rows] @ x8 = x``
    (unmeasured leads stay 0), so a single-lead record can run through a 12-lead pipeline and
    be read back on its lead.
    """
    from augment.leads import DERIVE_MATRIX, LEADS_12, derive

    rows = [LEADS_12.index(lead) for lead in leads]
    pinv = np.linalg.pinv(DERIVE_MATRIX[rows])  # (8, n_leads)
    x8 = np.einsum("il,nlt->nit", pinv, np.asarray(x, np.float64))
    return derive(x8).astype(np.float32)


def group_labels(ids, group_by):
    """Group label of each window id (``file#k``): its file (``"recording"``) or the file
    name up to its first ``_`` (``"subject"``: the wearable CSVs' ``ID_ELECTRODE_ACTIVITY``)."""
    files = [str(i).split("#")[0] for i in ids]
    if group_by == "recording":
        return files
    if group_by == "subject":
        return [f.split("_")[0] for f in files]
    raise UserError(f"group_by must be 'recording' or 'subject', got {group_by!r}")


def load_public(public, *, n_records, sfreq, window_s, seed=0, csv_lead="II", with_ids=False):
    """Public 12-lead records ``(n, 12, T)`` mV and their rate.

    ``public`` is ``"synthetic"``, a dataset folder (PTB-XL, SPH or WFDB), or a list of record
    files (read like device records, embedded in 12 leads). ``with_ids`` adds a fourth item,
    the ``file#window`` (or record index) of each record.
    """
    from augment.datasets import make_reader

    if isinstance(public, (list, tuple)) and len(public) == 1:
        public = public[0]
    if isinstance(public, (list, tuple)) or Path(str(public)).is_file():
        files = list(public) if isinstance(public, (list, tuple)) else [public]
        recs = load_device_records(files, window_s=window_s, csv_lead=csv_lead)
        out = embed_12(recs.data, recs.leads), recs.sfreq, describe(recs)
        return out + (recs.ids,) if with_ids else out
    if public == "synthetic":
        reader = make_reader("synthetic", sfreq=sfreq, duration_s=window_s, n_records=n_records,
                             seed=seed)
        kind = "synthetic"
    else:
        root = Path(public)
        if not root.is_dir():
            raise UserError(f"--public {public!r}: not 'synthetic', a dataset folder or a file")
        if (root / "ptbxl_database.csv").exists():
            kind = "ptbxl"
        elif (root / "metadata.csv").exists() and (root / "records").is_dir():
            kind = "sph"
        else:
            kind = "wfdb"
        rate = 500.0 if kind != "ptbxl" else (500.0 if sfreq > 100 else 100.0)
        reader = make_reader(kind, root, sfreq=rate, duration_s=window_s, on_error="skip")
        sfreq = rate
    out = []
    for info in reader.index():
        rec = reader.load_or_skip(info)
        if rec is not None:
            out.append(rec.signal)
        if len(out) >= n_records:
            break
    if len(out) < 2:
        raise UserError(f"--public {public}: fewer than 2 readable {window_s:g}-s records "
                        f"(skipped: {len(reader.skipped)})")
    result = np.stack(out).astype(np.float32), float(sfreq), f"{len(out)} {kind} records"
    return result + ([f"{kind}{i}#0" for i in range(len(out))],) if with_ids else result


def device_profile(paths, out_path, *, csv_sfreq=500.0):
    """A noise profile from the device's own ECG recordings (``noise_from_ecg`` on each, then
    ``noise_profiles.fit``), saved at ``out_path``; returns the path."""
    from noise_profiles import fit, noise_from_ecg
    from noise_profiles.recordings import read_recording

    residuals = [noise_from_ecg(read_recording(p, csv_sfreq))[0] for p in paths]
    profile = fit(residuals)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    profile.save(out_path)
    return out_path


def calibrate_augmentation(*, device_records, public, pipeline, profile=None, out, report_dir,
                           budget=40, n_public=60, window_s=10.0, leads=None, activities=None,
                           csv_lead="II", mains_hz=50.0, seed=0, quiet=False, stream=None,
                           search_space=None, objective="energy", profile_from_device=False,
                           group_by="recording", public_window_s=None, n_copies=1):
    """Run the whole calibration; returns the fitted :class:`AugmentationFitter`.

    ``group_by`` (``"recording"``, ``"subject"`` or None) labels the windows for the grouped
    AUC (:func:`group_labels`): its folds never split a group. ``public_window_s`` (longer
    than ``window_s``) cuts the public records longer; after augmentation only their first
    ``window_s`` seconds are compared (room for a time compression, a higher heart rate).
    ``n_copies``: augmented copies of each public record per evaluation.

    With ``profile_from_device`` (and no ``profile``), the profile noise comes from the device
    records themselves: :func:`device_profile` writes ``<out>_profile.yaml`` first.
    """
    import augment
    from calibration.report import write_report

    stream = stream if stream is not None else sys.stdout
    say = (lambda *a: None) if quiet else (lambda msg: print(msg, file=stream, flush=True))
    t0 = time.monotonic()
    dev = load_device_records(device_records, window_s=window_s, leads=leads,
                              activities=activities, csv_lead=csv_lead)
    say(f"device records: {describe(dev)}")
    pub, pub_sfreq, pub_desc, pub_ids = load_public(
        public, n_records=n_public, sfreq=dev.sfreq, window_s=public_window_s or window_s,
        seed=seed,
        csv_lead=csv_lead, with_ids=True)
    groups = {} if group_by is None else {
        "device_groups": group_labels(dev.ids, group_by),
        "public_groups": group_labels(pub_ids, group_by)}
    say(f"public records: {pub_desc} at {pub_sfreq:g} Hz")
    if profile_from_device and profile is None:
        profile = device_profile(device_records, Path(out).with_name(
            Path(out).stem + "_profile.yaml"))
        say(f"profile noise from the device records (noise_from_ecg): {profile}")
    if profile is not None:
        # Absolute: the calibrated YAML names it, and `augment run` may start elsewhere.
        profile = str(Path(profile).resolve())
    pipe = augment.load_pipeline(pipeline, profile=profile)
    bar = Progress(total=budget, desc="calibrating", unit="evals", quiet=quiet or None)

    def progress(i, n, best):
        bar.update(i - bar.n)

    fitter = AugmentationFitter(pipe, search_space=search_space, n_iter=budget,
                                mains_hz=mains_hz, objective=objective, random_state=seed,
                                crop_s=window_s if public_window_s else None, n_copies=n_copies,
                                progress=progress)
    fitter.fit(pub, dev.data, public_sfreq=pub_sfreq, device_sfreq=dev.sfreq,
               device_leads=dev.leads, **groups)
    bar.close()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fitter.best_pipeline_.to_yaml(out)
    report = write_report(fitter, report_dir, calibrated_yaml=str(out), inputs={
        "device records": describe(dev), "public records": f"{pub_desc} ({public})",
        "pipeline": f"{pipeline}" + (f" + profile {profile}" if profile else ""),
    })
    d = fitter.distances_
    say("                 energy    AUC  AUC grouped")
    for label in ("raw", "initial", "calibrated"):
        g = d[label]["auc_grouped"]
        say(f"  {label:<12} {d[label]['energy']:9.3f} {d[label]['auc']:6.3f}  "
            + ("–" if g is None else f"{g:.3f}"))
    say(f"calibrated pipeline: {out}")
    say(f"report: {report}  ({time.monotonic() - t0:.1f} s)")
    return fitter

