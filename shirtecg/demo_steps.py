"""The steps of ``shirtecg demo``, each a plain function on files in the demo folder.

The device side runs for real: the emulator (``shirtecg device emulate``) streams shirt-v1
frames on a pseudo-terminal in a subprocess and the recorder (``shirtecg record``) records
them in another, exactly as with a shirt on a USB port. What the emulated shirt "measures" is
the project's synthetic activity noise (:mod:`acquisition.activity_noise`), played back at a
multiple of real time so the demo stays short.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from shirtecg_common.errors import UserError

#: The demo shirt: three leads, as a prototype shirt with a limb pair and one chest electrode.
DEVICE = {
    "name": "demo-shirt", "format": "shirt-v1", "sfreq": 500,
    "channels": [{"name": "I", "lead": "I"}, {"name": "II", "lead": "II"},
                 {"name": "V2", "lead": "V2"}],
    "scale": {"gain": 6, "vref": 2.4}, "baud": 921600,
}
ACTIVITIES = ("sitting", "walking", "arm_movement")
#: Front-end gain errors the emulated shirt really has (the ADC step must find them).
GAIN_ERRORS = (0.012, -0.018, 0.007)
SPEED = 10.0  # emulated device clock vs real time
#: Tunables the demo adds to the ``wearable`` preset's own.
EXTRA_TUNABLES = {"amplitude_scale__p": [0.0, 1.0], "amplitude_scale__min_scale": [0.5, 1.2],
                  "amplitude_scale__max_scale": [0.5, 1.3], "artifacts__p": [0.0, 1.0]}


def write_device(out_dir):
    """``DIR/device.yaml`` of the demo shirt."""
    from acquisition.device import DeviceConfig

    path = Path(out_dir) / "device.yaml"
    DeviceConfig.from_dict(dict(DEVICE)).save(path)
    return path


def _python_shirtecg(*args):
    return [sys.executable, "-m", "shirtecg", *map(str, args)]


def _run_emulator_and_recorder(work, tag, emulate_args, record_args, timeout_s):
    """Start the emulator on a pty, record from it, stop it; returns the recorder's log text."""
    work = Path(work)
    emu_log = work / f"emulator_{tag}.log"
    rec_log = work / f"recorder_{tag}.log"
    with open(emu_log, "w") as emu_out:
        emu = subprocess.Popen(_python_shirtecg("device", "emulate", *emulate_args),
                               stdout=emu_out, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        t_end = time.monotonic() + 30.0
        while time.monotonic() < t_end and port is None:
            if emu.poll() is not None:
                raise UserError(f"the emulator exited early: {_tail(emu_log)}")
            for line in emu_log.read_text().splitlines():
                if line.startswith("PORT "):
                    port = line.split(None, 1)[1].strip()
            time.sleep(0.05)
        if port is None:
            raise UserError(f"the emulator did not report its port within 30 s: {_tail(emu_log)}")
        with open(rec_log, "w") as rec_out:
            rec = subprocess.run(_python_shirtecg("record", "--port", port, *record_args,
                                                  "--quiet"),
                                 stdout=rec_out, stderr=subprocess.STDOUT, text=True,
                                 timeout=timeout_s, check=False)
        if rec.returncode != 0:
            raise UserError(f"the recorder failed (exit {rec.returncode}): {_tail(rec_log)}")
        try:
            emu.wait(timeout=10.0)
        except subprocess.TimeoutExpired:
            pass
        return port
    finally:
        if emu.poll() is None:
            emu.terminate()
            try:
                emu.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                emu.kill()
                emu.wait()


def _tail(path, n=400):
    text = Path(path).read_text(errors="replace") if Path(path).exists() else ""
    return " ".join(text[-n:].split())


def record_test_signal(out_dir, device_yaml, seconds=8.0):
    """Record the front end's test square wave (with the shirt's true gain errors)."""
    work = Path(out_dir) / "work"
    sessions = Path(out_dir) / "sessions"
    errors = ",".join(str(e) for e in GAIN_ERRORS)
    _run_emulator_and_recorder(
        work, "test_signal",
        ["--device", device_yaml, "--activity", "test_signal", "--seconds", seconds,
         "--test-amplitude-mv", 1.0, "--test-freq-hz", 1.0, "--gain-error", errors,
         "--seed", 1, "--speed", SPEED / 2, "--linger", 0.5],
        ["--device", device_yaml, "--activity", "test_signal", "--seconds", seconds,
         "--out", sessions, "--name", "test_signal"],
        timeout_s=60 + seconds)
    return sessions / "test_signal_raw.fif"


def calibrate_adc(session, device_yaml):
    """Fit gains from the test-signal session and write them into device.yaml."""
    from calibration import adc_session

    cal, meta = adc_session.calibrate_session(session, amplitude_mv=1.0, freq_hz=1.0)
    ref = adc_session.reference_dict("square", 1.0, 1.0, Path(session).name)
    adc_session.write_device_calibration(device_yaml, adc_session.calibration_dict(
        cal, reference=ref), meta=meta)
    return cal


def make_playback(out_dir, seconds_per_activity, sfreq=500.0, seed=0):
    """The shirt's activity noise for the protocol (each activity twice), as a FIF to play back.

    Returns the playback path and the protocol steps.
    """
    import mne

    half = seconds_per_activity / 2.0
    steps = [{"activity": a, "seconds": half, "prompt": f"{a.replace('_', ' ')}"}
             for _ in range(2) for a in ACTIVITIES]
    n = int(round(half * sfreq))
    # One noise source per activity (one shirt, one body): the second pass continues it.
    sources = _noise_sources(sfreq, seed)
    parts = [sources[s["activity"]].read(n) for s in steps]
    info = mne.create_info([c["name"] for c in DEVICE["channels"]], sfreq, ch_types="ecg")
    raw = mne.io.RawArray(np.hstack(parts), info, verbose="error")
    path = Path(out_dir) / "work" / "shirt_noise_playback_raw.fif"
    raw.save(path, overwrite=True, verbose="error")
    return path, steps


def _noise_sources(sfreq, seed):
    """The emulated shirt's activity-noise generators (fixed electrode weights per seed)."""
    from acquisition.activity_noise import ActivityNoise

    return {a: ActivityNoise(a, len(DEVICE["channels"]), sfreq, random_state=seed + k)
            for k, a in enumerate(ACTIVITIES)}


def record_protocol(out_dir, device_yaml, playback, steps):
    """Record the activity protocol from the emulated shirt; returns the session FIF."""
    from shirtecg_common.config import dump_yaml

    work = Path(out_dir) / "work"
    protocol = Path(out_dir) / "protocol.yaml"
    dump_yaml(steps, protocol)
    total = sum(s["seconds"] for s in steps)
    _run_emulator_and_recorder(
        work, "protocol",
        ["--device", device_yaml, "--playback", playback, "--speed", SPEED, "--linger", 0.5],
        ["--device", device_yaml, "--protocol", protocol, "--out", Path(out_dir) / "sessions",
         "--name", "shirt_noise"],
        timeout_s=60 + total / SPEED * 3)
    return Path(out_dir) / "sessions" / "shirt_noise_raw.fif"


def fit_and_validate_profile(session, out_dir):
    """Fit on the first pass through the protocol, validate on the second (held out).

    Returns the loaded profile, its path, the validation report, the floor's report (the
    recorded first pass validated as if it were a model) and the held-out pass.
    """
    import mne

    import noise_profiles
    from noise_profiles.baselines import RecordedNoiseBaseline

    raw = mne.io.read_raw_fif(session, preload=True, verbose="error")
    mid = raw.times[-1] / 2
    first = raw.copy().crop(tmax=mid)
    second = raw.copy().crop(tmin=mid)
    profile = noise_profiles.fit([first], activities=list(ACTIVITIES), nperseg_s=4.0)
    path = Path(out_dir) / "profile" / "shirt_profile.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    profile.save(path)
    report = noise_profiles.validate(profile, [second], random_state=0)
    # the first pass itself against the second: what any model fitted on one pass can reach
    floor = noise_profiles.validate(RecordedNoiseBaseline().fit([first]), [second],
                                    random_state=0)
    return noise_profiles.load_profile(path), path, report, floor, second


def public_records(n_records, seconds=10.0, sfreq=500.0, seed=1):
    """Noise-free synthetic 12-lead records (the stand-in for PTB-XL), ``(n, 12, T)`` mV."""
    from augment.datasets import SyntheticReader

    reader = SyntheticReader(n_records=n_records, sfreq=sfreq, duration_s=seconds, seed=seed)
    return np.stack([reader.load(info).signal for info in reader.index()]), sfreq


def emulated_shirt_ecg(n_records, seconds=10.0, sfreq=500.0, seed=2, noise_seed=0, skip_s=600.0):
    """"Real" shirt ECG for the demo: other synthetic hearts on the shirt's leads, weaker
    (textile electrodes, 0.75×), with the shirt's activity noise (the emulator's model) at
    1.5× the level the noise session saw, activities in turn. Returns ``(n, 3, T)`` mV.
    """
    from augment.leads import LEADS_12

    x, _ = public_records(n_records, seconds, sfreq, seed=seed)
    rows = [LEADS_12.index(c["lead"]) for c in DEVICE["channels"]]
    ecg = 0.75 * x[:, rows]
    n = ecg.shape[-1]
    # The same shirt as the noise session (same sources), later in time: new noise.
    sources = _noise_sources(sfreq, noise_seed)
    for src in sources.values():
        src.read(int(round(skip_s * sfreq)))
    for i in range(n_records):
        noise_v = sources[ACTIVITIES[i % len(ACTIVITIES)]].read(n)
        ecg[i] += (1.5 * 1e3 * noise_v).astype(np.float32)
    return ecg.astype(np.float32), [c["lead"] for c in DEVICE["channels"]]

