"""``DIR/report.md`` of ``shirtecg demo`` and its figures (``DIR/figures/*.png``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import signal

from calibration.report import format_number
from shirtecg_common.files import atomic_write_text


def write_demo_report(out, r):
    """Write the figures and ``report.md``; returns the report path."""
    import matplotlib

    matplotlib.use("Agg")
    out = Path(out)
    fig_dir = out / "figures"
    fig_dir.mkdir(exist_ok=True)
    _noise_psd(r, fig_dir / "noise_psd.png")
    _grid(r, fig_dir / "ecg_12lead_before_after.png")
    _ecg_psd(r, fig_dir / "ecg_psd.png")
    _distances(r, fig_dir / "distances.png")

    cal, fitter, v = r["adc"], r["fitter"], r["validation"]
    d = fitter.distances_
    lines = ["# shirtecg demo", "",
             f"Everything below ran on this machine in {r['wall_s']:.0f} s, nothing downloaded: a "
             "shirt emulator streaming shirt-v1 frames on a pseudo-terminal, the recorder, the "
             "noise profile, the augmentation and the calibration.", "",
             "## 1. ADC calibration (test square wave, 1 mV peak-to-peak, 1 Hz)", "",
             "| channel | measured µV/count | vs nominal | ± (rel) | true gain error |",
             "|---|---:|---:|---:|---:|"]
    from shirtecg.demo_steps import GAIN_ERRORS

    for i, name in enumerate(cal.ch_names_):
        rel = cal.volts_per_count_[i] / cal.nominal_volts_per_count_[i] - 1
        lines.append(f"| {name} | {cal.volts_per_count_[i] * 1e6:.6f} | {rel:+.3%} | "
                     f"{cal.gain_rel_uncertainty_[i]:.3%} | {GAIN_ERRORS[i]:+.3%} |")
    lines += ["", "Written into `device.yaml` (`calibration:`), so later sessions are in "
              "true volts.", "",
              "## 2–3. Noise session and profile", "",
              f"Session `{Path(r['session']).relative_to(out)}`: protocol sitting → walking → "
              f"arm movement, twice, {r['seconds_per_activity'] / 2:g} s per activity and "
              f"pass. Profile `{Path(r['profile_path']).relative_to(out)}` fitted on the "
              "first pass, validated on the second (held out):", "",
              v.to_markdown().split("\n\n")[0], "",
              "For scale, the recorded first pass itself validated against the second: what "
              "the recording's own pass-to-pass change costs, which a model fitted on one pass "
              "is not expected to beat. Short passes leave little to compare, so the targets are for "
              "minutes of noise: `python benchmarks/run.py noise_profiles`.", "",
              r["validation_floor"].to_markdown().split("\n\n")[0], "",
              "![noise PSD](figures/noise_psd.png)", "",
              "Recorded (held-out) vs profile-synthesized noise, lead II, per activity.", "",
              "## 4. Augmentation (`wearable` + the profile)", "",
              "![12-lead](figures/ecg_12lead_before_after.png)", "",
              "One synthetic record: original, `wearable` as shipped, and `wearable` "
              "calibrated to the shirt.", "",
              "## 5. Calibration against emulated shirt ECG", "",
              "| public records | energy distance | classifier AUC |", "|---|---:|---:|"]
    for label, text in (("raw", "not augmented"), ("initial", "wearable as shipped"),
                        ("calibrated", "wearable calibrated")):
        lines.append(f"| {text} | {d[label]['energy']:.3f} | {d[label]['auc']:.3f} |")
    lines += ["", "![distances](figures/distances.png)", "",
              "![ECG PSD](figures/ecg_psd.png)", "",
              "The emulated shirt ECG was made with the ECG at 0.75× and the profile noise at "
              "1.5× the recorded level, without the preset's parametric artifacts. Calibrated "
              "parameters (the preset's tunables plus `amplitude_scale` and `artifacts__p`):",
              "", "| parameter | shipped | calibrated |", "|---|---:|---:|"]
    for k in fitter.space_.keys:
        lines.append(f"| `{k}` | {format_number(fitter.initial_params_[k])} | "
                     f"{format_number(fitter.best_params_[k])} |")
    lines += ["", "What still differs most (details and the full to-do list in "
              "[calibration/report.md](calibration/report.md)):", ""]
    for name, diff in fitter.feature_differences("calibrated")[:5]:
        lines.append(f"- `{name}`: augmented {'higher' if diff > 0 else 'lower'} by "
                     f"{abs(diff):.2f} device SD")
    lines += ["", "## Files", "",
              "- `device.yaml` — the shirt, with its measured ADC calibration",
              "- `sessions/*_raw.fif` — the recorded sessions (test signal, noise protocol)",
              f"- `{Path(r['profile_path']).relative_to(out)}` (+ `.npz`) — the noise profile",
              "- `calibrated_pipeline.yaml` — `shirtecg augment run --pipeline "
              "calibrated_pipeline.yaml --profile profile/shirt_profile.yaml …`",
              "- `calibration/` — the calibration report and its figures",
              "- `work/` — emulator and recorder logs, the played-back noise", ""]
    path = out / "report.md"
    return atomic_write_text(path, "\n".join(lines))


def _noise_psd(r, path):
    import matplotlib.pyplot as plt

    profile, raw = r["profile"], r["held_out"]
    sf = raw.info["sfreq"]
    ch = raw.ch_names.index("II") if "II" in raw.ch_names else 0
    acts = list(profile.activities_)
    fig, axes = plt.subplots(1, len(acts), figsize=(4.2 * len(acts), 3.4), squeeze=False)
    data = raw.get_data()
    for ax, act in zip(axes[0], acts):
        segs = [a for a in raw.annotations if a["description"] == act]
        rec = np.concatenate([data[ch, int((a["onset"] - raw.first_time) * sf):
                                   int((a["onset"] - raw.first_time + a["duration"]) * sf)]
                              for a in segs]) if segs else data[ch]
        syn = profile.sample(len(rec), sf, activity=act, random_state=0)[ch]
        for x, c, label in ((rec, "k", "recorded (held out)"), (syn, "tab:blue", "profile")):
            f, p = signal.welch(np.nan_to_num(x) * 1e6, fs=sf, nperseg=int(min(len(x), 2 * sf)))
            ax.loglog(f[1:], p[1:], color=c, lw=1.2, label=label)
        ax.set_title(act)
        ax.set_xlabel("Hz")
        ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].set_ylabel("PSD (µV²/Hz)")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _grid(r, path):
    import matplotlib.pyplot as plt

    from augment.leads import LEADS_12
    from augment.preview import draw_ecg

    x = r["public"][:1]
    sf = r["sfreq"]
    shipped = r["pipeline"](x, sf, random_state=[7])[0]
    calibrated = r["fitter"].best_pipeline_(x, sf, random_state=[7])[0]
    fig, axes = plt.subplots(3, 1, figsize=(11, 15))
    for ax, sig, title in zip(axes, (x[0], shipped, calibrated),
                              ("original (synthetic)", "wearable as shipped",
                               "wearable calibrated to the shirt")):
        draw_ecg(ax, np.asarray(sig), sf, LEADS_12, title=title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _ecg_psd(r, path):
    import matplotlib.pyplot as plt

    fitter = r["fitter"]
    sf = fitter.device_sfreq_
    sets = (("shirt ECG (emulated)", r["device_ecg"], "k"),
            ("wearable as shipped", fitter.augment(fitter.pipeline), "tab:orange"),
            ("wearable calibrated", fitter.augment(fitter.best_pipeline_), "tab:blue"))
    leads = fitter.device_leads_
    fig, axes = plt.subplots(1, len(leads), figsize=(4.2 * len(leads), 3.4), squeeze=False)
    for label, x, c in sets:
        f, p = signal.welch(np.asarray(x, float), fs=sf, nperseg=int(4 * sf), axis=-1)
        p = np.median(p, axis=0)
        for j, ax in enumerate(axes[0]):
            ax.loglog(f[1:], p[j, 1:], color=c, lw=1.2, label=label)
    for ax, lead in zip(axes[0], leads):
        ax.set_title(f"lead {lead}")
        ax.set_xlabel("Hz")
        ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].set_ylabel("median PSD (mV²/Hz)")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _distances(r, path):
    import matplotlib.pyplot as plt

    d = r["fitter"].distances_
    labels = ("not augmented", "shipped", "calibrated")
    keys = ("raw", "initial", "calibrated")
    fig, axes = plt.subplots(1, 2, figsize=(8, 3))
    axes[0].bar(labels, [d[k]["energy"] for k in keys], color=["0.6", "tab:orange", "tab:blue"])
    axes[0].set_title("energy distance to shirt ECG")
    axes[1].bar(labels, [d[k]["auc"] for k in keys], color=["0.6", "tab:orange", "tab:blue"])
    axes[1].axhline(0.5, color="k", lw=0.8, ls="--")
    axes[1].set_ylim(0, 1)
    axes[1].set_title("classifier AUC (0.5 = indistinguishable)")
    for ax in axes:
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
