"""Preset pipelines shipped as YAML package data (``base``, ``displacement``, ``wearable``)."""
