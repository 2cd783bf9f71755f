"""``shirtecg demo``: the whole pipeline on built-in defaults, nothing downloaded.

1. ADC: the emulated shirt streams its test square wave on a pty, the recorder records it,
   ``calibrate adc`` finds the front end's true gains and writes them into ``device.yaml``;
2. noise: the emulated shirt streams an activity protocol (sitting, walking, arm movement, twice)
   and the recorder records it, following the protocol;
3. a noise profile is fitted on the first pass and validated on the second (held out);
4. synthetic 12-lead records are augmented with the ``wearable`` preset plus that profile;
5. the augmentation is calibrated against emulated shirt ECG (other synthetic hearts on the
   shirt's leads with the shirt's noise);
6. ``DIR/report.md`` with PNGs gathers it all.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from shirtecg import demo_steps as steps
from shirtecg_common.errors import UserError

#: Files and folders the demo writes (removed first, so a rerun starts clean).
OUTPUTS = ("device.yaml", "protocol.yaml", "calibrated_pipeline.yaml", "report.md", "sessions",
           "profile", "calibration", "work", "figures", "augmented")


def run_demo(out_dir="demo_out", quiet=False, seconds_per_activity=40.0, n_public=30,
             n_device=30, budget=40, test_signal_s=8.0, stream=None):
    """Run the demo; returns 0.

    Parameters
    ----------
    out_dir : path-like
        Output folder (created; the demo's own earlier outputs in it are replaced).
    quiet : bool
        Print nothing.
    seconds_per_activity : float
        Recorded seconds per activity (split over the two passes of the protocol).
    n_public, n_device : int
        Synthetic public records to augment, emulated shirt ECG records to calibrate against.
    budget : int
        Pipeline evaluations of the calibration search.
    test_signal_s : float
        Recorded seconds of the ADC test signal.
    """
    from shirtecg.demo_report import write_demo_report

    stream = stream if stream is not None else sys.stdout
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        p = out / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    (out / "work").mkdir()
    t_start = time.monotonic()
    n_steps = 6
    results = {"seconds_per_activity": seconds_per_activity}

    def step(i, text):
        if not quiet:
            print(f"[{i}/{n_steps}] {text} …", file=stream, flush=True)
        return time.monotonic()

    def done(t0, text=""):
        if not quiet:
            print(f"      done in {time.monotonic() - t0:.1f} s{(': ' + text) if text else ''}",
                  file=stream, flush=True)

    t = step(1, "ADC: emulated shirt streams its test square wave on a pty, recorder records "
                "it, calibrate adc fits the gains")
    device = steps.write_device(out)
    ts_session = steps.record_test_signal(out, device, seconds=test_signal_s)
    cal = steps.calibrate_adc(ts_session, device)
    results["adc"] = cal
    errs = (cal.volts_per_count_ / cal.nominal_volts_per_count_ - 1)
    done(t, "gain errors found " + ", ".join(f"{e:+.2%}" for e in errs) + " (true "
         + ", ".join(f"{e:+.2%}" for e in steps.GAIN_ERRORS) + ")")

    t = step(2, f"noise: recording the protocol {' → '.join(steps.ACTIVITIES)} (twice, "
                f"{seconds_per_activity:g} s per activity) from the emulated shirt")
    playback, protocol = steps.make_playback(out, seconds_per_activity)
    session = steps.record_protocol(out, device, playback, protocol)
    results["session"] = session
    done(t, str(session))

    t = step(3, "noise profile: fit on the first pass, validate on the second (held out)")
    profile, profile_path, validation, floor, held_out = \
        steps.fit_and_validate_profile(session, out)
    results.update(profile=profile, profile_path=profile_path, validation=validation,
                   validation_floor=floor, held_out=held_out)
    done(t, str(profile_path))

    t = step(4, f"augment: {n_public} synthetic 12-lead records × 2 copies through 'wearable' + "
                "the profile (shirtecg augment run → HDF5)")
    import augment
    from shirtecg.cli import main as shirtecg_main

    code = shirtecg_main(["augment", "run", "--dataset", "synthetic", "--n-records",
                          str(n_public), "--pipeline", "wearable", "--profile", str(profile_path),
                          "--copies", "2", "--seed", "1", "--out", str(out / "augmented"),
                          "--quiet"])
    if code != 0:
        raise UserError(f"shirtecg augment run failed with exit status {code}")
    public, sfreq = steps.public_records(n_public)
    pipeline = augment.load_pipeline("wearable", profile=str(profile_path))
    results.update(public=public, sfreq=sfreq, pipeline=pipeline)
    done(t, str(out / "augmented"))

    t = step(5, f"calibrate: fit the wearable strengths to {n_device} emulated shirt ECG records "
                f"({budget} evaluations)")
    from calibration.fitter import AugmentationFitter
    from calibration.report import write_report

    device_ecg, device_leads = steps.emulated_shirt_ecg(n_device)
    # Beyond the preset's own tunables, let the search also set the ECG amplitude and how often
    # the parametric artifacts occur (a user adds such lines to the YAML's tunable:).
    pipeline.tunable = dict(pipeline.tunable, **steps.EXTRA_TUNABLES)
    from shirtecg_common.progress import Progress

    bar = Progress(total=budget, desc="      search", unit="evals", quiet=True if quiet else None,
                   stream=stream)
    fitter = AugmentationFitter(pipeline, n_iter=budget, random_state=0,
                                progress=lambda i, n, best: bar.update(i - bar.n))
    fitter.fit(public, device_ecg, public_sfreq=sfreq, device_sfreq=sfreq,
               device_leads=device_leads)
    bar.close()
    calibrated = out / "calibrated_pipeline.yaml"
    fitter.best_pipeline_.to_yaml(calibrated)
    write_report(fitter, out / "calibration", calibrated_yaml=str(calibrated), inputs={
        "device records": f"{n_device} emulated shirt ECG records, leads "
                          f"{', '.join(device_leads)}",
        "public records": f"{n_public} synthetic 12-lead records",
        "pipeline": f"wearable + profile {profile_path.name}"})
    results.update(fitter=fitter, calibrated=calibrated, device_ecg=device_ecg)
    d = fitter.distances_
    done(t, f"AUC {d['initial']['auc']:.2f} → {d['calibrated']['auc']:.2f}, energy "
            f"{d['initial']['energy']:.2f} → {d['calibrated']['energy']:.2f}")

    t = step(6, "report")
    results["wall_s"] = time.monotonic() - t_start
    report = write_demo_report(out, results)
    done(t)
    if not quiet:
        print(f"\nDemo finished in {time.monotonic() - t_start:.0f} s. Everything is in {out}/:",
              file=stream)
        for rel, what in (("report.md", "the report (start here)"),
                          ("device.yaml", "the shirt, with its measured ADC calibration"),
                          ("sessions/", "recorded sessions (*_raw.fif)"),
                          (f"profile/{profile_path.name}", "the fitted noise profile"),
                          ("calibrated_pipeline.yaml",
                           "use with: shirtecg augment run --pipeline … --profile …"),
                          ("augmented/", "augmented records (HDF5 shards + manifest.csv)"),
                          ("calibration/report.md", "the calibration's own report"),
                          ("figures/", "the report's PNGs")):
            print(f"  {out / rel}  — {what}", file=stream)
        del report
    return 0
