"""Command-line handlers: ``shirtecg record``, ``shirtecg recover``, ``shirtecg device list``.

Added to the ``acquisition`` command line by :mod:`acquisition.cli`. Heavy imports (mne)
happen inside the handlers so ``shirtecg --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

from shirtecg_common.cli import add_quiet
from shirtecg_common.errors import UserError

FORMATS = ("shirt-v1", "openbci-cyton", "ascii")
DEFAULT_BAUD = {"shirt-v1": 921600, "openbci-cyton": 115200, "ascii": 115200}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def add_record_parsers(sub):
    """Add ``record`` and ``recover`` to the sub-parser set ``sub``."""
    p = sub.add_parser(
        "record", help="record a labelled noise session from a serial port to NAME_raw.fif",
        description="Record a labelled device-noise session. Bytes reach disk as they arrive "
                    "(NAME.capture + NAME.journal.jsonl); an unplug or stall reconnects to the "
                    "same device (found again by its USB ids when device.yaml gives them) "
                    "and continues the same session; Ctrl-C stops and saves.")
    p.add_argument("--port", metavar="URL",
                   help="device path (/dev/ttyUSB0, COM3) or any pyserial URL "
                        "(loop://, socket://HOST:PORT, spy://PORT); default: the port whose "
                        "USB ids match --device's usb: (also used to find the device again "
                        "under a new name after an unplug)")
    p.add_argument("--format", choices=FORMATS, help="stream format (default: device.yaml's)")
    p.add_argument("--baud", type=int, help="line speed (default: device.yaml's, else 921600 "
                                            "for shirt-v1, 115200 otherwise)")
    p.add_argument("--device", metavar="YAML", help="device.yaml: channels, leads, scale")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--protocol", metavar="YAML",
                      help="protocol: list of {activity, seconds, prompt} steps")
    what.add_argument("--activity", metavar="NAME", help="one activity (with --seconds)")
    what.add_argument("--free", action="store_true",
                      help="free recording: mark activities with keys while recording "
                           "(s sitting, w walking, a arm_movement, r rest, space ends the "
                           "activity, q stops); from a terminal key by key, else one per line")
    p.add_argument("--seconds", type=float,
                   help="duration of --activity; with --free, stop after this long")
    p.add_argument("--keys", metavar="K=ACT,...",
                   help="with --free: the activity keys instead of the default "
                        "s=sitting,w=walking,a=arm_movement,r=rest")
    p.add_argument("--out", required=True, metavar="DIR", help="session folder")
    p.add_argument("--name", help="session name (default noise-YYYYmmddTHHMMSS, UTC)")
    p.add_argument("--export", choices=("edf", "bdf"), help="also write NAME.edf / NAME.bdf")
    p.add_argument("--sfreq", type=float, help="sampling rate in Hz (ascii without device.yaml)")
    p.add_argument("--scale", type=float, metavar="V_PER_COUNT",
                   help="volts per ADC count (overrides device.yaml and the info frame)")
    p.add_argument("--channels", type=int, metavar="N",
                   help="ascii: channels per line (then N+1 fields means a counter column)")
    p.add_argument("--handshake-timeout", type=float, default=3.0, metavar="S",
                   help="seconds to wait for the device's first answer (default 3)")
    p.add_argument("--stall-timeout", type=float, default=2.0, metavar="S",
                   help="seconds without samples before reconnecting (default 2)")
    p.add_argument("--reconnect-timeout", type=float, default=30.0, metavar="S",
                   help="seconds to get the device back after an unplug (default 30)")
    add_quiet(p)
    p.set_defaults(func=record_command)

    p = sub.add_parser(
        "recover", help="rebuild NAME_raw.fif from the capture after a crash or SIGKILL",
        description="Rebuild session FIF files from NAME.capture + NAME.journal.jsonl: the same "
                    "file a clean stop would have written, with everything received.")
    p.add_argument("dir", metavar="DIR", help="session folder")
    p.add_argument("--name", help="only this session (default: every session in DIR)")
    p.add_argument("--export", choices=("edf", "bdf"), help="also write NAME.edf / NAME.bdf")
    p.set_defaults(func=recover_command)


def add_device_list_parser(device_sub):
    """Add ``list`` to the ``device`` sub-parser set."""
    p = device_sub.add_parser("list", help="list serial ports (VID:PID, serial number)")
    p.add_argument("--device", metavar="YAML",
                   help="mark the ports whose USB ids match this device.yaml")
    p.set_defaults(func=device_list_command)


def record_command(args) -> int:
    """``shirtecg record``."""
    from acquisition.activity_keys import DEFAULT_KEY_MAP, parse_key_map
    from acquisition.protocol import load_protocol, make_step
    from acquisition.recorder import Recorder, RecordTimeouts
    from acquisition.stream_settings import device_to_dict
    from acquisition.transport import DisconnectedError

    device = device_dict = None
    if args.device:
        from acquisition.device import load_device

        device = load_device(args.device)
        device_dict = device_to_dict(device, Path(args.device).resolve())
    if args.port is None and not (device and device.usb):
        raise UserError("give --port, or --device device.yaml with usb: {vid, pid, "
                        "serial_number} to find the device by (`shirtecg device list`)")
    fmt = args.format or (device.format if device else None)
    if fmt is None:
        raise UserError("give --format (shirt-v1, openbci-cyton, ascii) or --device device.yaml")
    if args.keys is not None and not args.free:
        raise UserError("--keys goes with --free (activity keys while recording)")
    if args.protocol:
        if args.seconds is not None:
            raise UserError("--seconds goes with --activity or --free, not --protocol")
        steps = load_protocol(args.protocol)
    elif args.free:
        if args.seconds is not None and not args.seconds > 0:
            raise UserError(f"--seconds must be > 0, got {args.seconds:g}")
        steps = None
    else:
        if args.seconds is None:
            raise UserError("--activity needs --seconds (the duration of the recording)")
        steps = [make_step(args.activity, args.seconds, where="--activity/--seconds")]
    name = args.name or dt.datetime.now(dt.timezone.utc).strftime("noise-%Y%m%dT%H%M%S")
    if not _NAME_RE.match(name):
        raise UserError(f"--name {name!r}: use letters, digits, '_', '-', '.'")
    baud = args.baud or (device.baud if device and device.baud else DEFAULT_BAUD[fmt])
    for opt in ("handshake_timeout", "stall_timeout", "reconnect_timeout"):
        if not getattr(args, opt) > 0:
            raise UserError(f"--{opt.replace('_', '-')} must be > 0")
    timeouts = RecordTimeouts(handshake_s=args.handshake_timeout, stall_s=args.stall_timeout,
                              reconnect_s=args.reconnect_timeout)
    recorder = Recorder(args.port, fmt, args.out, name, steps, baud=baud, device=device_dict,
                        sfreq=args.sfreq, scale=args.scale, n_channels=args.channels,
                        timeouts=timeouts, quiet=args.quiet,
                        keys=sys.stdin if args.free else None, seconds=args.seconds,
                        key_map=parse_key_map(args.keys) if args.keys else DEFAULT_KEY_MAP)
    try:
        path, meta = recorder.run()
    except DisconnectedError:
        if args.export:
            _export(Path(args.out), name, args.export, args.quiet)
        raise
    except KeyboardInterrupt:
        print(f"aborted; the capture is kept: `shirtecg recover {args.out} --name {name}` "
              "builds the FIF", file=sys.stderr)
        raise
    if not args.quiet:
        print(_summary(path, meta))
    if args.export:
        _export(Path(args.out), name, args.export, args.quiet)
    return 0


def recover_command(args) -> int:
    """``shirtecg recover``."""
    from acquisition.session import finalize_session, find_sessions

    folder = Path(args.dir)
    if not folder.is_dir():
        raise UserError(f"{folder}: no such session folder")
    names = [args.name] if args.name else find_sessions(folder)
    if not names:
        raise UserError(f"{folder}: no session journal (*.journal.jsonl) found")
    failed = []
    for name in names:
        try:
            path, meta = finalize_session(folder, name)
        except UserError as err:
            if len(names) == 1:
                raise
            failed.append(name)  # keep going: one broken session must not block the rest
            print(f"{name}: {' '.join(str(err).split())}", file=sys.stderr)
            continue
        print(_summary(path, meta))
        if args.export:
            _export(folder, name, args.export, quiet=False)
    if failed:
        raise UserError(f"{folder}: {len(failed)} of {len(names)} sessions could not be "
                        f"recovered ({', '.join(failed)})")
    return 0


def device_list_command(args) -> int:
    """``shirtecg device list``."""
    from acquisition.transport import format_port_table, list_serial_ports

    usb = None
    if args.device:
        from acquisition.device import load_device

        usb = load_device(args.device).usb or {}
        if not usb:
            print(f"note: {args.device} has no usb: ids to match", file=sys.stderr)
    print(format_port_table(list_serial_ports(usb)))
    return 0


def _summary(path, meta) -> str:
    c = meta["counts"]
    seconds = meta["n_samples"] / meta["sfreq"]
    return (f"saved {path}: {len(meta['channels'])} ch × {meta['n_samples']} samples "
            f"({seconds:.1f} s at {meta['sfreq']:g} Hz); frames {c['frames']}, lost samples "
            f"{c['lost_samples']} in {len(meta['gaps'])} gaps, CRC errors {c['crc_errors']}, "
            f"resyncs {c['resyncs']}, junk bytes {c['junk_bytes']}, reconnects {c['reconnects']}")


def _export(folder, name, fmt, quiet):
    from acquisition.export import export_session
    from acquisition.session import fif_path, read_session

    raw, meta = read_session(fif_path(folder, name))
    report = export_session(raw, folder / f"{name}.{fmt}", fmt, meta["volts_per_count"])
    if not quiet:
        worst = max(report["step_counts"])
        note = "no loss of resolution" if report["lossless"] else \
            f"coarser than the ADC (up to {worst:.1f} counts per step); use --export bdf"
        print(f"exported {report['path']} (step ≤ {max(report['step_uv']):.4g} µV, {note})")
    return report
