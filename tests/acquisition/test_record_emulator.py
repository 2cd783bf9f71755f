"""End to end over a real pty: the device emulator (a subprocess) → the recorder → FIF.

The emulator plays back files of known codes, so every sample in the FIF can be checked
bit-exactly against what was sent; its fault log says exactly what it injected. Four
sessions are recorded at the same time (to keep the suite fast): clean and faulty
``shirt-v1`` from random 24-bit codes, and a real wearable ECG recording (AD8232, 12-bit,
500 Hz, from ``../shared/data``) in ``ascii`` and in ``shirt-v1``.
"""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from record_helpers import (
    VPC,
    gap_list,
    logged_lost,
    read_fault_log,
    run_cli,
    start_emulator,
    stop_emulator,
)

from acquisition.device import load_device
from acquisition.protocol import make_step
from acquisition.recorder import Recorder, RecordTimeouts
from acquisition.session import read_session
from acquisition.stream_settings import device_to_dict

FAST = RecordTimeouts(handshake_s=10.0, stall_s=0.3, reconnect_s=4.0, fsync_s=0.2)
CLEAN_STEPS = [make_step("sitting", 0.8, "Sit still."), make_step("arm_movement", 0.8, "Swing.")]
FAULT_STEPS = [make_step("walking", 1.2), make_step("rest", 1.2)]
FAULTS = "drop=0.02,crc=0.01,junk=0.02,stall=0.6@0.6s,unplug=0.4@1.5s"
WEARABLE_CSV = ("wearable_motion_artifacts", "01", "01_03_ruky.csv")  # textile, arm movement
AD8232_VPC = 3.3 / 4096 / 500  # 12-bit ADC at 3.3 V behind the AD8232's gain of 500
AD8232_YAML = f"""\
name: ad8232-wearable
format: ascii
sfreq: 500
channels:
  - {{name: ECG, lead: null}}
scale: {{volts_per_count: {AD8232_VPC!r}}}
adc_bits: 12
"""


def _record(src, tmp, name, steps, extra=(), stream=None, fmt="shirt-v1", device=None):
    sfreq = () if "--sfreq" in extra else ("--sfreq", 500)
    proc, port = start_emulator("--format", fmt, "--playback", src, *sfreq, *extra)
    try:
        return Recorder(port, fmt, tmp, name, steps, timeouts=FAST, device=device,
                        quiet=stream is None, stream=stream).run()
    finally:
        stop_emulator(proc)


def _record_cli(src, tmp, name, steps, extra=()):
    """The same through ``python -m acquisition record`` in its own process: the faulty
    session must read the pty promptly at the unplug, whatever else this process does."""
    protocol = tmp / f"{name}.yaml"
    protocol.write_text("".join(f"- {{activity: {s['activity']}, seconds: {s['seconds']}}}\n"
                                for s in steps))
    proc, port = start_emulator("--format", "shirt-v1", "--playback", src, "--sfreq", 500,
                                *extra)
    try:
        done = run_cli(["record", "--port", port, "--format", "shirt-v1", "--protocol",
                        protocol, "--out", tmp, "--name", name, "--quiet",
                        "--handshake-timeout", FAST.handshake_s, "--stall-timeout",
                        FAST.stall_s, "--reconnect-timeout", FAST.reconnect_s])
    finally:
        stop_emulator(proc)
    assert done.returncode == 0, done.stderr
    return tmp / f"{name}_raw.fif", None


