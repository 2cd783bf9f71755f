"""Augmentation transforms, one small class per module, grouped by what they model.

* :mod:`augment.transforms.spatial` — lead geometry and timing: lead-vector rotation,
  time stretch, inter-lead delays, amplitude scales, time shift;
* :mod:`augment.transforms.anatomical` — the body: shirt electrode displacement,
  heart-axis rotation / VCG scaling, precordial vs limb scaling;
* :mod:`augment.transforms.noise` — parametric noise and artifacts;
* :mod:`augment.transforms.device` — fitted profile noise and the device's own
  signal path (frequency response, ADC, resampling, output leads).

Every concrete subclass of :class:`augment.base.BaseTransform` defined under ``augment``
is found by :func:`transform_registry` (no decorator needed), which is what YAML
pipelines and the common tests use. Class names must be unique across groups.

Two optional class-level hooks, used by :class:`augment.pipeline.Pipeline`:

``keeps_independent_leads = False`` (output stage)
    The transform turns the 8 independent leads into the device's channels
    ``(n, k, T)``; it also defines ``output_leads(self) -> tuple of str`` (the lead each
    output channel measures, e.g. ``("I", "II", "V1")``). A pipeline does not re-derive
    12 leads after it, so it must be the last step (or the last step of a top-level
    ``Compose``), and must run with ``p=1``.
``requires_profile = True`` (fitted noise)
    The transform has a ``profile`` parameter (a ``noise_profiles.NoiseProfile`` or a
    path to its YAML). ``augment.load_pipeline(preset, profile=P)`` sets ``profile`` on
    every such step left at ``None``; without a profile those steps are dropped (the
    pipeline then runs on its parametric artifact models only) and
    ``Pipeline.dropped_steps`` names them.
"""

from augment.transforms.registry import get_transform_class, transform_group, transform_registry

__all__ = ["get_transform_class", "transform_group", "transform_registry"]
