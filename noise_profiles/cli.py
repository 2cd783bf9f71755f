"""Command line of ``noise_profiles``: ``shirtecg profile fit|sample|validate|show|from-ecg|report``
(and ``python -m noise_profiles``).

Examples::

    shirtecg profile fit rec/*_raw.fif --out shirt.yaml
    shirtecg profile sample shirt.yaml --activity walking --seconds 30 --sfreq 500 --out n.fif
    shirtecg profile validate shirt.yaml heldout_raw.fif --report val/
    shirtecg profile show shirt.yaml
    shirtecg profile from-ecg ecg1_raw.fif ecg2_raw.fif --out shirt.yaml
    shirtecg profile report shirt.yaml heldout_raw.fif --out report/
"""

from __future__ import annotations

from shirtecg_common.cli import add_quiet, build_parser, run


def add_parser(sub):
    """Add ``profile`` and its subcommands to the ``shirtecg`` sub-parser set ``sub``."""
    p = sub.add_parser("profile", help="fit, sample, validate and inspect device noise profiles",
                       description=__doc__.split("\n\n")[0])
    ps = p.add_subparsers(dest="profile_command", metavar="SUBCOMMAND")
    ps.required = True

    f = ps.add_parser("fit", help="fit a profile on recorded no-ECG noise sessions")
    f.add_argument("sessions", nargs="+", metavar="SESSION", help="*_raw.fif noise sessions")
    f.add_argument("--out", required=True, metavar="PROFILE.yaml")
    _model_args(f)
    add_quiet(f)
    f.set_defaults(func=_fit)

    s = ps.add_parser("sample", help="synthesize noise from a profile")
    s.add_argument("profile", metavar="PROFILE.yaml")
    s.add_argument("--activity", help="activity (optional when the profile has one)")
    s.add_argument("--seconds", type=float, required=True)
    s.add_argument("--sfreq", type=float, required=True, help="output rate (Hz)")
    s.add_argument("--out", required=True, metavar="FILE", help=".fif (MNE, volts) or .npy")
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--allow-empty-band", action="store_true",
                   help="allow --sfreq above the recording's: the extra band stays empty")
    s.set_defaults(func=_sample)

    v = ps.add_parser("validate", help="compare synthesized with held-out recorded noise")
    v.add_argument("profile", metavar="PROFILE.yaml")
    v.add_argument("sessions", nargs="+", metavar="HELDOUT", help="held-out *_raw.fif sessions")
    v.add_argument("--report", metavar="DIR", help="also write PNG overlays + report.md here")
    v.add_argument("--seed", type=int, default=0)
    v.set_defaults(func=_validate)

    sh = ps.add_parser("show", help="print a profile's contents")
    sh.add_argument("profile", metavar="PROFILE.yaml")
    sh.set_defaults(func=_show)

    e = ps.add_parser("from-ecg", help="fit a profile on the noise of ECG recordings")
    e.add_argument("recordings", nargs="+", metavar="RECORDING",
                   help=".fif, WFDB .hea, or wearable 'timestamp;adc' .csv")
    e.add_argument("--out", required=True, metavar="PROFILE.yaml")
    e.add_argument("--sfreq", type=float, default=None, help="rate of .csv input (default 500)")
    _model_args(e)
    add_quiet(e)
    e.set_defaults(func=_from_ecg)

    r = ps.add_parser("report", help="PNG overlays (PSD, coherence, 1-s RMS) + Markdown table")
    r.add_argument("profile", metavar="PROFILE.yaml")
    r.add_argument("sessions", nargs="+", metavar="HELDOUT", help="held-out *_raw.fif sessions")
    r.add_argument("--out", required=True, metavar="DIR")
    r.add_argument("--seed", type=int, default=0)
    r.set_defaults(func=_report)


def _model_args(p):
    p.add_argument("--model", choices=("spectral", "var"), default="spectral")
    p.add_argument("--activity", action="append", dest="activities", metavar="A",
                   help="fit only this activity (repeatable; default: all but test_signal)")


def _fit(args):
    from noise_profiles.profile import fit

    prof = fit(args.sessions, activities=args.activities, model=args.model)
    prof.save(args.out)
    _print_fitted(prof, args.out, args.quiet)
    return 0


def _print_fitted(prof, out, quiet):
    if not quiet:
        print(f"wrote {out} ({prof.model} model; activities: {', '.join(prof.activities_)}; "
              f"{len(prof.ch_names_)} channels at {prof.sfreq_:g} Hz)")


def _sample(args):
    from pathlib import Path

    import numpy as np

    from noise_profiles.storage import load_profile
    from shirtecg_common.errors import UserError

    prof = load_profile(args.profile)
    out = Path(args.out)
    if out.suffix not in (".fif", ".npy"):
        raise UserError(f"{out}: --out must end in .fif or .npy")
    n = int(round(args.seconds * args.sfreq))
    act = args.activity
    x = prof.sample(n, args.sfreq, activity=act, random_state=args.seed,
                    allow_empty_band=args.allow_empty_band)
    act = act or prof.activities_[0]
    tmp = out.with_name(f".tmp_{out.stem}" + ("_raw.fif" if out.suffix == ".fif" else ".npy"))
    if out.suffix == ".npy":
        np.save(tmp, x)
    else:
        from noise_profiles.sessions import make_raw

        make_raw(x, args.sfreq, act, prof.ch_names_, prof.ch_leads_).save(
            tmp, overwrite=True, verbose="error")
    import os

    os.replace(tmp, out)
    print(f"wrote {out}: {x.shape[0]} channels x {n} samples ({args.seconds:g} s at "
          f"{args.sfreq:g} Hz, activity {act}, volts)")
    return 0


