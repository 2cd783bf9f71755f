"""Fit device noise profiles per activity and synthesize unlimited new noise.

``fit(sessions)`` → :class:`NoiseProfile` (spectral CSD or VAR model, amplitude envelope,
powerline, events, provenance); ``profile.sample`` / ``profile.noise_bank`` synthesize;
``profile.save`` / :func:`load_profile` store YAML + NPZ; :func:`validate` compares
synthesized with held-out recorded noise; :func:`noise_from_ecg` estimates the noise in an
ECG recording.
"""

from noise_profiles.bank import NoiseBank
from noise_profiles.from_ecg import noise_from_ecg
from noise_profiles.profile import NoiseProfile, fit
from noise_profiles.storage import load_profile
from noise_profiles.validation import ValidationReport, validate

__all__ = ["NoiseBank", "NoiseProfile", "ValidationReport", "fit", "load_profile",
           "noise_from_ecg", "validate"]
