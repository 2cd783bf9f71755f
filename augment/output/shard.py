"""Work on one shard: read its records, augment every copy, write the shard and its manifest.

A shard's content depends only on its records, the pipeline and the seed — never on which
process runs it or what ran before — so any worker count and any ``--shard k/N`` split gives
the same bytes. The per-shard manifest rows go to ``shards/shard-NNNNN.csv``; the shard is
complete once ``shards/shard-NNNNN.json`` exists (written last, atomically).
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np

from augment.datasets.labels import SYSTEM_OF_SOURCE
from augment.leads import LEADS_12
from augment.output.writers import HDF5ShardWriter, write_ptbxl_sample
from shirtecg_common.files import atomic_write_text
from shirtecg_common.errors import UserError
from shirtecg_common.random import record_seed_sequence

MANIFEST_COLUMNS = ("sample_id", "shard", "index", "source_dataset", "source_record",
                    "patient_id", "fold", "labels", "codes", "copy", "augmented", "seed",
                    "ecg_id", "filename_lr", "filename_hr", "parameters")


def shard_stem(out, shard):
    return Path(out) / "shards" / f"shard-{shard:05d}"


def shard_done(out, shard) -> bool:
    """Whether shard ``shard`` of the run in ``out`` is complete."""
    return shard_stem(out, shard).with_suffix(".json").is_file()


def conform_original(x, sfreq, out_sfreq, out_leads):
    """Bring an original record to the output's rate and leads (for ``--include-original``)."""
    if out_sfreq != sfreq:
        from scipy.signal import resample_poly

        up, down = _ratio(out_sfreq, sfreq)
        x = resample_poly(x, up, down, axis=-1).astype(np.float32)
    if tuple(out_leads) != LEADS_12:
        missing = [lead for lead in out_leads if lead not in LEADS_12]
        if missing:
            raise UserError(f"--include-original: output lead {missing[0]!r} is not one of the "
                            "12 standard leads, so the original cannot be stored beside it")
        x = x[[LEADS_12.index(lead) for lead in out_leads]]
    return np.ascontiguousarray(x, dtype=np.float32)


def _ratio(a, b):
    a, b = int(round(a)), int(round(b))
    g = math.gcd(a, b)
    return a // g, b // g


