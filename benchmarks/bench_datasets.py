"""Dataset throughput: synthetic records → pipeline → HDF5 shards, end to end.

``python benchmarks/run.py datasets [-- --n-records 10000 --workers 2 --pipeline wearable]``

Each row runs ``python -m shirtecg augment run`` in a fresh process (so imports, worker start-up and
the final manifest are included) and samples the resident memory and CPU time of the whole process
tree from ``/proc`` every 0.1 s (workers forked by the fork server are not children of the run, so
``getrusage`` would miss them). The dataset is run at two sizes to show that peak memory stays flat
(records stream through fixed-size shards). The baseline row is the loop people write first
(one process, one record per pipeline call, one ``h5py`` file appended record by record), run
in the same session, so the ratio compares like with like on this machine.

The breakdown explains the end-to-end number: the run's own account of its wall time (start-up
of the command, planning, worker start-up, work) and the CPU milliseconds per record of each
stage of a shard (read, augment, write), summed over the workers; and the same stages measured
alone in one process.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

_BASELINE = r"""
import sys, time, h5py, numpy as np, augment
from augment.datasets import SyntheticReader
from shirtecg_common.random import record_seed_sequence
n, pipe_name, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
reader, pipe = SyntheticReader(n, sfreq=500.0, duration_s=10.0), augment.load_pipeline(pipe_name)
with h5py.File(out, "w") as f:
    ds = f.create_dataset("ecg", shape=(0, 12, 5000), maxshape=(None, 12, 5000), dtype="f4")
    for i, rec in enumerate(reader):
        seeds = [record_seed_sequence(0, rec.record_id, 0)]
        y = pipe(rec.signal[None], rec.sfreq, random_state=seeds)
        ds.resize(i + 1, axis=0)
        ds[i] = y[0]
"""


_STAGES = r"""
import json, sys, tempfile, time, augment
from pathlib import Path
from augment.datasets import SyntheticReader, load_label_map
from augment.output.shard import ShardJob
n, pipe_name = int(sys.argv[1]), sys.argv[2]
reader, pipe = SyntheticReader(n, sfreq=500.0, duration_s=10.0), augment.load_pipeline(pipe_name)
infos = reader.index()
with tempfile.TemporaryDirectory() as out:
    (Path(out) / "shards").mkdir()
    job = ShardJob(reader=reader, pipeline=pipe, label_map=load_label_map(), out=out,
                   fmt="hdf5", copies=1, include_original=False, seed=0, shard_size=256)
    job.run_shard(99, infos[:64])  # warm-up (noise banks, first allocations)
    job.cpu_s = dict.fromkeys(job.cpu_s, 0.0)
    t = time.perf_counter()
    for k in range(0, n, 256):
        job.run_shard(k // 256, infos[k:k + 256])
    wall = time.perf_counter() - t
print(json.dumps({"cpu_ms": {k: 1000 * v / n for k, v in job.cpu_s.items()},
                  "wall_ms": 1000 * wall / n}))
"""

_TIMING = re.compile(r"time: setup (?P<setup>[\d.]+) s, (?:workers ready after "
                     r"(?P<ready>[\d.]+) s, )?work (?P<work>[\d.]+) s, assemble "
                     r"(?P<assemble>[\d.]+) s; CPU ms/record: read (?P<read>[\d.]+), "
                     r"augment (?P<augment>[\d.]+), write (?P<write>[\d.]+)")


_TICK_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _pss_mb(pid):
    """Proportional set size (MB): shared pages split among the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("Pss:")),
                        0) / 1024
    except OSError:
        return 0.0


def _tree(pid):
    """``{pid: (rss MB, CPU s)}`` of ``pid`` and all its descendants, from /proc."""
    found, stack = {}, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / _TICK_S  # utime + stime
            with open(f"/proc/{p}/status") as f:
                rss = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")),
                           0) / 1024
            found[p] = (rss, cpu)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue
    return found


