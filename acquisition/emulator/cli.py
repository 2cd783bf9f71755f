"""``shirtecg device emulate``: a serial ECG device on a pseudo-terminal.

Prints ``PORT <path>`` as its first stdout line (flushed): give that path to ``shirtecg record
--port``. The path is a symlink that stays valid across an emulated unplug.
"""

from __future__ import annotations

import sys

from shirtecg_common.errors import UserError

FORMATS = ("shirt-v1", "openbci-cyton", "ascii")
ACTIVITIES = ("rest", "sitting", "walking", "arm_movement", "test_signal")


def add_commands(device_sub):
    """Add ``emulate`` to the ``shirtecg device`` sub-parser set."""
    p = device_sub.add_parser(
        "emulate", help="emulate a serial ECG device on a pseudo-terminal (for tests, demos)",
        description="Stream shirt-v1, OpenBCI Cyton or ASCII frames in real time on a pty: "
                    "synthetic activity noise, a test square wave, or a recording played back "
                    "bit-exact. Answers i (info), b (start), s (stop). Prints 'PORT <path>' first.")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="stream format (default shirt-v1, or device.yaml's)")
    p.add_argument("--device", metavar="YAML", help="take format, rate, channels, scale from it")
    p.add_argument("--channels", type=int, metavar="N", help="number of channels (default 8)")
    p.add_argument("--sfreq", type=float, metavar="HZ",
                   help="sampling rate (default 500; 250 for openbci-cyton; CSV playback rate)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--activity", choices=ACTIVITIES, default="rest",
                      help="synthetic noise to stream (default rest)")
    what.add_argument("--playback", metavar="FILE", help="stream a FIF, WFDB or CSV recording")
    p.add_argument("--seconds", type=float, metavar="S",
                   help="stream length (default: the playback file, or until Ctrl-C)")
    p.add_argument("--faults", default="", metavar="SPEC",
                   help="e.g. 'drop=0.01,crc=0.005,junk=0.01,stall=2.0@3s,unplug=1.5@5s'")
    p.add_argument("--fault-log", metavar="FILE", help="JSON lines of every injected fault")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise and the faults")
    p.add_argument("--baud", type=int, help="check that the stream fits this line speed")
    p.add_argument("--gain", type=float, default=6.0, help="PGA gain announced (default 6)")
    p.add_argument("--vref", type=float, default=2.4, help="ADC reference in V (default 2.4)")
    p.add_argument("--scale", type=float, metavar="V_PER_COUNT",
                   help="volts per count (overrides gain/vref; for CSV/FIF playback)")
    p.add_argument("--csv-unit", choices=("V", "mV", "uV"), default="mV",
                   help="unit of float CSV columns (integer columns are ADC codes)")
    p.add_argument("--test-amplitude-mv", type=float, default=1.0,
                   help="test_signal: peak-to-peak square wave amplitude (default 1.0 mV)")
    p.add_argument("--test-freq-hz", type=float, default=1.0,
                   help="test_signal: square wave frequency (default 1.0 Hz)")
    p.add_argument("--gain-error", metavar="E[,E…]",
                   help="true gain = nominal × (1 + E) per channel, e.g. 0.02,-0.01 (logged)")
    p.add_argument("--offset-counts", metavar="O[,O…]", help="ADC offset per channel (logged)")
    p.add_argument("--highpass-hz", type=float, help="first-order front-end high-pass")
    p.add_argument("--lowpass-hz", type=float, help="first-order front-end low-pass")
    p.add_argument("--line-freq", type=float, default=50.0, help="mains frequency (default 50)")
    p.add_argument("--no-counter", action="store_true", help="ascii: no leading counter column")
    p.add_argument("--link", metavar="PATH", help="where to create the port symlink")
    p.add_argument("--speed", type=float, default=1.0,
                   help="device clock speed vs real time (default 1; e.g. 20 to replay fast)")
    p.add_argument("--idle-timeout", type=float, default=60.0, metavar="S",
                   help="exit after S seconds without streaming: no 'b' (start) since the port "
                        "opened, or none since the last 's' (default 60; 0: never)")
    p.add_argument("--linger", type=float, default=2.0, metavar="S",
                   help="keep the port open this long after the stream ends (default 2)")
    p.set_defaults(func=emulate_command)


def _floats(text, name):
    if text is None:
        return None
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UserError(f"{name}: expected comma-separated numbers, got {text!r}") from None


