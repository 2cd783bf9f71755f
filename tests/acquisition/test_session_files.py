"""Session storage units: protocol YAML, capture/journal crash tolerance, time base, quality."""

from __future__ import annotations

import json

import numpy as np
import pytest

from acquisition.capture import CaptureWriter, Journal, read_capture, read_journal
from acquisition.protocol import load_protocol, make_step, step_sample_bounds
from acquisition.quality import QualityMonitor, lead_off_bits
from acquisition.timeline import Timeline, gap_runs
from shirtecg_common.errors import ConfigError, UserError


def test_protocol_yaml_list_and_mapping(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("- {activity: sitting, seconds: 1.5, prompt: Sit.}\n"
                 "- {activity: walking, seconds: 2}\n")
    steps = load_protocol(p)
    assert [s["activity"] for s in steps] == ["sitting", "walking"]
    assert steps[0]["prompt"] == "Sit." and "walking" in steps[1]["prompt"]
    assert step_sample_bounds(steps, 500) == [(0, 750), (750, 1750)]
    p.write_text("name: x\nsteps:\n  - {activity: rest, seconds: 1}\n")
    assert load_protocol(p)[0]["seconds"] == 1.0


@pytest.mark.parametrize("text, match", [
    ("- {activity: sitting, seconds: 1, promt: x}\n", "step 1: unknown key 'promt'"),
    ("- {seconds: 1}\n", "missing required key 'activity'"),
    ("- {activity: sitting, seconds: -1}\n", "positive number"),
    ("- {activity: BAD_x, seconds: 1}\n", "must not start with 'BAD'"),
    ("- {activity: 'two words', seconds: 1}\n", "label of letters"),
    ("steps: []\n", "non-empty list"),
    ("", "empty file"),
])
def test_protocol_yaml_errors_name_the_problem(tmp_path, text, match):
    p = tmp_path / "p.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=match) as err:
        load_protocol(p)
    assert str(p) in str(err.value)


def test_capture_round_trip_and_torn_tail(tmp_path):
    path = tmp_path / "s.capture"
    w = CaptureWriter(path)
    w.append(0, b"abc", 1.0)
    w.append(1, b"", 2.0)
    w.append(1, bytes(range(256)), 3.0)
    w.close()
    with pytest.raises(FileExistsError):
        CaptureWriter(path)  # never overwrite a session
    chunks, torn = read_capture(path)
    assert torn == 0
    assert chunks == [(0, 1.0, b"abc"), (1, 2.0, b""), (1, 3.0, bytes(range(256)))]
    whole = path.read_bytes()
    path.write_bytes(whole[:-100])  # a SIGKILL in the middle of the last write
    chunks, torn = read_capture(path)
    assert [c[2] for c in chunks] == [b"abc", b""] and torn == 18 + 256 - 100
    path.write_bytes(b"nonsense")
    with pytest.raises(UserError, match="not a shirtecg capture"):
        read_capture(path)


def test_journal_ignores_only_a_torn_last_line(tmp_path):
    path = tmp_path / "s.journal.jsonl"
    j = Journal(path)
    j.write("start", format="shirt-v1")
    j.write("step", index=0)
    j.close()
    with open(path, "a") as f:
        f.write('{"event": "sto')
    events = read_journal(path)
    assert [e["event"] for e in events] == ["start", "step"]
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], "garbage", lines[1]]) + "\n")
    with pytest.raises(UserError, match="line 2"):
        read_journal(path)
    path.write_text(json.dumps({"event": "step"}) + "\n")
    with pytest.raises(UserError, match="'start'"):
        read_journal(path)


