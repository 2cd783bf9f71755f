"""Fit device noise profiles per activity and synthesize unlimited new noise.

``fit(sessions)`` → :class:`NoiseProfile` (spectral CSD or VAR model, amplitude envelope,
powerline, events, provenance); ``profile.sample`` / ``profile.noise_bank`` synthesize;
``profile.save`` / :func:`load_profile` store YAML + NPZ; :func:`validate` compares
synthesized with held-out recorded noise; :func:`noise_from_ecg` estimates the noise in an
ECG recording.
"""

from shirtecg_common.lazy import lazy_exports

#: Public name -> module that defines it, imported on first use (``shirtecg_common.lazy``).
_EXPORTS = {
    "NoiseBank": "noise_profiles.bank",
    "noise_from_ecg": "noise_profiles.from_ecg",
    "NoiseProfile": "noise_profiles.profile",
    "fit": "noise_profiles.profile",
    "load_profile": "noise_profiles.storage",
    "ValidationReport": "noise_profiles.validation",
    "validate": "noise_profiles.validation",
}
__all__ = ["NoiseBank", "NoiseProfile", "ValidationReport", "fit", "load_profile",
           "noise_from_ecg", "validate"]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
