"""Compositions: ``Compose``, ``OneOf``, ``SomeOf`` — per record, with named steps.

Probability semantics (every draw comes from the record's own generator, so record
``i``'s choices depend only on ``rngs[i]``):

* every transform, wherever it sits, applies to a record with its own probability ``p``;
* ``Compose(transforms, p)``: with probability ``p`` the record goes through all children
  in order, each then gated by its own ``p``. P(child k applied) = ``p · p_k``.
* ``OneOf(transforms, weights, p)``: with probability ``p`` exactly one child is *chosen*,
  child ``k`` with probability ``w_k / Σw`` (equal weights by default), and then runs
  gated by its own ``p``. P(child k applied) = ``p · w_k/Σw · p_k``; set the children's
  ``p=1`` for "exactly one of them".
* ``SomeOf(transforms, num_transforms, p)``: with probability ``p`` a count ``m`` is drawn
  uniformly from ``num_transforms`` (an int, or ``(min, max)`` with ``max=None`` meaning
  all), ``m`` distinct children are chosen uniformly, and they run in list order, each
  gated by its own ``p``. P(child k chosen) = ``p · E[m] / K``.

Steps are named like scikit-learn's ``make_pipeline``: the snake_case class name
(``TimeStretch`` → ``time_stretch``), numbered ``_1``, ``_2``… when repeated; give a
``(name, transform)`` pair to choose a name. ``get_params()`` lists ``name`` and
``name__param`` keys, and ``set_params(time_stretch__max_stretch_pct=8)`` tunes a step
(naming: :mod:`augment.step_names`; running the steps without needless copies, fusing
runs of lead matrices: :mod:`augment.step_runner`).
"""

from __future__ import annotations

import functools
from collections import defaultdict

import numpy as np

from augment.base import BaseTransform, draw_gate
from augment.step_names import name_steps, snake_case
from augment.step_runner import run_chosen, run_in_order
from augment.transforms._linear import EYE8, apply_matrices, is_linear
from shirtecg_common.errors import UserError

__all__ = ["BaseComposition", "Compose", "OneOf", "SomeOf", "name_steps", "snake_case"]


@functools.lru_cache(maxsize=None)
def _param_names(cls) -> tuple:
    return tuple(cls._get_param_names())