def test_timeline_gaps_duplicates_and_restarts():
    tl = Timeline()
    pos, keep = tl.place(np.array([100, 101, 102, 105, 106]), conn=0)
    assert pos.tolist() == [0, 1, 2, 5, 6] and keep.all()
    pos, keep = tl.place(np.array([106, 107, 110]), conn=0)  # a duplicate is dropped
    assert pos.tolist() == [7, 10] and keep.tolist() == [False, True, True]
    assert tl.out_of_order == 1
    pos, _ = tl.place(np.array([120, 121]), conn=1)  # reconnect, counter kept running
    assert pos.tolist() == [20, 21] and tl.restarts == []
    pos, _ = tl.place(np.array([0, 1, 2]), conn=2)  # device restarted its counter
    assert pos.tolist() == [22, 23, 24] and tl.restarts == [22]
    present = np.zeros(tl.n_times, bool)
    present[[0, 1, 2, 5, 6, 7, 10, 20, 21, 22, 23, 24]] = True
    assert gap_runs(present) == [(3, 2), (8, 2), (11, 9)]
    assert gap_runs(np.ones(4, bool)) == [] and gap_runs(np.zeros(3, bool)) == [(0, 3)]


def test_quality_monitor_rms_rails_flat_and_lead_off():
    rng = np.random.default_rng(0)
    vpc = np.array([1e-7, 1e-7, 1e-7])
    mon = QualityMonitor(3, 100, vpc)
    codes = np.zeros((150, 3))
    codes[:, 0] = rng.normal(0, 100, 150)
    codes[:, 1] = 8388607
    codes[-20:, 1] = 0
    mon.add(codes, np.full(150, 0xC00000 | (0b101 << 12) | (0b10 << 4)))
    s = mon.summary()
    assert s["rms_uv"][0] == pytest.approx(np.std(codes[-100:, 0]) * 1e-7 * 1e6)
    assert s["railed_pct"] == pytest.approx(100 * 80 / 300)
    assert s["flat"] == [2]
    assert s["lead_off"] == ["1P", "2N", "3P"]
    assert lead_off_bits(0x000FFF) == []  # no ADS129x '1100' prefix: no status word


def test_make_step_defaults():
    step = make_step("arm_movement", 3)
    assert step == {"activity": "arm_movement", "seconds": 3.0,
                    "prompt": "Start arm movement."}


def _device(calibrated=False, vpc=1e-7, sfreq=500.0):
    return {"path": None, "name": "proto", "format": "shirt-v1", "sfreq": sfreq,
            "channels": [{"name": "I", "lead": "I"}, {"name": "V1", "lead": "V1"}],
            "volts_per_count": [vpc, vpc], "calibrated": calibrated, "adc_bits": 24,
            "baud": None, "usb": None}


def test_stream_settings_precedence():
    from acquisition.stream_settings import CYTON_VOLTS_PER_COUNT, resolve_settings

    info = {"device": "shirt", "firmware": "2.1", "sfreq": 1000, "channels": ["I", "V1"],
            "gain": 6, "vref": 2.4}
    vpc_info = 2.4 / 6 / (2**23 - 1)
    s = resolve_settings("shirt-v1", 2, info=info, device=_device())
    assert s.sfreq == 1000 and s.scale_source == "info frame"
    np.testing.assert_array_equal(s.volts_per_count, [vpc_info] * 2)
    assert s.leads == ["I", "V1"] and s.firmware == "2.1"
    assert [m.split(":")[0] for m in s.mismatches] == ["sfreq", "scale"]
    s = resolve_settings("shirt-v1", 2, info=info, device=_device(calibrated=True, vpc=5e-8))
    assert s.scale_source == "device.yaml calibration" and s.volts_per_count[0] == 5e-8
    s = resolve_settings("shirt-v1", 2, info=info, device=_device(), sfreq=250, scale=1e-6)
    assert s.sfreq == 250 and s.scale_source == "--scale" and s.volts_per_count[1] == 1e-6
    s = resolve_settings("openbci-cyton", 8)
    assert s.sfreq == 250 and s.volts_per_count[0] == CYTON_VOLTS_PER_COUNT
    assert s.ch_names == [f"ch{k}" for k in range(1, 9)] and s.leads == [None] * 8
    with pytest.raises(UserError, match="--sfreq"):
        resolve_settings("ascii", 1, scale=1e-6)
    with pytest.raises(UserError, match="--scale"):
        resolve_settings("ascii", 1, sfreq=500)
    s = resolve_settings("shirt-v1", 3, device=_device())  # device.yaml lists 2 channels
    assert s.ch_names == ["ch1", "ch2", "ch3"] and "channel count" in s.mismatches[0]
    assert s.volts_per_count.tolist() == [1e-7] * 3  # one scale for all fits any count
    dev = _device()
    dev["volts_per_count"] = [1e-7, 2e-7]
    with pytest.raises(UserError, match="2 different per-channel scales .* 3 channels"):
        resolve_settings("shirt-v1", 3, device=dev)