def _validate(args):
    from noise_profiles.storage import load_profile
    from noise_profiles.validation import validate

    rep = validate(load_profile(args.profile), args.sessions, random_state=args.seed)
    print(rep.to_markdown())
    if args.report:
        from noise_profiles.report import write_report

        files = write_report(rep, args.report)
        print(f"\nwrote {len(files)} files to {args.report}")
    return 0


def _show(args):
    import numpy as np

    from noise_profiles.storage import load_profile

    p = load_profile(args.profile)
    print(f"profile {args.profile}: {p.model} model, {p.sfreq_:g} Hz, units {p.units_}")
    print(f"hash    {p.content_hash()[:16]}")
    print("channels " + ", ".join(f"{n} ({ld or '-'})" for n, ld in zip(p.ch_names_, p.ch_leads_)))
    for src in p.provenance_:
        print(f"source  {src['path']}  sha256 {str(src['sha256'])[:16]}")
    print("| activity | seconds | grid (Hz) | RMS per channel (µV) | mains | events/min "
          "| lines (Hz) | envelope σ per band (Np) | regimes | rails (mV) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for act in p.activities_:
        s = p.models_[act]
        rms = ", ".join(f"{v * 1e6:.1f}" for v in np.asarray(s["rms_v"]))
        mains = f"{s['line_freq_hz']:g} Hz" if s["line_freq_hz"] else "none"
        grid = f"{s['freqs'][1]:.3f}" if "freqs" in s else "VAR"
        lines = ", ".join(f"{f:.2f}" for f in np.asarray(s["qp_freqs_hz"])) or "none"
        regimes = "one"
        if s.get("regime_enabled"):
            from noise_profiles.regimes import burst_fraction

            dwell = np.asarray(s["regime_dwell_s"])
            med = np.median(dwell, axis=1)
            regimes = (f"quiet/burst, {100 * burst_fraction(dwell):.0f} % of time in bursts, "
                       f"median dwell {med[0]:.2f}/{med[1]:.2f} s")
        print(f"| {act} | {s['duration_s']:.0f} | {grid} | {rms} | {mains} | "
              f"{60 * s['event_rate_per_s']:.2f} | {lines} | "
              f"{', '.join(f'{v:.2f}' for v in np.asarray(s['env_sigma_ln']))} | {regimes} | "
              f"{_rails_text(s, p.ch_names_)} |")
    return 0


def _rails_text(state, ch_names):
    """``"II -1.40/+1.60"`` per channel the amplifier clips (about the noise's mean)."""
    import numpy as np

    on = np.asarray(state.get("rail_on", np.zeros((0, 2))), bool)
    volts = np.asarray(state.get("rail_v", np.zeros((0, 2))), float)
    cells = [f"{name} " + "/".join(f"{1e3 * v:+.2f}" if o else "none"
                                   for v, o in zip(volts[c], on[c]))
             for c, name in enumerate(ch_names) if c < len(on) and on[c].any()]
    return ", ".join(cells) or "none"


def _from_ecg(args):
    from noise_profiles.from_ecg import noise_from_ecg
    from noise_profiles.profile import fit
    from noise_profiles.recordings import read_recording
    from shirtecg_common.progress import Progress

    residuals = []
    quiet = args.quiet or None
    with Progress(len(args.recordings), "noise_from_ecg", "recordings", quiet=quiet) as pr:
        for path in args.recordings:
            noise, info = noise_from_ecg(read_recording(path, args.sfreq))
            residuals.append(noise)
            pr.update()
            if not args.quiet:
                print(f"\n{path}: {len(info['r_peaks'])} beats, {info['heart_rate_bpm']:.0f} bpm, "
                      f"QRS energy left {100 * info['qrs_energy_ratio']:.1f} %")
    prof = fit(residuals, activities=args.activities, model=args.model)
    prof.provenance_ = [{"path": str(p), "sha256": _sha(p)} for p in args.recordings]
    prof.save(args.out)
    _print_fitted(prof, args.out, args.quiet)
    return 0


def _sha(path):
    from pathlib import Path

    from noise_profiles.sessions import file_sha256

    return file_sha256(path) if Path(path).is_file() else None


def _report(args):
    from noise_profiles.report import write_report
    from noise_profiles.storage import load_profile
    from noise_profiles.validation import validate

    rep = validate(load_profile(args.profile), args.sessions, random_state=args.seed)
    files = write_report(rep, args.out, title=f"Noise profile {args.profile}")
    print(rep.to_markdown())
    print(f"\nwrote {len(files)} files to {args.out}")
    return 0


def main(argv=None) -> int:
    """``python -m noise_profiles``."""
    return run(build_parser("python -m noise_profiles", __doc__.split("\n\n")[0], [add_parser]),
               argv)