class BaseComposition(BaseTransform):
    """A transform made of named child transforms (see the module docstring)."""

    def __init__(self, transforms, p=1.0):
        self.transforms = transforms
        self.p = p

    # ----------------------------------------------------------------- steps and params
    @property
    def named_transforms(self) -> list:
        """``[(step name, transform), …]``.

        Cached while :attr:`transforms` holds the same items (the cache keeps references
        to them, so an identity check is enough); a run reads it dozens of times.
        """
        items = self.transforms
        key = _items_key(items)
        cached = self.__dict__.get("_named_cache")
        if key is not None and cached is not None and _same_key(cached[0], key):
            return list(cached[1])
        named = name_steps(items, type(self).__name__, _param_names(type(self)))
        if key is not None:
            self.__dict__["_named_cache"] = (key, named)
        return list(named)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_named_cache", None)
        return state

    @property
    def keeps_independent_leads(self):
        """False when a child turns the leads into device channels (an output stage)."""
        return all(t.keeps_independent_leads for _, t in self.named_transforms)

    @property
    def is_linear(self):
        """True when every child is a per-record lead matrix (then the whole is one, too)."""
        named = self.named_transforms
        return bool(named) and all(is_linear(t) for _, t in named)

    def get_params(self, deep=True):
        """Parameters; with ``deep``, also every step and its ``step__param`` values."""
        out = super().get_params(deep=False)
        if deep:
            for name, t in self.named_transforms:
                out[name] = t
                for key, value in t.get_params(deep=True).items():
                    out[f"{name}__{key}"] = value
        return out

    def set_params(self, **params):
        """Set own parameters, replace steps by name, or tune ``step__param``; returns self."""
        if not params:
            return self
        own = self._get_param_names()
        if "transforms" in params:
            self.transforms = params.pop("transforms")
        nested = defaultdict(dict)
        for key, value in params.items():
            name, sep, sub = key.partition("__")
            steps = dict(self.named_transforms)
            if sep and name in steps:
                nested[name][sub] = value
            elif not sep and name in steps:
                self._replace_step(name, value)
            elif not sep and key in own:
                setattr(self, key, value)
            else:
                raise UserError(
                    f"{type(self).__name__}: invalid parameter {key!r}; valid keys are "
                    f"{', '.join(own)}, the step names ({', '.join(steps)}) and "
                    "'<step>__<param>' (see get_params().keys())"
                )
        steps = dict(self.named_transforms)
        for name, sub in nested.items():
            steps[name].set_params(**sub)
        return self

    def _replace_step(self, name, new):
        if not isinstance(new, BaseTransform):
            raise TypeError(f"{type(self).__name__}: step {name!r} must be replaced by a "
                            f"transform, got {type(new).__name__}")
        names = [n for n, _ in self.named_transforms]
        items = list(self.transforms)
        items[names.index(name)] = (name, new)
        self.transforms = items

    # ----------------------------------------------------------------- running
    def output_sfreq(self, sfreq):
        """Sampling rate after the children (only resampling changes it)."""
        for _, t in self.named_transforms:
            sfreq = t.output_sfreq(sfreq)
        return sfreq

    def _validate_params(self, sfreq):
        self.named_transforms  # noqa: B018 - raises on bad steps

    def _run_chosen(self, x8, sfreq, rngs, chosen, owned=False):
        """Run child ``k`` on the records whose ``chosen[j]`` contains ``k`` (see
        :func:`augment.step_runner.run_chosen`)."""
        return run_chosen(type(self).__name__, self.named_transforms, x8, sfreq, rngs, chosen,
                          owned)

    def _choose(self, rngs) -> list:  # pragma: no cover - abstract
        raise NotImplementedError

    def linear_batch(self, x8, sfreq, rngs):
        """Same draws and records as :meth:`transform_batch`, as one matrix per record.

        Only for linear compositions (:attr:`is_linear`); ``x8`` is not read.
        """
        self._check_p()
        self._validate_params(sfreq)
        applied = draw_gate(rngs, self.p)
        records = [{"applied": a} for a in applied.tolist()]
        m = np.broadcast_to(EYE8, (len(rngs), 8, 8)).copy()
        idx = np.flatnonzero(applied)
        if len(idx) == 0:
            return m, records
        sub_rngs = [rngs[i] for i in idx]
        named = self.named_transforms
        chosen = self._choose(sub_rngs)
        if self._records_choice:  # "chosen" before the children's entries
            for j, i in enumerate(idx):
                records[i]["chosen"] = [named[k][0] for k in sorted(chosen[j])]
        sub_m = m[idx]
        for k, (name, t) in enumerate(named):
            sel = np.flatnonzero([k in c for c in chosen])
            if len(sel) == 0:
                continue
            mk, recs = t.linear_batch(x8, sfreq, [sub_rngs[j] for j in sel])
            sub_m[sel] = mk @ sub_m[sel]
            for j, r in zip(sel, recs):
                records[idx[j]][name] = r
        m[idx] = sub_m
        return m, records

    def _run(self, x8, sfreq, rngs, owned=False):
        """Run on records that passed the gate; returns ``(out, per-record dicts, chosen)``."""
        chosen = self._choose(rngs)
        out, records = self._run_chosen(x8, sfreq, rngs, chosen, owned)
        return out, records, chosen

    def transform_batch(self, x8, sfreq, rngs, inplace=False):
        """Gate each record with ``p``, then run the children; see :class:`BaseTransform`."""
        if self.is_linear:  # one fused matrix product instead of a pass per child
            m, records = self.linear_batch(x8, sfreq, rngs)
            return apply_matrices(m, x8, owned=inplace), records
        self._check_p()
        self._validate_params(sfreq)
        applied = draw_gate(rngs, self.p)
        records = [{"applied": a} for a in applied.tolist()]
        if not applied.any():
            return x8, records
        idx = np.flatnonzero(applied)
        everyone = len(idx) == len(x8)
        if inplace and not everyone and self._records_choice:
            # OneOf/SomeOf on an owned batch: records that were not gated in get no children,
            # so the children can work on the whole array in place (no subset copy; C2)
            chosen_sub = self._choose([rngs[i] for i in idx])
            chosen = [set() for _ in rngs]
            for j, i in enumerate(idx):
                chosen[i] = chosen_sub[j]
            out, all_records = self._run_chosen(x8, sfreq, rngs, chosen, owned=True)
            named = self.named_transforms
            for i in idx:
                records[i]["chosen"] = [named[k][0] for k in sorted(chosen[i])]
                records[i].update(all_records[i])
            return out, records
        sub = x8 if everyone else x8[idx]  # a fancy-indexed subset is a private copy
        out, sub_records, chosen = self._run(sub, sfreq, [rngs[i] for i in idx],
                                             owned=inplace or not everyone)
        named = self.named_transforms
        for j, i in enumerate(idx):
            if self._records_choice:
                records[i]["chosen"] = [named[k][0] for k in sorted(chosen[j])]
            records[i].update(sub_records[j])
        if len(idx) == len(x8):
            return out, records
        if out.shape[1:] != x8.shape[1:]:
            raise RuntimeError(
                f"{type(self).__name__} changes the signal shape, so it must be applied with "
                "p=1.0 (all records of a batch must keep one shape)"
            )
        full = x8 if inplace else x8.copy()
        full[idx] = out
        return full, records

    _records_choice = True