def test_railed_share_of_an_unsigned_adc():
    """12-bit unsigned codes around mid-scale 2048 are not railed; codes at 0 or 4095 are."""
    from acquisition.stream_settings import resolve_settings

    rng = np.random.default_rng(0)
    codes = np.rint(2048 + 100 * rng.standard_normal((500, 2)))
    codes[:50, 0], codes[50:100, 1] = 4095, 0  # 100 of 1000 values at the rails
    device = {**_device(), "adc_bits": 12, "adc_signed": False}
    settings = resolve_settings("ascii", 2, device=device, sfreq=500.0)
    assert settings.adc_signed is False
    mon = QualityMonitor(2, 500, [1e-6, 1e-6], settings.adc_bits, settings.adc_signed)
    mon.add(codes, np.zeros(500, np.uint32))
    assert mon.summary()["railed_pct"] == pytest.approx(10.0)
    signed = QualityMonitor(2, 500, [1e-6, 1e-6], 12)  # the old reading: all "railed"
    signed.add(codes, np.zeros(500, np.uint32))
    assert signed.summary()["railed_pct"] > 40


def _write_session(out, name, rng):
    """A shirt-v1 session on disk: 3 ch, drops, a reconnect, a torn last record."""
    from acquisition import frames
    from acquisition.capture import open_session_files

    out.mkdir()
    seq = np.arange(3000)
    sent = seq[(rng.random(seq.size) > 0.02) & ((seq < 1200) | (seq >= 1300))]
    codes = rng.integers(-2**23, 2**23, (3000, 3)).astype(np.int32)
    cap, jr = open_session_files(out, name, port="loop://", format="shirt-v1", device=None,
                                 sfreq=500.0, scale=1e-7, decoder_kwargs={"sfreq": 500.0,
                                 "volts_per_count": 1e-7}, protocol=[
                                     {"activity": "sitting", "seconds": 6.0, "prompt": "x"}])
    for conn, part in ((0, sent[sent < 1200]), (1, sent[sent >= 1300])):
        data = frames.shirt_v1_samples(part, codes[part])
        for k in range(0, len(data), 333):  # frames split across records anywhere
            cap.append(conn, data[k:k + 333], 1.7e9 + k / 1e5)
    cap.close()
    jr.close()
    with open(cap.path, "ab") as f:
        f.write(b"CHNK\0\0\x10\0")  # torn by a crash
    return sent, codes


def test_streamed_finalize_is_identical_whatever_the_batch_size(tmp_path, monkeypatch):
    """Finalizing in many small decode batches gives the same FIF, exact against the codes."""
    import shutil

    from acquisition import session

    sent, codes = _write_session(tmp_path / "a", "s", np.random.default_rng(3))
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    path_a, meta_a = session.finalize_session(tmp_path / "a", "s")
    monkeypatch.setattr(session, "BULK_BYTES", 700)  # dozens of batches
    path_b, meta_b = session.finalize_session(tmp_path / "b", "s")
    raw_a, _ = session.read_session(path_a)
    raw_b, _ = session.read_session(path_b)
    a, b = raw_a.get_data(), raw_b.get_data()
    assert np.array_equal(a, b, equal_nan=True) and meta_a == meta_b
    expected = np.full((3, 3000), np.nan)  # seq starts at 0: position = seq
    expected[:, sent] = codes[sent].T * 1e-7
    assert np.array_equal(a, expected[:, :a.shape[1]], equal_nan=True)
    assert a.shape[1] == sent[-1] + 1 and meta_a["counts"]["lost_samples"] == 3000 - sent.size \
        - (2999 - sent[-1])
    assert meta_a["counts"]["reconnects"] == 1 and meta_a["torn_capture_bytes"] == 8
