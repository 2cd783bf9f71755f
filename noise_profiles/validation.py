"""``validate(profile, held_out_sessions)``: is synthesized noise like recorded noise?

For each activity, every held-out clean segment gets a synthesized twin of the same
length, and the two sets are compared per channel (``noise_profiles.metrics``). Targets
(DESIGN §4): median log-spectral distance <= 1.5 dB, coherence error <= 0.1, kurtosis
within ±25 %, classifier AUC <= 0.6.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from noise_profiles import metrics
from noise_profiles.sessions import collect_segments, read_sessions
from noise_profiles.spectral import choose_nperseg
from shirtecg_common.errors import UserError
from shirtecg_common.random import check_random_state

MIN_SEGMENT_S = 0.25
TARGETS = {"lsd_db": 1.5, "coherence_error": 0.1, "kurtosis_rel_error": 0.25, "auc": 0.6}

#: metrics that may be n/a (NaN) and then do not fail: coherence of one channel, an AUC
#: with too few windows
NA_PASSES = ("coherence_error", "auc")


def meets_target(key, value) -> bool:
    """Whether one summary metric (a key of :data:`TARGETS`) meets its target."""
    if key in NA_PASSES:
        return bool(not value > TARGETS[key])
    return bool(value <= TARGETS[key])


@dataclass
class ValidationReport:
    """Results of :func:`validate`.

    Attributes
    ----------
    rows : list of dict
        One per (activity, channel): ``lsd_db``, band ratios ``band_<name>_db``,
        ``kurtosis_ref``, ``kurtosis_syn``, ``kurtosis_rel_error``, ``rms_ks``,
        ``rms_median_db``.
    summary : dict
        Per activity: ``lsd_db`` (median over channels), ``coherence_error`` (mean over
        pairs and 0.5-150 Hz, coherence from 1/6-octave band-averaged spectra),
        ``correlation_error`` (zero-lag), ``kurtosis_rel_error`` (max |.| over channels),
        ``auc``, ``passes`` (all four targets met).
    curves : dict
        Per activity: spectra (per Welch bin), coherences (``metrics.band_coherence``:
        spectra averaged over 1/6 octave, as the coherence error compares them) and 1-s
        RMS values for the report plots.
    """

    rows: list = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict)
    ch_names: list = field(default_factory=list)

    def passes(self) -> bool:
        """All activities meet all targets."""
        return all(s["passes"] for s in self.summary.values())

    def to_markdown(self) -> str:
        """Summary table, then the per-channel table, as Markdown."""
        lines = ["| activity | median LSD (dB) | coherence err | corr err | max |kurt err| "
                 "| AUC | passes |", "|---|---|---|---|---|---|---|"]
        for act, s in self.summary.items():
            lines.append(f"| {act} | {s['lsd_db']:.2f} | {_f(s['coherence_error'])} | "
                         f"{s['correlation_error']:.3f} | {100 * s['kurtosis_rel_error']:.1f} % "
                         f"| {_f(s['auc'])} | {'yes' if s['passes'] else 'no'} |")
        lines += ["", f"Targets: LSD <= {TARGETS['lsd_db']} dB, coherence error <= "
                  f"{TARGETS['coherence_error']}, kurtosis within ±"
                  f"{100 * TARGETS['kurtosis_rel_error']:.0f} %, AUC <= {TARGETS['auc']}.", ""]
        if self.rows:
            bands = [k for k in self.rows[0] if k.startswith("band_")]
            head = ["activity", "channel", "LSD dB", *[b[5:-3] + " dB" for b in bands],
                    "kurt ref", "kurt syn", "1-s RMS KS", "1-s RMS median dB"]
            lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            for r in self.rows:
                vals = [r["activity"], r["channel"], f"{r['lsd_db']:.2f}",
                        *[f"{r.get(b, np.nan):+.2f}" for b in bands],
                        f"{r['kurtosis_ref']:.2f}", f"{r['kurtosis_syn']:.2f}",
                        _f(r["rms_ks"]), _f(r["rms_median_db"], "+.2f")]
                lines.append("| " + " | ".join(vals) + " |")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-friendly rows and summary (no curves)."""
        def clean(v):
            return float(v) if isinstance(v, (np.floating, float)) else v
        summary = {a: {k: clean(v) for k, v in s.items()} for a, s in self.summary.items()}
        return {"summary": summary,
                "rows": [{k: clean(v) for k, v in r.items()} for r in self.rows]}


