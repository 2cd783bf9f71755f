"""Helpers of the noise_profiles tests: short emulator-like noise sessions."""

from __future__ import annotations

import numpy as np
import yaml

from noise_profiles.sessions import make_raw
from noise_profiles.simulate import activity_noise

SFREQ = 250.0
CH = ["I", "II", "V1"]


def session_pair(activity, seconds=120, seed=0, n_ch=3):
    """One recording of ``seconds``, cut into a fitting half and a held-out half (Raw)."""
    x = activity_noise(activity, n_ch, int(seconds * SFREQ), SFREQ, random_state=seed)
    h = x.shape[1] // 2
    return (make_raw(x[:, :h], SFREQ, activity, CH[:n_ch], CH[:n_ch]),
            make_raw(x[:, h:], SFREQ, activity, CH[:n_ch], CH[:n_ch]))



def older_schema_copy(path, out_yaml, schema, drop_array, edit=None):
    """Copy the saved profile ``path`` to ``out_yaml`` as an older ``schema`` writes it: without
    the NPZ arrays whose key contains ``drop_array``; ``edit(doc)`` may change the YAML too."""
    doc = yaml.safe_load(path.read_text())
    doc["schema"] = f"shirtecg-noise-profile/{schema}"
    if edit is not None:
        edit(doc)
    with np.load(path.with_suffix(".npz")) as f:
        arrays = {k: f[k] for k in f.files if drop_array not in k}
    np.savez(out_yaml.with_suffix(".npz"), **arrays)
    doc["arrays"] = out_yaml.with_suffix(".npz").name
    out_yaml.write_text(yaml.safe_dump(doc))
    return out_yaml
