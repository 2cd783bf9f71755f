"""Command line of ``calibration``: ``shirtecg calibrate adc`` and ``shirtecg calibrate augment``.

Heavy imports (mne, matplotlib, the augment package) happen inside the handlers so
``shirtecg --help`` stays fast.
"""

from __future__ import annotations

import sys

from shirtecg_common.cli import build_parser, run


def add_parser(sub):
    """Add the ``calibrate`` group to the ``shirtecg`` sub-parser set ``sub``."""
    p = sub.add_parser("calibrate", help="fit the device (ADC) and the augmentation to real data")
    cal_sub = p.add_subparsers(dest="calibrate_command", metavar="SUBCOMMAND")
    cal_sub.required = True

    a = cal_sub.add_parser(
        "adc", help="ADC gain/offset and frequency response from a recorded square-wave test "
                    "signal; writes device.yaml calibration:",
        description="Fit each channel's gain (V/count) and offset from a session recorded while "
                    "the front end's test signal (or an external calibrator) was on, estimate "
                    "the high-pass corner from the plateau droop and the low-pass corner from "
                    "the edges, print a table with uncertainties and write them into "
                    "device.yaml (atomically).")
    a.add_argument("session", help="session *_raw.fif holding the test signal (its "
                                   "'test_signal' steps are used when annotated)")
    a.add_argument("--reference", choices=["square"], default="square",
                   help="reference waveform (default: square)")
    a.add_argument("--amplitude-mv", type=float, required=True,
                   help="peak-to-peak amplitude of the reference at the electrodes, mV")
    a.add_argument("--freq-hz", type=float, required=True, help="reference frequency, Hz")
    a.add_argument("--device", default=None,
                   help="device.yaml to update (default: device.yaml next to the session; "
                        "created from the session's description if absent)")
    a.add_argument("--max-deviation", type=float, default=0.25,
                   help="largest accepted relative difference from the nominal scale before "
                        "the reference is called wrong (default 0.25)")
    a.add_argument("--dry-run", action="store_true", help="print the table, write nothing")
    a.add_argument("--json", action="store_true", help="also print the fitted values as JSON")
    a.set_defaults(func=_adc)

    g = cal_sub.add_parser(
        "augment", help="fit the augmentation's strengths so augmented public records look "
                        "like the device's records; writes a calibrated pipeline + a report",
        description="Search the pipeline's tunable ranges (its YAML 'tunable:' entries) to "
                    "minimize the energy distance between features of the device records and "
                    "of augmented public records (device leads only), and report energy "
                    "distance and classifier AUC before/after.")
    g.add_argument("--device-records", nargs="+", required=True, metavar="FILE",
                   help="device recordings: session *_raw.fif, WFDB .hea, or wearable "
                        "'timestamp;adc' CSV")
    g.add_argument("--public", required=True, nargs="+", metavar="SOURCE",
                   help="'synthetic', a dataset folder (PTB-XL, SPH or WFDB/CinC), or record "
                        "files like --device-records (embedded in 12 leads at their lead)")
    g.add_argument("--pipeline", required=True, help="preset name or pipeline YAML")
    g.add_argument("--profile", default=None, help="noise profile YAML for fitted-noise steps")
    g.add_argument("--profile-from-device", action="store_true",
                   help="take the profile noise from the device records themselves "
                        "(noise_from_ecg + profile fit; saved as <out>_profile.yaml)")
    g.add_argument("--out", required=True, help="calibrated pipeline YAML to write")
    g.add_argument("--report", required=True, help="folder for report.md and the PNGs")
    g.add_argument("--budget", type=int, default=40,
                   help="pipeline evaluations of the search (default 40)")
    g.add_argument("--n-public", type=int, default=60,
                   help="public records per evaluation (default 60)")
    g.add_argument("--window-s", type=float, default=10.0,
                   help="records are cut into windows of this length (default 10 s)")
    g.add_argument("--leads", default=None,
                   help="comma-separated device leads to compare (default: all the records "
                        "share)")
    g.add_argument("--activities", default=None,
                   help="comma-separated session activities to use (FIF records only)")
    g.add_argument("--csv-lead", default="II",
                   help="lead a wearable CSV's single channel measures (default II)")
    g.add_argument("--mains-hz", type=float, default=50.0, help="mains frequency (default 50)")
    g.add_argument("--objective", choices=["energy", "auc", "auc+energy"], default="energy",
                   help="what the search minimizes (default: energy distance; 'auc' is slower)")
    g.add_argument("--public-window-s", type=float, default=None,
                   help="cut record-file public sources into longer windows than --window-s; "
                        "only the first --window-s seconds are compared after augmentation "
                        "(room for TimeStretch to raise the heart rate)")
    g.add_argument("--copies", type=int, default=1,
                   help="augmented copies of each public record per evaluation (default 1)")
    g.add_argument("--group-by", choices=["recording", "subject"], default="recording",
                   help="groups of the grouped AUC, whose folds never split one: each file "
                        "(default), or the file name up to its first '_' (the wearable "
                        "CSVs' subject ID)")
    g.add_argument("--seed", type=int, default=0, help="seed of the search and the draws")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    g.set_defaults(func=_augment)


def _adc(args):
    from pathlib import Path

    from calibration import adc_session as s

    cal, meta = s.calibrate_session(args.session, amplitude_mv=args.amplitude_mv,
                                    freq_hz=args.freq_hz, max_deviation=args.max_deviation)
    print(s.format_table(cal))
    if args.json:
        print(s.summary_json(cal))
    if args.dry_run:
        return 0
    device = Path(args.device) if args.device else Path(args.session).with_name("device.yaml")
    ref = s.reference_dict(args.reference, args.amplitude_mv, args.freq_hz, args.session)
    s.write_device_calibration(device, s.calibration_dict(cal, reference=ref), meta=meta)
    print(f"calibration written to {device}")
    return 0


def _augment(args):
    from calibration.run_augment import calibrate_augmentation

    calibrate_augmentation(
        device_records=args.device_records, public=args.public, pipeline=args.pipeline,
        profile=args.profile, out=args.out, report_dir=args.report, budget=args.budget,
        n_public=args.n_public, window_s=args.window_s,
        leads=_split(args.leads), activities=_split(args.activities), csv_lead=args.csv_lead,
        mains_hz=args.mains_hz, seed=args.seed, quiet=args.quiet, stream=sys.stdout,
        objective=args.objective, profile_from_device=args.profile_from_device,
        group_by=args.group_by, public_window_s=args.public_window_s, n_copies=args.copies)
    return 0


def _split(text):
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def main(argv=None) -> int:
    """``python -m calibration``."""
    return run(build_parser("python -m calibration", __doc__, [add_parser]), argv)