def build_emulator(args):
    """The :class:`Emulator` described by parsed ``device emulate`` arguments."""
    import numpy as np

    from acquisition.decoders.base import scale_from_gain
    from acquisition.emulator.core import Emulator
    from acquisition.emulator.sources import PlaybackSource, SyntheticSource, gain_vref_for

    fmt, sfreq, n_ch, vpc = args.format, args.sfreq, args.channels, args.scale
    gain, vref = args.gain, args.vref
    dev = None
    if args.device:
        from acquisition.device import load_device

        dev = load_device(args.device)
        fmt = fmt or dev.format
        sfreq = sfreq or dev.sfreq
        n_ch = n_ch or dev.n_channels
        if vpc is None:  # the nominal scale: what the device is built to (calibration measures it)
            vpc = dev.nominal_volts_per_count
    fmt = fmt or "shirt-v1"
    if fmt == "openbci-cyton":
        if n_ch not in (None, 8):
            raise UserError(f"--channels: openbci-cyton packets carry 8 channels, got {n_ch}")
        n_ch = 8
        sfreq = sfreq or 250.0
        if vpc is None and args.gain == 6.0 and not args.device:
            gain, vref = 24.0, 4.5  # the Cyton's default scale
    if args.playback:
        play_vpc = None if vpc is None else float(np.mean(vpc))
        src = PlaybackSource(args.playback, sfreq=sfreq or 500.0, volts_per_count=play_vpc,
                             csv_unit=args.csv_unit,
                             n_channels=None if fmt == "openbci-cyton" else n_ch)
        if fmt == "openbci-cyton":
            if src.n_channels > 8:
                raise UserError(f"{args.playback} has {src.n_channels} channels; Cyton carries 8")
            src.pad_channels(8)
        if args.playback.lower().endswith(".csv") and vpc is None:
            src.volts_per_count[:] = scale_from_gain(gain, vref, src.n_channels)
        gain, vref = gain_vref_for(src.volts_per_count, vref)
    else:
        n_ch = n_ch or 8
        if not 1 <= n_ch <= 82:
            raise UserError(f"--channels must be in 1…82 (what a shirt-v1 frame holds), got {n_ch}")
        sfreq = sfreq or 500.0
        if vpc is None:
            vpc_ch = scale_from_gain(gain, vref, n_ch)
        else:
            vpc_ch = np.atleast_1d(np.asarray(vpc, float))
            if vpc_ch.size > n_ch:  # --channels N keeps the device's first N channels
                vpc_ch = vpc_ch[:n_ch]
            elif vpc_ch.size not in (1, n_ch):  # more channels than the device lists
                vpc_ch = np.full(1, vpc_ch.mean())
            vpc_ch = np.broadcast_to(vpc_ch, (n_ch,)).copy()
            gain, vref = gain_vref_for(vpc_ch, vref)
            gain = gain[0] if np.allclose(gain, gain[0], rtol=1e-12) else gain
        src = SyntheticSource(args.activity, n_ch, sfreq, vpc_ch, random_state=args.seed,
                              gain_error=_floats(args.gain_error, "--gain-error"),
                              offset_counts=_floats(args.offset_counts, "--offset-counts"),
                              amplitude_mv=args.test_amplitude_mv, freq_hz=args.test_freq_hz,
                              highpass_hz=args.highpass_hz, lowpass_hz=args.lowpass_hz,
                              line_freq=args.line_freq)
        if dev is not None and n_ch <= dev.n_channels:  # the device's own names and leads
            src.ch_names, src.leads = list(dev.ch_names[:n_ch]), list(dev.leads[:n_ch])
    emu = Emulator(fmt, src, seconds=args.seconds, faults=args.faults, fault_log=args.fault_log,
                   random_state=args.seed + 1, gain=gain, vref=vref,
                   counter=not args.no_counter, link_path=args.link, linger_s=args.linger,
                   speed=args.speed, idle_timeout_s=args.idle_timeout, device_name=dev.name if dev else "shirtecg-emulator")
    if args.baud:
        check_baud(emu, args.baud)
    return emu


def check_baud(emu, baud):
    """Raise if the stream needs more than ``baud`` (8-N-1: 10 bits per byte) can carry."""
    from acquisition import frames

    per_frame = frames.frame_bytes(emu.fmt, emu.n_channels) or (8 * emu.n_channels + 8)
    need = per_frame * emu.sfreq * 10
    if need > baud:
        raise UserError(f"--baud {baud}: {emu.n_channels} channels at {emu.sfreq:g} Hz in "
                        f"{emu.fmt} need about {need:,.0f} baud; raise --baud or lower "
                        "--sfreq/--channels")


def emulate_command(args) -> int:
    """Handler of ``shirtecg device emulate``."""
    emu = build_emulator(args)
    port = emu.open()
    print(f"PORT {port}", flush=True)
    src = emu.source
    what = f"playback of {args.playback}" if args.playback else f"activity {args.activity}"
    print(f"emulating {emu.fmt}: {emu.n_channels} ch at {emu.sfreq:g} Hz, {what}; "
          f"send 'b' to start, Ctrl-C to end ({src.ch_names[:4]}…)", file=sys.stderr, flush=True)
    emu.install_signal_handlers()
    emu.run()
    if emu.end_reason == "idle_timeout":
        print(f"no host started the stream for {emu.idle_timeout_s:g} s (--idle-timeout); "
              "exiting", file=sys.stderr)
    t = emu.totals
    print(f"sent {t['sent']} of {t['generated']} samples (dropped {t['dropped']}, crc {t['crc']}, "
          f"stalled {t['stalled']}, unplugged {t['unplugged']}, no host {t['host_closed']}, "
          f"unread {t['unread']})",
          file=sys.stderr)
    return 0