@pytest.fixture(scope="module")
def sessions(tmp_path_factory, request):
    tmp = tmp_path_factory.mktemp("e2e")
    try:
        wearable = request.getfixturevalue("shared_data").joinpath(*WEARABLE_CSV)
    except pytest.skip.Exception:
        wearable = None  # only the wearable test skips, with the fixture's reason
    if wearable is not None:
        (tmp / "device.yaml").write_text(AD8232_YAML)
        ad8232 = device_to_dict(load_device(tmp / "device.yaml"))
    rng = np.random.default_rng(11)
    codes = rng.integers(-2**23, 2**23, size=(3000, 4))
    codes[0] = [2**23 - 1, -2**23, 0, -1]
    src = tmp / "codes.csv"
    np.savetxt(src, codes, fmt="%d", delimiter=",")
    log = tmp / "faults.jsonl"
    src8 = tmp / "codes8.csv"  # the Cyton always carries 8 channels
    np.savetxt(src8, np.tile(codes, 2), fmt="%d", delimiter=",")
    prompts = io.StringIO()
    jobs = {}
    with ThreadPoolExecutor(5) as pool:
        jobs["cyton"] = pool.submit(_record, src8, tmp, "cyton", [make_step("sitting", 1.6)],
                                    ("--seed", 2, "--faults", "drop=0.03,crc=0.02",
                                     "--fault-log", tmp / "cyton.jsonl", "--sfreq", 250),
                                    fmt="openbci-cyton")
        jobs["clean"] = pool.submit(_record, src, tmp, "clean", CLEAN_STEPS, stream=prompts)
        jobs["faults"] = pool.submit(_record_cli, src, tmp, "faults", FAULT_STEPS,
                                     ("--seed", 5, "--faults", FAULTS, "--fault-log", log))
        if wearable is not None:
            step = [make_step("arm_movement", 2.0)]
            jobs["wearable-ascii"] = pool.submit(_record, wearable, tmp, "wearable-ascii", step,
                                                 ("--seconds", 3), fmt="ascii", device=ad8232)
            jobs["wearable-shirt"] = pool.submit(_record, wearable, tmp, "wearable-shirt", step,
                                                 ("--seconds", 3))
        out = {k: j.result()[0] for k, j in jobs.items()}
    return {"codes": codes, "log": read_fault_log(log), "prompts": prompts.getvalue(),
            "wearable": wearable, "cyton_log": read_fault_log(tmp / "cyton.jsonl"), **out}


def _ann(raw, sfreq):
    a = raw.annotations
    return sorted(zip(a.description, np.round(a.onset * sfreq).astype(int).tolist(),
                      np.round(a.duration * sfreq).astype(int).tolist()))


def test_protocol_recording_is_bit_exact(sessions):
    raw, m = read_session(sessions["clean"])
    assert raw.n_times == 800 and raw.info["sfreq"] == 500
    np.testing.assert_array_equal(raw.get_data(picks="all"), sessions["codes"][:800].T * VPC)
    assert m["volts_per_count"] == [VPC] * 4 and m["scale_source"] == "info frame"
    assert m["counts"] == {"frames": m["counts"]["frames"], "crc_errors": 0, "resyncs": 0,
                           "junk_bytes": 0, "lost_samples": 0, "reconnects": 0}
    assert m["counts"]["frames"] >= 800 and m["gaps"] == []
    assert _ann(raw, 500) == [("arm_movement", 400, 400), ("sitting", 0, 400)]
    assert m["protocol"] == CLEAN_STEPS and m["format"] == "shirt-v1"
    assert m["firmware"] and m["device"]
    prompts = sessions["prompts"]
    assert "[1/2] sitting for 0.8 s: Sit still." in prompts
    assert "[2/2] arm_movement for 0.8 s: Swing." in prompts
    assert re.search(r"next in 0\.[1-4] s: arm_movement: Swing\.", prompts)  # early prompt
    assert prompts.index("next in") < prompts.index("[2/2]")
    assert "\r" not in prompts  # no status line when not on a terminal