def _f(v, fmt=".3f"):
    return "n/a" if v is None or not np.isfinite(v) else format(v, fmt)


def validate(profile, sessions, activities=None, random_state=0, window_s=2.0,
             nperseg_s=2.0):
    """Compare synthesized with held-out recorded noise, per activity and channel.

    Parameters
    ----------
    profile : NoiseProfile
        Or any object with ``sample(n_times, sfreq, activity, random_state)``,
        ``activities_``, ``ch_names_`` and ``sfreq_`` (e.g. the baselines).
    sessions : path | mne.io.Raw | list of those
        Held-out sessions (not used for fitting).
    activities : list of str | None
        Default: the profile's activities found in the sessions.
    random_state : None | int | numpy.random.Generator
    window_s : float
        Window of the classifier two-sample test (non-overlapping windows).
    nperseg_s : float
        Welch window of the spectral metrics (2 s: 0.5 Hz bins). Both windows shrink when
        the held-out data are cut into short stretches by gaps (then in ``summary``).

    Returns
    -------
    report : ValidationReport
    """
    rng = check_random_state(random_state)
    data = read_sessions(sessions)
    if data[0].ch_names != list(profile.ch_names_):
        raise UserError(f"{data[0].source}: channels {data[0].ch_names} do not match the "
                        f"profile's {list(profile.ch_names_)}")
    sfreq = data[0].sfreq
    if activities is None:
        found = {a for s in data for a in s.segments}
        activities = [a for a in profile.activities_ if a in found]
        if not activities:
            raise UserError(f"the held-out sessions hold none of the profile's activities "
                            f"({', '.join(profile.activities_)})")
    per_act = collect_segments(data, activities, min_samples=int(MIN_SEGMENT_S * sfreq))
    report = ValidationReport(ch_names=list(profile.ch_names_))
    for act, ref in per_act.items():
        # a link that drops packets leaves short stretches: shorten windows to what is there
        covered = choose_nperseg(ref, sfreq, max(window_s, nperseg_s)) / sfreq
        win, nper = min(window_s, covered), min(nperseg_s, covered)
        ref = [s for s in ref if s.shape[1] >= win * sfreq]
        syn = [profile.sample(s.shape[1], sfreq, activity=act, random_state=rng)
               .astype(np.float64) for s in ref]
        _compare(report, act, ref, syn, sfreq, profile, win, nper, rng)
        report.summary[act].update(window_s=win, nperseg_s=nper)
    return report


