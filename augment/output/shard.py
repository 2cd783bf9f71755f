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
import time
from pathlib import Path

import numpy as np

from augment.datasets.labels import SYSTEM_OF_SOURCE
from augment.leads import LEADS_12
from augment.output.writers import HDF5ShardWriter, write_ptbxl_sample
from shirtecg_common.errors import UserError
from shirtecg_common.files import atomic_write_text
from shirtecg_common.random import record_seed_sequence

MANIFEST_COLUMNS = ("sample_id", "shard", "index", "source_dataset", "source_record",
                    "patient_id", "fold", "labels", "codes", "copy", "augmented", "seed",
                    "ecg_id", "filename_lr", "filename_hr", "parameters")


#: Stages of a shard whose CPU time :class:`ShardJob` measures.
STAGES = ("read", "augment", "write")


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
        #: CPU seconds this process spent in each stage (``read``, ``augment``, ``write``).
        self.cpu_s = dict.fromkeys(STAGES, 0.0)

    @property
    def per_record(self):
        return self.copies + int(self.include_original)

    def run_shard(self, shard, infos, progress=None):
        """Process shard ``shard`` (records ``infos``); return ``(n_records_done, skipped)``.

        The CPU time of each stage is added to :attr:`cpu_s`.
        """
        clock = time.process_time
        cpu = self.cpu_s
        reader, pipeline = self.reader, self.pipeline
        system = SYSTEM_OF_SOURCE[reader.name]
        stem = shard_stem(self.out, shard)
        out_sfreq = float(pipeline.output_sfreq(reader.sfreq))
        out_leads = tuple(getattr(pipeline, "output_leads", LEADS_12))
        writer = None
        rows, skipped = [], []
        labels = _LabelCache(self.label_map, system)
        index = 0
        n_done = 0
        try:
            for b0 in range(0, len(infos), self.batch_records):
                batch_infos = infos[b0:b0 + self.batch_records]
                before = len(reader.skipped)
                t0 = clock()
                records = [r for r in reader.load_many(batch_infos) if r is not None]
                skipped.extend(reader.skipped[before:])
                n_done += len(batch_infos)
                t1 = clock()
                cpu["read"] += t1 - t0
                if records:
                    x, params = self._augment(records, out_sfreq, out_leads)
                    t0 = clock()
                    cpu["augment"] += t0 - t1
                    if self.fmt == "hdf5" and writer is None:
                        writer = HDF5ShardWriter(
                            stem.with_suffix(".h5"), n_leads=len(out_leads),
                            n_times=x.shape[-1], sfreq=out_sfreq, leads=out_leads,
                            classes=self.label_map.classes)
                    rows.extend(self._write(records, x, params, shard, index, writer,
                                            out_sfreq, out_leads, labels, infos))
                    index += len(x)
                    cpu["write"] += clock() - t0
                if progress is not None:
                    progress(len(batch_infos))
            t0 = clock()
            if self.fmt == "hdf5":
                if writer is None:  # every record skipped: an empty, well-formed shard
                    writer = HDF5ShardWriter(stem.with_suffix(".h5"), n_leads=len(out_leads),
                                             n_times=0, sfreq=out_sfreq, leads=out_leads,
                                             classes=self.label_map.classes)
                writer.close()
                writer = None
            atomic_write_text(stem.with_suffix(".csv"), _rows_to_csv(rows))
            atomic_write_text(stem.with_suffix(".json"), json.dumps(
                {"shard": shard, "n_records": len(infos), "n_samples": len(rows),
                 "skipped": [{"record": r, "reason": why} for r, why in skipped]}, indent=1))
        except BaseException:  # Ctrl-C included: no shard file may look complete without its .json
            if writer is not None:
                writer.abort()
            clean_partial(self.out, shard)
            raise
        cpu["write"] += clock() - t0
        return n_done, skipped

    def _augment(self, records, out_sfreq, out_leads):
        """The batch's samples ``(n_records * per_record, leads, T)`` in manifest order, and
        the parameters the pipeline drew for each copy."""
        lengths = {r.signal.shape[1] for r in records}
        if len(lengths) > 1:
            desc = ", ".join(f"{r.record_id}: {r.signal.shape[1]}" for r in records[:4])
            raise UserError(f"records have different lengths ({desc} samples); pick one "
                            "length with --duration SECONDS")
        originals = None
        if self.include_original:  # before the pipeline runs on the same memory
            originals = np.stack([conform_original(r.signal, self.reader.sfreq, out_sfreq,
                                                   out_leads) for r in records])
        x = _stack_signals(records)
        batch = x if self.copies == 1 else np.repeat(x, self.copies, axis=0)
        seeds = [record_seed_sequence(self.seed, r.record_id, c)
                 for r in records for c in range(self.copies)]
        out = np.asarray(self.pipeline(batch, self.reader.sfreq, random_state=seeds),
                         dtype=np.float32)
        params = list(getattr(self.pipeline, "last_parameters", None) or [{}] * len(out))
        if originals is None:
            return out, params
        if originals.shape[-1] != out.shape[-1]:
            raise UserError("--include-original: the pipeline changes the record length "
                            f"({x.shape[-1]} -> {out.shape[-1]} samples at "
                            f"{out_sfreq:g} Hz), so originals cannot share its shards")
        # Each record's original, then its copies (one copy of the batch, in order).
        samples = np.empty((len(records), self.per_record) + out.shape[1:], dtype=np.float32)
        samples[:, 0] = originals
        samples[:, 1:] = out.reshape((len(records), self.copies) + out.shape[1:])
        return samples.reshape((-1,) + out.shape[1:]), params

    def _write(self, records, x, params, shard, index0, writer, out_sfreq, out_leads, labels,
               infos):
        rows = []
        multi_hot, folds, ids = [], [], []
        position = {info.record_id: k for k, info in enumerate(infos)}
        copies = ([-1] if self.include_original else []) + list(range(self.copies))
        j = 0
        for i, rec in enumerate(records):
            info = rec.info
            classes, encoded = labels.get(info.codes)
            codes = ";".join(info.codes)
            for c, copy in enumerate(copies):
                sample_id = (f"{info.source}/{info.record_id}/"
                             + ("orig" if copy < 0 else f"c{copy:03d}"))
                drawn = {} if copy < 0 else params[i * self.copies + copy]
                row = {"sample_id": sample_id, "shard": shard, "index": index0 + j,
                       "source_dataset": info.source, "source_record": info.record_id,
                       "patient_id": info.patient_id, "fold": info.fold,
                       "labels": classes, "codes": codes, "copy": copy,
                       "augmented": int(copy >= 0), "seed": self.seed if copy >= 0 else "",
                       "ecg_id": "", "filename_lr": "", "filename_hr": "",
                       "parameters": _PARAMS_JSON.encode(drawn)}
                if self.fmt == "ptbxl":
                    # ecg_id from the record's place in the run plan: the same whoever writes.
                    g = shard * self.shard_size + position[info.record_id]
                    ecg_id = g * self.per_record + c + 1
                    lr, hr = write_ptbxl_sample(self.out, ecg_id, x[j], out_sfreq, out_leads)
                    row.update(ecg_id=ecg_id, filename_lr=lr, filename_hr=hr)
                rows.append(row)
                multi_hot.append(encoded)
                folds.append(info.fold)
                ids.append(sample_id)
                j += 1
        if writer is not None:
            writer.append(x, np.asarray(multi_hot, dtype=np.uint8).reshape(len(x), -1),
                          np.asarray(folds, dtype=np.int8), ids)
        return rows


#: The manifest's ``parameters`` column (one encoder, not one per row as ``json.dumps``).
_PARAMS_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


class _LabelCache:
    """``(classes joined by ';', multi-hot)`` of a code tuple, computed once per tuple."""

    def __init__(self, label_map, system):
        self.label_map, self.system, self._seen = label_map, system, {}

    def get(self, codes):
        hit = self._seen.get(codes)
        if hit is None:
            hit = self._seen[codes] = (";".join(self.label_map.classes_of(codes, self.system)),
                                       self.label_map.encode(codes, self.system))
        return hit


def _stack_signals(records):
    """``(n, 12, T)`` of the records' signals, without a copy when they already are the
    consecutive rows of one array (what :meth:`BaseReader.load_many` of a batch gives)."""
    first = records[0].signal
    base = first.base
    if (base is not None and base.ndim == 3 and base.shape[0] == len(records)
            and base.flags.c_contiguous and base.dtype == np.float32
            and all(r.signal.base is base for r in records)):
        start = base.__array_interface__["data"][0]
        step = base.strides[0]
        if all(r.signal.__array_interface__["data"][0] == start + k * step
               and r.signal.shape == base.shape[1:] for k, r in enumerate(records)):
            return base
    return np.stack([r.signal for r in records])


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