class Compose(BaseComposition):
    """Run every child in order (each gated by its own ``p``), with probability ``p``.

    Parameters
    ----------
    transforms : list
        Transforms, or ``(name, transform)`` pairs.
    p : float
        Probability per record that the children run at all (default 1).

    Examples
    --------
    >>> from augment import Compose, TimeStretch, AmplitudeScale
    >>> aug = Compose([TimeStretch(p=0.5), AmplitudeScale(p=1.0)])
    >>> aug.set_params(time_stretch__max_stretch_pct=8.0)  # doctest: +ELLIPSIS
    Compose(...)
    """

    _records_choice = False

    def _choose(self, rngs):
        everything = set(range(len(self.named_transforms)))
        return [everything] * len(rngs)
    def _run(self, x8, sfreq, rngs, owned=False, source=None):
        x8, records = run_in_order(self.named_transforms, x8, sfreq, rngs, owned, source)
        return x8, records, None


class OneOf(BaseComposition):
    """With probability ``p``, choose one child (by ``weights``) and run it.

    Parameters
    ----------
    transforms : list
        Transforms, or ``(name, transform)`` pairs.
    weights : list of float or None
        Relative choice weights (``None``: equal). The chosen child still applies its
        own ``p``.
    p : float
        Probability per record that a child is chosen (default 1).
    """

    def __init__(self, transforms, weights=None, p=1.0):
        super().__init__(transforms, p=p)
        self.weights = weights

    def _probabilities(self):
        k = len(self.named_transforms)
        if self.weights is None:
            return np.full(k, 1.0 / k)
        w = np.asarray(self.weights, dtype=np.float64) if _is_number_list(self.weights) else None
        if w is None or w.shape != (k,) or np.any(w < 0) or not np.isfinite(w).all() \
                or w.sum() <= 0:
            raise ValueError(
                f"OneOf: weights must be None or {k} non-negative numbers with a positive sum "
                f"(one per transform), got {self.weights!r}"
            )
        return w / w.sum()

    def _validate_params(self, sfreq):
        if not self.named_transforms:
            raise ValueError("OneOf: needs at least one transform")
        self._probabilities()

    def _choose(self, rngs):
        prob = self._probabilities()
        cdf = np.cumsum(prob)
        last = int(np.flatnonzero(prob > 0)[-1])  # u at the rounded top of the CDF
        # one uniform per record through the CDF (rng.choice(p=…) costs ~20× more per call)
        u = np.array([rng.random() for rng in rngs])
        return [{k} for k in np.minimum(np.searchsorted(cdf, u, side="right"), last).tolist()]


class SomeOf(BaseComposition):
    """With probability ``p``, run ``m`` distinct children chosen at random, in list order.

    Parameters
    ----------
    transforms : list
        Transforms, or ``(name, transform)`` pairs.
    num_transforms : int or (int, int or None)
        How many children run: a fixed number, or a ``(min, max)`` range drawn uniformly
        per record (``max=None``: all of them).
    p : float
        Probability per record (default 1).
    """

    def __init__(self, transforms, num_transforms=1, p=1.0):
        super().__init__(transforms, p=p)
        self.num_transforms = num_transforms

    def _count_range(self):
        k = len(self.named_transforms)
        nt = self.num_transforms
        lo, hi = (nt if isinstance(nt, (tuple, list)) and len(nt) == 2 else (nt, nt))
        hi = k if hi is None else hi
        ints = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (lo, hi))
        if not ints or not 0 <= lo <= hi <= k:
            raise ValueError(
                f"SomeOf: num_transforms must be an int or a (min, max) pair with "
                f"0 <= min <= max <= {k} (max may be None = all), got {nt!r}"
            )
        return int(lo), int(hi)

    def _validate_params(self, sfreq):
        self._count_range()

    def _choose(self, rngs):
        lo, hi = self._count_range()
        k = len(self.named_transforms)
        # one generator call per record: the count, and k uniforms whose ranks order the
        # children (a uniformly random permutation; its first m are m distinct children)
        u = np.empty((len(rngs), k + 1))
        for rng, row in zip(rngs, u):
            rng.random(out=row)
        counts = lo + np.minimum((u[:, 0] * (hi - lo + 1)).astype(np.intp), hi - lo)
        order = np.argsort(u[:, 1:], axis=1).tolist()
        return [set(row[:m]) for row, m in zip(order, counts.tolist())]


def _items_key(items):
    """What the step names depend on: each item (and a pair's name and transform)."""
    if not isinstance(items, (list, tuple)):
        return None
    return tuple((item, *item) if isinstance(item, (list, tuple)) else (item,)
                 for item in items)


def _same_key(a, b):
    return len(a) == len(b) and all(
        len(x) == len(y) and all(u is v for u, v in zip(x, y)) for x, y in zip(a, b))


def _is_number_list(v):
    return isinstance(v, (list, tuple, np.ndarray)) and all(
        isinstance(e, (int, float, np.integer, np.floating)) and not isinstance(e, bool) for e in v
    )