def _compare(report, act, ref, syn, sfreq, profile, window_s, nperseg_s, rng):
    freqs, psd_r, coh_r = metrics.spectra(ref, sfreq, nperseg_s)
    _, psd_s, coh_s = metrics.spectra(syn, sfreq, nperseg_s)
    lsd = metrics.log_spectral_distance(freqs, psd_r, psd_s)
    mains = _mains(profile, act)
    bands = metrics.band_power_ratios_db(freqs, psd_r, psd_s, mains)
    coh_err = metrics.coherence_error(freqs, coh_r, coh_s)
    k_r, k_s = metrics.kurtosis(ref), metrics.kurtosis(syn)
    rms_r, rms_s = metrics.rms_1s(ref, sfreq), metrics.rms_1s(syn, sfreq)
    ks, med_db = metrics.rms_distribution_distance(rms_r, rms_s)
    f_r, i_r = metrics.window_features(ref, sfreq, window_s)
    f_s, i_s = metrics.window_features(syn, sfreq, window_s)
    auc = metrics.classifier_auc(f_r, i_r, f_s, i_s, random_state=rng.integers(2**31))
    k_err = (k_s - k_r) / k_r
    for c, name in enumerate(report.ch_names):
        row = dict(activity=act, channel=name, lsd_db=float(lsd[c]))
        row.update({f"band_{b}_db": float(v[c]) for b, v in bands.items()})
        row.update(kurtosis_ref=float(k_r[c]), kurtosis_syn=float(k_s[c]),
                   kurtosis_rel_error=float(k_err[c]), rms_ks=float(ks[c]),
                   rms_median_db=float(med_db[c]))
        report.rows.append(row)
    s = dict(lsd_db=float(np.median(lsd)),
             coherence_error=float(np.mean(coh_err)) if len(coh_err) else float("nan"),
             correlation_error=metrics.correlation_error(ref, syn),
             kurtosis_rel_error=float(np.max(np.abs(k_err))), auc=auc,
             seconds=sum(r.shape[1] for r in ref) / sfreq)
    s["passes"] = all(meets_target(key, s[key]) for key in TARGETS)
    report.summary[act] = s
    report.curves[act] = dict(freqs=freqs, psd_ref=psd_r, psd_syn=psd_s, coh_ref=coh_r,
                              coh_syn=coh_s, rms_ref=rms_r, rms_syn=rms_s)


def _mains(profile, act):
    models = getattr(profile, "models_", {})
    f = float(models.get(act, {}).get("line_freq_hz", 0.0)) if act in models else 0.0
    return f or None


def feature_group_auc(profile, sessions, activity, random_state=0, window_s=2.0):
    """Which per-window features tell synthesized from recorded noise (a diagnosis).

    The classifier two-sample test of :func:`validate` (same features, classifier and
    grouped folds), refitted without each feature group and on each group alone: a group
    whose removal drops the AUC most is the model's giveaway. Groups: the log band power
    of each band, the log RMS, the kurtosis (all per channel) and the channel-pair
    correlations.

    Returns
    -------
    result : dict
        ``"all"``: AUC with every feature; per group, ``(auc_without, auc_alone)``.
    """
    rng = check_random_state(random_state)
    data = read_sessions(sessions)
    sfreq = data[0].sfreq
    ref = collect_segments(data, [activity], min_samples=int(window_s * sfreq))[activity]
    syn = [profile.sample(s.shape[1], sfreq, activity=activity, random_state=rng)
           .astype(np.float64) for s in ref]
    f_r, i_r = metrics.window_features(ref, sfreq, window_s)
    f_s, i_s = metrics.window_features(syn, sfreq, window_s)
    n_ch = ref[0].shape[0]
    freqs = np.fft.rfftfreq(int(round(window_s * sfreq)), 1.0 / sfreq)
    names = [f"power {name} Hz" for name, lo, hi in metrics.BANDS_HZ[1:]
             if np.any((freqs >= lo) & (freqs < hi))] + ["log RMS", "kurtosis"]
    groups = {n: np.arange(k * n_ch, (k + 1) * n_ch) for k, n in enumerate(names)}
    if f_r.shape[1] > len(names) * n_ch:
        groups["correlations"] = np.arange(len(names) * n_ch, f_r.shape[1])
    seed = int(rng.integers(2**31))
    out = {"all": metrics.classifier_auc(f_r, i_r, f_s, i_s, random_state=seed)}
    for name, cols in groups.items():
        keep = np.setdiff1d(np.arange(f_r.shape[1]), cols)
        out[name] = (metrics.classifier_auc(f_r[:, keep], i_r, f_s[:, keep], i_s,
                                            random_state=seed),
                     metrics.classifier_auc(f_r[:, cols], i_r, f_s[:, cols], i_s,
                                            random_state=seed))
    return out