class ShardJob:
    """Everything a worker needs (picklable, sent once per worker)."""

    def __init__(self, *, reader, pipeline, label_map, out, fmt, copies, include_original,
                 seed, shard_size, batch_records=64):
        self.reader = reader
        self.pipeline = pipeline
        self.label_map = label_map
        self.out = str(out)
        self.fmt = fmt
        self.copies = int(copies)
        self.include_original = bool(include_original)
        self.seed = int(seed)
        self.shard_size = int(shard_size)
        self.batch_records = int(batch_records)

    @property
    def per_record(self):
        return self.copies + int(self.include_original)

    def run_shard(self, shard, infos, progress=None):
        """Process shard ``shard`` (records ``infos``); return ``(n_records_done, skipped)``."""
        reader, pipeline = self.reader, self.pipeline
        system = SYSTEM_OF_SOURCE[reader.name]
        stem = shard_stem(self.out, shard)
        out_sfreq = float(pipeline.output_sfreq(reader.sfreq))
        out_leads = tuple(getattr(pipeline, "output_leads", LEADS_12))
        writer = None
        rows, skipped = [], []
        index = 0
        n_done = 0
        try:
            for b0 in range(0, len(infos), self.batch_records):
                batch_infos = infos[b0:b0 + self.batch_records]
                records = []
                for info in batch_infos:
                    before = len(reader.skipped)
                    rec = reader.load_or_skip(info)
                    skipped.extend(reader.skipped[before:])
                    if rec is not None:
                        records.append(rec)
                n_done += len(batch_infos)
                if records:
                    x_out, params, originals = self._augment(records, out_sfreq, out_leads)
                    samples = []  # (record, copy, signal, params)
                    for i, rec in enumerate(records):
                        if self.include_original:
                            samples.append((rec, -1, originals[i], {}))
                        for c in range(self.copies):
                            k = i * self.copies + c
                            samples.append((rec, c, x_out[k], params[k]))
                    if self.fmt == "hdf5" and writer is None:
                        writer = HDF5ShardWriter(stem.with_suffix(".h5"), n_leads=len(out_leads),
                                                 n_times=x_out.shape[-1], sfreq=out_sfreq,
                                                 leads=out_leads,
                                                 classes=self.label_map.classes)
                    rows.extend(self._write(samples, shard, index, writer, out_sfreq, out_leads,
                                            system, infos))
                    index += len(samples)
                if progress is not None:
                    progress(len(batch_infos))
            if self.fmt == "hdf5":
                if writer is None:  # every record skipped: an empty, well-formed shard
                    writer = HDF5ShardWriter(stem.with_suffix(".h5"), n_leads=len(out_leads),
                                             n_times=0, sfreq=out_sfreq, leads=out_leads,
                                             classes=self.label_map.classes)
                writer.close()
                writer = None
        finally:
            if writer is not None:
                writer.abort()
        atomic_write_text(stem.with_suffix(".csv"), _rows_to_csv(rows))
        atomic_write_text(stem.with_suffix(".json"), json.dumps(
            {"shard": shard, "n_records": len(infos), "n_samples": len(rows),
             "skipped": [{"record": r, "reason": why} for r, why in skipped]}, indent=1))
        return n_done, skipped

    def _augment(self, records, out_sfreq, out_leads):
        lengths = {r.signal.shape[1] for r in records}
        if len(lengths) > 1:
            desc = ", ".join(f"{r.record_id}: {r.signal.shape[1]}" for r in records[:4])
            raise UserError(f"records have different lengths ({desc} samples); pick one "
                            "length with --duration SECONDS")
        x = np.stack([r.signal for r in records])
        batch = x if self.copies == 1 else np.repeat(x, self.copies, axis=0)
        seeds = [record_seed_sequence(self.seed, r.record_id, c)
                 for r in records for c in range(self.copies)]
        out = np.asarray(self.pipeline(batch, self.reader.sfreq, random_state=seeds),
                         dtype=np.float32)
        params = list(getattr(self.pipeline, "last_parameters", None) or [{}] * len(out))
        originals = None
        if self.include_original:
            originals = [conform_original(r.signal, self.reader.sfreq, out_sfreq, out_leads)
                         for r in records]
            if originals[0].shape[-1] != out.shape[-1]:
                raise UserError("--include-original: the pipeline changes the record length "
                                f"({x.shape[-1]} -> {out.shape[-1]} samples at "
                                f"{out_sfreq:g} Hz), so originals cannot share its shards")
        return out, params, originals

    def _write(self, samples, shard, index0, writer, out_sfreq, out_leads, system, infos):
        rows = []
        labels, folds, ids = [], [], []
        position = {info.record_id: k for k, info in enumerate(infos)}
        for j, (rec, copy, x, params) in enumerate(samples):
            info = rec.info
            classes = self.label_map.classes_of(info.codes, system)
            sample_id = (f"{info.source}/{info.record_id}/"
                         + ("orig" if copy < 0 else f"c{copy:03d}"))
            row = {"sample_id": sample_id, "shard": shard, "index": index0 + j,
                   "source_dataset": info.source, "source_record": info.record_id,
                   "patient_id": info.patient_id, "fold": info.fold,
                   "labels": ";".join(classes), "codes": ";".join(info.codes), "copy": copy,
                   "augmented": int(copy >= 0), "seed": self.seed if copy >= 0 else "",
                   "ecg_id": "", "filename_lr": "", "filename_hr": "",
                   "parameters": json.dumps(params, sort_keys=True, separators=(",", ":"))}
            if self.fmt == "ptbxl":
                # ecg_id from the record's place in the run plan: the same whoever writes it.
                g = shard * self.shard_size + position[info.record_id]
                ecg_id = g * self.per_record + (copy + int(self.include_original)) + 1
                lr, hr = write_ptbxl_sample(self.out, ecg_id, x, out_sfreq, out_leads)
                row.update(ecg_id=ecg_id, filename_lr=lr, filename_hr=hr)
            rows.append(row)
            labels.append(self.label_map.encode(info.codes, system))
            folds.append(info.fold)
            ids.append(sample_id)
        if writer is not None:
            writer.append(np.stack([s[2] for s in samples]),
                          np.asarray(labels, dtype=np.uint8).reshape(len(samples), -1),
                          np.asarray(folds, dtype=np.int8), ids)
        return rows


def _rows_to_csv(rows):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    for row in rows:
        w.writerow(row)
    return buf.getvalue()


def clean_partial(out, shard):
    """Remove leftovers of an interrupted attempt at ``shard`` (temporary files)."""
    stem = shard_stem(out, shard)
    for suffix in (".h5", ".csv", ".json"):
        final = stem.with_suffix(suffix)
        for tmp in final.parent.glob(f".{final.name}.tmp*"):
            tmp.unlink()
        if suffix != ".json" and final.exists() and not shard_done(out, shard):
            final.unlink()  # written before the crash, but the shard never completed