def _measure(cmd):
    """Run ``cmd``; return (wall s, peak tree RSS MB, peak tree PSS MB, CPU s of the whole
    tree, stderr)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, peak_pss, cpu = [0.0], [0.0], {}

    def poll():
        while proc.poll() is None:
            tree = _tree(proc.pid)
            peak[0] = max(peak[0], sum(rss for rss, _ in tree.values()))
            peak_pss[0] = max(peak_pss[0], sum(_pss_mb(p) for p in tree))
            for p, (_, c) in tree.items():  # last reading per process (misses < 0.1 s each)
                cpu[p] = max(cpu.get(p, 0.0), c)
            time.sleep(0.1)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    _, err = proc.communicate()
    thread.join()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err.decode()[-2000:]}")
    return wall, peak[0], peak_pss[0], sum(cpu.values()), err.decode()


def main(argv=None):
    """Print the throughput / memory table and the time breakdown (Markdown)."""
    ap = argparse.ArgumentParser(prog="bench_datasets", description=__doc__)
    ap.add_argument("--n-records", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--pipeline", default="wearable")
    ap.add_argument("--baseline-records", type=int, default=500)
    args = ap.parse_args(argv)
    load_before = os.getloadavg()[0]
    sizes = sorted({max(args.n_records // 5, 1), args.n_records})
    tmp = Path(tempfile.mkdtemp(prefix="bench_datasets_"))
    rows, timings = [], {}
    try:
        for n in sizes:
            out = tmp / f"run{n}"
            # Not --quiet: its last stderr line is the run's own time account (no progress
            # bar is drawn, stderr is not a terminal).
            cmd = [sys.executable, "-m", "shirtecg", "augment", "run", "--dataset", "synthetic",
                   "--n-records", str(n), "--pipeline", args.pipeline, "--copies", "1",
                   "--out", str(out), "--workers", str(args.workers)]
            wall, peak, pss, cpu, err = _measure(cmd)
            match = _TIMING.search(err)
            if match is None:
                raise RuntimeError(f"no time line in the output of {' '.join(cmd)}:\n{err}")
            timings[n] = (wall, {k: float(v) for k, v in match.groupdict().items()
                                 if v is not None})
            size_gb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e9
            rows.append((f"shirtecg `augment run`, {args.workers} workers", n, wall, peak,
                         pss, size_gb, cpu))
            shutil.rmtree(out)
        nb = args.baseline_records
        wall, peak, pss, cpu, _ = _measure([sys.executable, "-c", _BASELINE, str(nb),
                                            args.pipeline, str(tmp / "baseline.h5")])
        rows.append(("baseline: 1 process, 1 record per call, h5py append", nb, wall, peak,
                     pss, (tmp / "baseline.h5").stat().st_size / 1e9, cpu))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    alone = json.loads(subprocess.run([sys.executable, "-c", _STAGES, "1024", args.pipeline],
                                      capture_output=True, text=True, check=True).stdout)
    base_rate = rows[-1][1] / rows[-1][2]
    print(f"synthetic 12-lead records, 10 s at 500 Hz, pipeline `{args.pipeline}`, 1 copy, "
          f"HDF5 float32; cores: {os.cpu_count()}, load average before: "
          f"{load_before:.1f}\n")
    print("| run | records | wall (s) | records/s | vs baseline | CPU ms/record | "
          "peak RSS, process tree (MB) | peak PSS, process tree (MB) | output (GB) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, n, wall, peak, pss, gb, cpu in rows:
        rate = n / wall
        print(f"| {name} | {n:,} | {wall:.1f} | {rate:,.0f} | {rate / base_rate:.2f}× | "
              f"{1000 * cpu / n:.2f} | {peak:,.0f} | {pss:,.0f} | {gb:.2f} |")
    n = max(timings)
    wall, t = timings[n]
    before_run = wall - t["setup"] - t["work"] - t["assemble"]
    print(f"\nWhere the time of the {n:,}-record run went (wall s): command start-up (interpreter, "
          f"imports, pipeline) {before_run:.2f}; planning {t['setup']:.2f}; workers ready "
          f"{t.get('ready', 0.0):.2f} after that; work (incl. worker start-up) {t['work']:.2f}; "
          f"manifest {t['assemble']:.2f}.\n")
    print("| stage, CPU ms/record | read (synthetic) | augment (pipeline) | write (HDF5 + "
          "manifest) | sum | records/s per core |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, ms in ((f"inside the {n:,}-record run (all workers)", t),
                     ("alone, one process, 1,024 records", alone["cpu_ms"])):
        total = ms["read"] + ms["augment"] + ms["write"]
        print(f"| {name} | {ms['read']:.3f} | {ms['augment']:.3f} | {ms['write']:.3f} | "
              f"{total:.3f} | {1000 / total:,.0f} |")
    print(f"\nEnd to end = start-up + records × (sum of the stages) / workers, when the "
          f"{args.workers} cores are free; the machine's other load counts too (rerun on an idle "
          "machine). CPU ms/record of the table above includes start-up and every process. "
          "RSS counts pages the workers share with their fork server once per process; PSS "
          "splits them.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