def test_faults_are_counted_exactly_and_unplug_continues_the_file(sessions):
    raw, m = read_session(sessions["faults"])
    log, codes = sessions["log"], sessions["codes"]
    n = raw.n_times
    assert n == 1200
    lost = logged_lost(log, n)
    data = raw.get_data(picks="all")
    kinds = [r["kind"] for r in log]
    c = m["counts"]
    journal = sessions["faults"].with_name("faults.journal.jsonl").read_text()
    why = (f"emulator: {[r for r in log if r['kind'] not in ('drop', 'crc', 'junk')]}\n"
           f"counts: {c}\nrecorder journal:\n{journal[-1500:]}")
    # NaN exactly where nothing arrived intact, and every other sample bit-exact.
    assert gap_list(np.isfinite(data[0])) == gap_list(~lost), why
    np.testing.assert_array_equal(data[:, ~lost], codes[:n][~lost].T * VPC)
    assert c["crc_errors"] == kinds.count("crc") > 0, why
    assert c["junk_bytes"] == sum(r["n_bytes"] for r in log if r["kind"] == "junk") > 0, why
    assert c["lost_samples"] == int(lost.sum()), why
    end = log[-1]
    # every frame the emulator sent intact was decoded (unread ones are not counted as sent)
    assert end["kind"] == "end" and c["frames"] == end["sent"] - end["crc"], why
    assert c["reconnects"] == kinds.count("unplug") + kinds.count("stall") == 2, why
    assert 0 < c["resyncs"] <= kinds.count("crc") + kinds.count("junk"), why
    assert m["gaps"] == [{"first_sample": a, "n_samples": b} for a, b in gap_list(~lost)]
    ann = _ann(raw, 500)
    assert [a[1:] for a in ann if a[0] == "BAD_acq_gap"] == gap_list(~lost)
    for rec in log:  # the stall and the unplug each lie inside one annotated gap
        if rec["kind"] in ("stall", "unplug"):
            a, b = rec["first_sample"], rec["first_sample"] + rec["n_samples"]
            assert any(g0 <= a and b <= g0 + gn for g0, gn in gap_list(~lost))
            assert b - a >= 0.3 * 500
    assert ("walking", 0, 600) in ann and ("rest", 600, 600) in ann


def test_wearable_csv_plays_back_identically_in_ascii_and_shirt_v1(sessions, shared_data):
    adc = pd.read_csv(sessions["wearable"], sep=";", header=None, names=["t", "adc"])["adc"]
    adc = adc.to_numpy()
    raw_a, meta_a = read_session(sessions["wearable-ascii"])
    raw_b, meta_b = read_session(sessions["wearable-shirt"])
    assert raw_a.n_times == raw_b.n_times == 1000
    a, b = raw_a.get_data(picks="all")[0], raw_b.get_data(picks="all")[0]
    np.testing.assert_array_equal(a, adc[:1000] * AD8232_VPC)  # bit-exact after scaling
    np.testing.assert_array_equal(b, adc[:1000] * VPC)
    np.testing.assert_array_equal(np.rint(a / AD8232_VPC), np.rint(b / VPC))  # same codes
    assert meta_a["scale_source"] == "device.yaml" and meta_b["scale_source"] == "info frame"
    assert meta_a["channels"] == [{"name": "ECG", "lead": None}]
    for meta in (meta_a, meta_b):
        c = meta["counts"]
        assert c["lost_samples"] == c["crc_errors"] == c["junk_bytes"] == c["reconnects"] == 0


def test_cyton_stream_with_faults(sessions):
    raw, m = read_session(sessions["cyton"])
    log = sessions["cyton_log"]
    assert raw.info["sfreq"] == 250 and raw.n_times == 400 and len(raw.ch_names) == 8
    lost = logged_lost(log, raw.n_times)
    data = raw.get_data(picks="all")
    assert gap_list(np.isfinite(data[0])) == gap_list(~lost) and lost.any()
    vpc = 4.5 / 24 / (2**23 - 1)  # the Cyton's scale at its default gain
    assert m["volts_per_count"] == [vpc] * 8 and m["scale_source"].startswith("Cyton")
    codes8 = np.tile(sessions["codes"], 2)[:raw.n_times]
    np.testing.assert_array_equal(data[:, ~lost], codes8[~lost].T * vpc)
    kinds = [r["kind"] for r in log]
    assert m["counts"]["crc_errors"] == kinds.count("crc")  # a bad stop byte counts as one
    assert m["counts"]["lost_samples"] == int(lost.sum())
