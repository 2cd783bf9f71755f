"""Real wearable ECG recordings (AD8232, 12-bit, 500 Hz) played back through the emulator
in ``ascii`` and ``shirt-v1`` come out of the recorder identical to the file."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from record_helpers import VPC, start_emulator, stop_emulator

from acquisition.device import load_device
from acquisition.protocol import make_step
from acquisition.recorder import Recorder, RecordTimeouts
from acquisition.session import read_session
from acquisition.stream_settings import device_to_dict

AD8232_VPC = 3.3 / 4096 / 500  # 12-bit ADC at 3.3 V behind the AD8232's gain of 500
DEVICE_YAML = f"""\
name: ad8232-wearable
format: ascii
sfreq: 500
channels:
  - {{name: ECG, lead: null}}
scale: {{volts_per_count: {AD8232_VPC!r}}}
adc_bits: 12
"""


def _record(fmt, csv, out, device=None):
    proc, port = start_emulator("--format", fmt, "--playback", csv, "--sfreq", 500,
                                "--seconds", 3)
    try:
        return Recorder(port, fmt, out, f"wearable-{fmt}", [make_step("arm_movement", 2.0)],
                        device=device, timeouts=RecordTimeouts(handshake_s=10.0),
                        quiet=True).run()
    finally:
        stop_emulator(proc)


def test_wearable_csv_plays_back_identically_in_ascii_and_shirt_v1(tmp_path, shared_data):
    csv = shared_data / "wearable_motion_artifacts" / "01" / "01_03_ruky.csv"  # textile
    adc = pd.read_csv(csv, sep=";", header=None, names=["t", "adc"])["adc"].to_numpy()
    (tmp_path / "device.yaml").write_text(DEVICE_YAML)
    device = device_to_dict(load_device(tmp_path / "device.yaml"))
    with ThreadPoolExecutor(2) as pool:  # both links at once: half the wall time
        jobs = [pool.submit(_record, "ascii", csv, tmp_path, device),
                pool.submit(_record, "shirt-v1", csv, tmp_path)]
        (p_ascii, _), (p_bin, _) = (j.result() for j in jobs)
    raw_a, meta_a = read_session(p_ascii)
    raw_b, meta_b = read_session(p_bin)
    assert raw_a.n_times == raw_b.n_times == 1000
    a, b = raw_a.get_data(picks="all")[0], raw_b.get_data(picks="all")[0]
    np.testing.assert_array_equal(a, adc[:1000] * AD8232_VPC)  # bit-exact after scaling
    np.testing.assert_array_equal(b, adc[:1000] * VPC)
    np.testing.assert_array_equal(np.rint(a / AD8232_VPC), np.rint(b / VPC))  # same codes
    assert meta_a["scale_source"] == "device.yaml" and meta_b["scale_source"] == "info frame"
    assert meta_a["channels"] == [{"name": "ECG", "lead": None}]
    for meta in (meta_a, meta_b):
        assert meta["counts"]["lost_samples"] == 0 and meta["counts"]["crc_errors"] == 0
        assert meta["counts"]["junk_bytes"] == 0
