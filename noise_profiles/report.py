"""Pictures and tables of a validation: PSD, coherence and 1-s RMS overlays + Markdown."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from shirtecg_common.files import atomic_write_text


def write_report(report, out_dir, title="Noise profile validation"):
    """Write ``<activity>_psd.png``, ``_coherence.png``, ``_rms.png`` and ``report.md``.

    Returns the list of files written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written, md = [], [f"# {title}", "", report.to_markdown(), ""]
    for act, c in report.curves.items():
        f = c["freqs"]
        sel = f > 0
        n_ch = c["psd_ref"].shape[0]
        fig, axes = plt.subplots(n_ch, 1, figsize=(8, 2.2 * n_ch + 0.6), squeeze=False,
                                 sharex=True)
        for i, ax in enumerate(axes[:, 0]):
            ax.loglog(f[sel], c["psd_ref"][i, sel], label="recorded (held out)", lw=1.2)
            ax.loglog(f[sel], c["psd_syn"][i, sel], label="synthesized", lw=1.0, alpha=0.8)
            ax.set_ylabel(f"{report.ch_names[i]}\nV²/Hz")
            ax.axvspan(0.5, 150, color="0.93", zorder=0)
        axes[0, 0].legend(loc="upper right", fontsize=8)
        axes[0, 0].set_title(f"{act}: power spectral density (grey: LSD band 0.5-150 Hz)")
        axes[-1, 0].set_xlabel("frequency (Hz)")
        written.append(_save(fig, out / f"{act}_psd.png"))
        if c["coh_ref"].shape[0]:
            iu = np.triu_indices(n_ch, 1)
            n_p = c["coh_ref"].shape[0]
            fig, axes = plt.subplots(n_p, 1, figsize=(8, 1.6 * n_p + 0.6), squeeze=False,
                                     sharex=True)
            for k, ax in enumerate(axes[:, 0]):
                ax.semilogx(f[sel], c["coh_ref"][k, sel], lw=1.2, label="recorded")
                ax.semilogx(f[sel], c["coh_syn"][k, sel], lw=1.0, alpha=0.8, label="synthesized")
                ax.set_ylim(0, 1)
                ax.axvspan(0.5, 150, color="0.93", zorder=0)
                ax.set_ylabel(f"{report.ch_names[iu[0][k]]}-{report.ch_names[iu[1][k]]}",
                              fontsize=8)
            axes[0, 0].legend(loc="upper right", fontsize=8)
            # what the coherence error compares: spectra averaged over 1/6 octave first
            axes[0, 0].set_title(f"{act}: magnitude-squared coherence (cross- and auto-spectra "
                                 "averaged over 1/6 octave)", fontsize=9)
            axes[-1, 0].set_xlabel("frequency (Hz)")
            written.append(_save(fig, out / f"{act}_coherence.png"))
        fig, axes = plt.subplots(1, n_ch, figsize=(3 * n_ch + 1, 2.8), squeeze=False)
        for i, ax in enumerate(axes[0]):
            r, s = c["rms_ref"][i] * 1e6, c["rms_syn"][i] * 1e6
            if len(r) and len(s):
                bins = np.geomspace(max(min(r.min(), s.min()), 1e-3), max(r.max(), s.max()), 25)
                ax.hist(r, bins, alpha=0.6, label="recorded", density=True)
                ax.hist(s, bins, alpha=0.6, label="synthesized", density=True)
                ax.set_xscale("log")
            ax.set_xlabel(f"{report.ch_names[i]} 1-s RMS (µV)")
        axes[0, 0].legend(fontsize=8)
        fig.suptitle(f"{act}: 1-s RMS distribution")
        written.append(_save(fig, out / f"{act}_rms.png"))
        md += [f"## {act}", ""] + [f"![{p.stem}]({p.name})" for p in written
                                   if p.stem.startswith(act + "_")] + [""]
    md_path = out / "report.md"
    atomic_write_text(md_path, "\n".join(md))
    return written + [md_path]


def _save(fig, path):
    import matplotlib.pyplot as plt

    fig.tight_layout()
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    os.replace(tmp, path)
    return path
