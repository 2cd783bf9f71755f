"""noise_profiles package."""
