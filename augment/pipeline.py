"""The :class:`Pipeline`: 12-lead batches in, augmented batches out, what was drawn recorded."""

from __future__ import annotations

import numbers

import numpy as np

from augment import leads as _leads
from augment.base import as_batch, check_sfreq, make_rngs
from augment.compose import BaseComposition, Compose, OneOf
from shirtecg_common.errors import UserError


class Pipeline(Compose):
    """An ordered, named list of transforms applied to 12-lead records.

    The steps run on the 8 independent leads (``I II V1…V6``); the 12 leads are derived
    at the end, so ``III = II − I`` etc. hold exactly. An output stage (a transform with
    ``keeps_independent_leads = False``, e.g. keeping only the device's leads) may be
    the last step; then the output holds its channels, named by :attr:`output_leads`.

    Parameters
    ----------
    transforms : list
        Transforms or compositions, or ``(name, transform)`` pairs.
    name : str or None
        A label (presets use their own name).
    description : str or None
        One line on what the pipeline is for.
    recommended_copies : int, (int, int) or None
        How many augmented copies per source record this pipeline is meant for.
    tunable : dict or None
        ``{"step__param": [low, high]}``: the parameters calibration may tune, with
        their search ranges.

    Attributes
    ----------
    last_parameters : list of dict
        After a call, per record: ``{step name: {"applied": bool, <drawn values>}}``.
    dropped_steps : list of str
        Steps :func:`augment.load_pipeline` left out (fitted-noise steps without a profile).
    """

    p = 1.0
    #: A pipeline is never fused into an enclosing run of lead matrices (it draws no gate).
    is_linear = False

    def __init__(self, transforms, name=None, description=None, recommended_copies=None,
                 tunable=None):
        self.transforms = transforms
        self.name = name
        self.description = description
        self.recommended_copies = recommended_copies
        self.tunable = tunable

    dropped_steps = ()

    # ----------------------------------------------------------------- running
    def __call__(self, x, sfreq, random_state=None):
        """Augment ``x`` ``(n, 12, T)`` (or one record ``(12, T)``) float32 in mV.

        Parameters
        ----------
        x : array, shape (n, 12, T) or (12, T)
            Leads in the order ``I II III aVR aVL aVF V1…V6``, in mV.
        sfreq : float
            Sampling rate of ``x`` in Hz.
        random_state : None | int | Generator | sequence of seeds
            An int/Generator seeds the batch; a sequence of ``n`` per-record seeds makes
            record ``i``'s output depend only on its own seed (not on batch or position).

        Returns
        -------
        out : ndarray, float32, shape (n, len(output_leads), T')
            ``T'`` differs from ``T`` only if the pipeline resamples (:meth:`output_sfreq`).
        """
        x, single = as_batch(x)
        if x.shape[1] != 12:
            raise UserError(
                f"Pipeline input must have 12 leads ({' '.join(_leads.LEADS_12)}) on axis -2, "
                f"got shape {x.shape}"
            )
        sfreq = check_sfreq(sfreq)
        self._validate_params(sfreq)
        rngs = make_rngs(random_state, len(x))
        if self.keeps_independent_leads:  # work inside the output buffer (no end copies)
            # I II V1…V6 live in full[:, 4:12] (V1–V6 already where the output wants them);
            # the first pass of the steps fills them from x (no separate copy pass)
            full = np.empty(x.shape, dtype=np.float32)
            out, records, _ = self._run(full[:, 4:12], sfreq, rngs, owned=True, source=x)
            out = _leads.finish_in_output(full, np.asarray(out, dtype=np.float32))
        else:
            out, records, _ = self._run(_leads.independent(x), sfreq, rngs, owned=True)
            out = np.asarray(out, dtype=np.float32)
        self.last_parameters = records
        return out[0] if single else out

    def transform_batch(self, x8, sfreq, rngs, inplace=False):
        """Run on independent leads (used when a Pipeline is nested); no ``p`` draw."""
        self._validate_params(sfreq)
        out, records, _ = self._run(x8, sfreq, rngs, owned=inplace)
        return out, records

    def _validate_params(self, sfreq):
        _check_output_stage(self.named_transforms, "Pipeline")

    def validate(self):
        """Check the structure and the ``tunable`` keys (done when loading and saving)."""
        self._validate_params(None)
        _check_tunable(self)

    @property
    def output_leads(self) -> tuple:
        """Lead names of the output channels (the 12 leads unless there is an output stage)."""
        if self.keeps_independent_leads:
            return _leads.LEADS_12
        stage = _output_stage(self.named_transforms[-1][1])
        names = stage.output_leads
        return tuple(names() if callable(names) else names)

    # ----------------------------------------------------------------- persistence
    def to_dict(self) -> dict:
        """A plain, YAML-ready description (see :mod:`augment.serialization`)."""
        from augment.serialization import pipeline_to_dict

        return pipeline_to_dict(self)

    def to_yaml(self, path) -> None:
        """Write :meth:`to_dict` as YAML (atomically)."""
        from shirtecg_common.config import dump_yaml

        dump_yaml(self.to_dict(), path)


def _output_stage(t):
    """The leaf transform that changes the lead set inside ``t`` (its last step)."""
    while isinstance(t, BaseComposition):
        t = t.named_transforms[-1][1]
    return t


def _check_output_stage(named, where):
    for k, (name, t) in enumerate(named):
        if t.keeps_independent_leads:
            continue
        if k != len(named) - 1:
            raise UserError(
                f"{where}: step {name!r} turns the leads into device channels, so it must be the "
                f"last step; it is followed by {', '.join(n for n, _ in named[k + 1:])}"
            )
        if isinstance(t, BaseComposition):
            if not isinstance(t, Compose) or isinstance(t, OneOf) or t.p != 1.0:
                raise UserError(
                    f"{where}: output stage {name!r} sits in a {type(t).__name__} "
                    f"(p={t.p}); put it directly in the Pipeline or at the end of a Compose "
                    "with p=1"
                )
            _check_output_stage(t.named_transforms, f"{where}.{name}")
        elif t.p != 1.0:
            raise UserError(f"{where}: output stage {name!r} must have p=1.0, got p={t.p}")


def _check_tunable(pipe):
    tunable = pipe.tunable
    if tunable is None:
        return
    if not isinstance(tunable, dict):
        raise UserError(f"Pipeline: tunable must be a mapping 'step__param: [low, high]', "
                        f"got {type(tunable).__name__}")
    params = pipe.get_params(deep=True)
    for key, bounds in tunable.items():
        if key not in params or "__" not in key:
            examples = [k for k in params if "__" in k and not k.endswith("transforms")][:20]
            raise UserError(
                f"Pipeline: tunable key {key!r} is not a step parameter; valid keys look like "
                f"{', '.join(examples)}, …"
            )
        ok = (isinstance(bounds, (list, tuple)) and len(bounds) == 2
              and all(isinstance(b, numbers.Real) and not isinstance(b, bool) for b in bounds)
              and bounds[0] <= bounds[1])
        if not ok:
            raise UserError(f"Pipeline: tunable {key!r} must be [low, high] numbers with "
                            f"low <= high, got {bounds!r}")
