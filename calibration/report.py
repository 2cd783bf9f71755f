"""The calibration report: Markdown + PNGs a person reads to judge the fit and plan the next
recording session.

``write_report(fitter, out_dir, ...)`` writes ``report.md`` with the distances before/after,
the calibrated parameters, the features that still differ most (each with what usually causes
it), and the figures ``psd_overlay.png``, ``feature_overlays.png``, ``search_history.png`` and
``example_traces.png``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import signal

from shirtecg_common.files import atomic_write_text

#: What usually moves a feature, so the to-do list says where to look.
HINTS = {
    "bp_lt0.7": "baseline wander (breathing, slow electrode drift): baseline-wander amplitude, "
                "profile noise of resting activities",
    "bp_0.7-5": "motion artifacts (steps, arm swings): walking-artifact / baseline-shift "
                "strength, profile noise of moving activities",
    "bp_5-15": "QRS energy: heart rate (HeartRateChange: beats per window), amplitude "
               "scale, motion artifacts",
    "bp_15-40": "QRS detail and muscle noise: QRS shape (electrode position; a uniform "
                "TimeStretch narrows QRS), EMG amplitude, device low-pass",
    "bp_40-150": "EMG and electronics noise: EMG / Gaussian noise level, device low-pass",
    "bp_mains": "powerline pickup: powerline amplitude (shielding, electrode contact)",
    "rms1s_p10": "quiet stretches: the noise floor (Gaussian / profile noise at rest)",
    "rms1s_p50": "typical 1-s level: overall noise and ECG amplitude",
    "rms1s_p90": "loud stretches: bursts, contact interruptions, dropouts",
    "kurtosis": "spikiness: heart rate (more beats, lower kurtosis), bursts and dropouts "
                "vs smooth noise",
    "qrs_amp": "ECG amplitude: amplitude scale, electrode position, the device gain "
               "(shirtecg calibrate adc)",
    "corr": "lead-to-lead correlation: spatial transforms, common-mode noise",
}


def hint(name):
    """Cause of a feature difference, from its name (``II:bp_mains`` → powerline)."""
    key = name.split(":", 1)[1] if not name.startswith("corr:") else "corr"
    return HINTS.get(key, "")


def write_report(fitter, out_dir, *, title="Augmentation calibration", inputs=None,
                 calibrated_yaml=None, n_todo=10):
    """Write ``report.md`` and the PNGs into ``out_dir``; returns the Markdown path."""
    import matplotlib

    matplotlib.use("Agg")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _plot_psd(fitter, out_dir / "psd_overlay.png")
    top = _plot_overlays(fitter, out_dir / "feature_overlays.png")
    _plot_history(fitter, out_dir / "search_history.png")
    _plot_examples(fitter, out_dir / "example_traces.png")

    d = fitter.distances_
    lines = [f"# {title}", ""]
    for k, v in (inputs or {}).items():
        lines.append(f"- **{k}**: {v}")
    if calibrated_yaml:
        lines.append(f"- **calibrated pipeline**: `{calibrated_yaml}` "
                     "(use it with `shirtecg augment run --pipeline`)")
    lines += [f"- **search**: {len(fitter.history_)} evaluations in {fitter.fit_time_s_:.1f} s",
              "", "## Distance to the device records", "",
              "Energy distance on features standardized by the device records' own spread "
              "(0 = same distribution); classifier AUC = cross-validated two-sample test "
              "(0.5 = indistinguishable, 1 = always told apart); grouped: the folds never "
              "split a recording (or subject), so the classifier is scored on recordings it "
              "did not see (– when a set has fewer than 2).", "",
              "| public records | energy distance | classifier AUC | AUC, grouped folds |",
              "|---|---:|---:|---:|"]
    for label, text in (("raw", "not augmented"), ("initial", "given pipeline"),
                        ("calibrated", "calibrated pipeline")):
        g = d[label].get("auc_grouped")
        lines.append(f"| {text} | {d[label]['energy']:.3f} | {d[label]['auc']:.3f} | "
                     f"{'–' if g is None else f'{g:.3f}'} |")
    lines += ["", "## Calibrated parameters", "", "| parameter | range | given | calibrated |",
              "|---|---|---:|---:|"]
    for k, lo, hi, lg in zip(fitter.space_.keys, fitter.space_.low, fitter.space_.high,
                             fitter.space_.log):
        lines.append(f"| `{k}` | {lo:g} – {hi:g}{' (log)' if lg else ''} | "
                     f"{format_number(fitter.initial_params_[k])} | "
                     f"{format_number(fitter.best_params_[k])} |")
    lines += ["", "## What still differs (to-do list for the next recording session)", "",
              "Standardized mean difference, calibrated augmented minus device (in device "
              "standard deviations); |d| > 1 is a visible mismatch.", "",
              "| feature | d (given) | d (calibrated) | augmented is | usually caused by |",
              "|---|---:|---:|---|---|"]
    before = dict(fitter.feature_differences("initial"))
    for name, diff in fitter.feature_differences("calibrated")[:n_todo]:
        direction = "higher" if diff > 0 else "lower"
        lines.append(f"| `{name}` | {before[name]:+.2f} | {diff:+.2f} | {direction} | "
                     f"{hint(name)} |")
    rows, auc_all = fitter.feature_giveaways("calibrated")
    lines += ["", "## What gives the augmented records away", "",
              f"The classifier's AUC with every feature: {auc_all:.3f}. Per feature: its "
              "AUC alone (0.5 = same distribution; below 0.5: lower in the augmented "
              "records) and the classifier's AUC without it (a large drop from "
              f"{auc_all:.3f}: the classifier relies on it, possibly only together with "
              "another feature).", "",
              "| feature | AUC alone | classifier AUC without it |", "|---|---:|---:|"]
    for r in rows[:n_todo]:
        w = r["auc_without"]
        lines.append(f"| `{r['name']}` | {r['auc_alone']:.3f} | "
                     f"{'–' if w is None else f'{w:.3f}'} |")
    lines += ["", "## Figures", "",
              "![PSD overlay](psd_overlay.png)", "",
              "Median power spectra per device lead: device records vs public records raw, "
              "with the given and with the calibrated pipeline.", "",
              "![Feature overlays](feature_overlays.png)", "",
              f"Distributions of the {len(top)} features that differed most before "
              "calibration.", "",
              "![Search history](search_history.png)", "",
              "![Example traces](example_traces.png)", ""]
    path = out_dir / "report.md"
    return atomic_write_text(path, "\n".join(lines))


def format_number(v):
    """A parameter value for a Markdown table: numbers to 4 significant digits, else ``str``."""
    return f"{v:.4g}" if isinstance(v, (int, float, np.floating)) else str(v)


def _median_psd(x, sfreq):
    nper = int(min(x.shape[-1], 4 * sfreq))
    f, p = signal.welch(x, fs=sfreq, nperseg=nper, axis=-1)
    return f, np.median(p, axis=0)


def _plot_psd(fitter, path):
    import matplotlib.pyplot as plt

    sf = fitter.device_sfreq_
    sets = {"device": _device_array(fitter), "raw": fitter.augment(_Identity()),
            "given": fitter.augment(fitter.pipeline),
            "calibrated": fitter.augment(fitter.best_pipeline_)}
    leads = fitter.device_leads_
    n = len(leads)
    fig, axes = plt.subplots(1, n, figsize=(4.5 * n, 3.6), squeeze=False)
    styles = {"device": ("k", 2.0), "raw": ("0.6", 1.0), "given": ("tab:orange", 1.2),
              "calibrated": ("tab:blue", 1.5)}
    for label, x in sets.items():
        f, p = _median_psd(np.asarray(x, float), sf)
        for j in range(n):
            c, lw = styles[label]
            axes[0, j].loglog(f[1:], p[j, 1:], color=c, lw=lw, label=label)
    for j, lead in enumerate(leads):
        ax = axes[0, j]
        ax.set_title(f"lead {lead}")
        ax.set_xlabel("Hz")
        ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].set_ylabel("PSD (mV²/Hz)")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _plot_overlays(fitter, path, n=8):
    import matplotlib.pyplot as plt

    names = fitter.features_["names"]
    top = [name for name, _ in fitter.feature_differences("initial")[:n]]
    cols = min(4, len(top))
    rows = int(np.ceil(len(top) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.6 * rows), squeeze=False)
    for ax, name in zip(axes.flat, top):
        j = names.index(name)
        data = [fitter.features_[k][:, j] for k in ("device", "initial", "calibrated")]
        lo = min(v.min() for v in data)
        hi = max(v.max() for v in data)
        bins = np.linspace(lo, hi + 1e-9, 20)
        for v, c, label in zip(data, ("k", "tab:orange", "tab:blue"),
                               ("device", "given", "calibrated")):
            ax.hist(v, bins=bins, density=True, histtype="step", color=c, lw=1.5, label=label)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(top):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return top


def _plot_history(fitter, path):
    import matplotlib.pyplot as plt

    e = np.array([h["energy"] for h in fitter.history_], float)
    phases = [h["phase"] for h in fitter.history_]
    fig, ax = plt.subplots(figsize=(6, 3))
    finite = np.isfinite(e)
    floor = np.nanmin(e[finite]) if finite.any() else 0.0
    shift = max(1e-3 - floor, 0.0)  # the unbiased statistic can dip slightly below 0
    for ph, c in (("initial", "k"), ("random", "tab:gray"), ("refine", "tab:blue")):
        idx = [i for i, p in enumerate(phases) if p == ph and finite[i]]
        ax.semilogy(idx, e[idx] + shift, "o", ms=4, color=c, label=ph)
    best = np.minimum.accumulate(np.where(finite, e, np.inf)) + shift
    ax.semilogy(best, "-", color="tab:blue", lw=1)
    ax.set_xlabel("evaluation")
    ax.set_ylabel("energy distance" + (f" + {shift:.3g}" if shift else ""))
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _plot_examples(fitter, path, seconds=5.0):
    import matplotlib.pyplot as plt

    sf = fitter.device_sfreq_
    n = int(seconds * sf)
    dev = _device_array(fitter)[0, 0, :n]
    cal = fitter.augment(fitter.best_pipeline_)[0, 0, :n]
    raw = fitter.augment(_Identity())[0, 0, :n]
    t = np.arange(n) / sf
    fig, axes = plt.subplots(3, 1, figsize=(9, 5.5), sharex=True)
    for ax, x, label, c in zip(axes, (dev, raw, cal),
                               ("device record", "public record (raw)",
                                "same record, calibrated augmentation"),
                               ("k", "0.5", "tab:blue")):
        ax.plot(t, x, color=c, lw=0.8)
        ax.set_ylabel("mV")
        ax.set_title(f"lead {fitter.device_leads_[0]}: {label}", fontsize=9)
    axes[-1].set_xlabel("s")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _device_array(fitter):
    """The device records as one array (records of different lengths cropped to the shortest)."""
    recs = fitter.device_records_
    if isinstance(recs, np.ndarray):
        return recs
    n = min(r.shape[-1] for r in recs)
    return np.stack([np.asarray(r)[..., :n] for r in recs])


class _Identity:
    """A do-nothing pipeline (the raw public records)."""

    def __call__(self, x, sfreq, random_state=None):
        return np.asarray(x, dtype=np.float32)
