"""Step names of compositions: ``TimeStretch`` → ``time_stretch``, numbered when repeated.

Like scikit-learn's ``make_pipeline``: a step is named after its class in snake_case,
numbered ``_1``, ``_2``… when the class appears more than once; a ``(name, transform)``
pair chooses the name. Names become ``step__param`` keys of ``get_params``/``set_params``.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict

from augment.base import BaseTransform
from shirtecg_common.errors import UserError

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@functools.lru_cache(maxsize=512)
def snake_case(name: str) -> str:
    """``TimeStretch`` → ``time_stretch`` (``AddSNRNoise`` → ``add_snr_noise``)."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def name_steps(transforms, owner="Compose", reserved=()) -> list:
    """``[(name, transform), …]`` for a list of transforms or ``(name, transform)`` pairs."""
    if isinstance(transforms, (str, bytes)) or not hasattr(transforms, "__iter__"):
        raise TypeError(f"{owner}: transforms must be a list of transforms, got {transforms!r}")
    explicit, items = [], []
    for k, item in enumerate(transforms):
        if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str):
            name, t = item
            explicit.append(name)
        else:
            name, t = None, item
        if not isinstance(t, BaseTransform):
            raise TypeError(
                f"{owner}: transforms[{k}] must be an augment transform (a BaseTransform), "
                f"got {type(t).__name__}"
            )
        items.append((name, t))
    base = [snake_case(type(t).__name__) for _, t in items]
    counts = defaultdict(int)
    for (name, _), b in zip(items, base):
        if name is None:
            counts[b] += 1
    seen, named, numbers = set(explicit), [], defaultdict(int)
    for (name, t), b in zip(items, base):
        if name is None:
            name = b
            if counts[b] > 1 or b in explicit:
                numbers[b] += 1
                name = f"{b}_{numbers[b]}"
                while name in seen:
                    numbers[b] += 1
                    name = f"{b}_{numbers[b]}"
            seen.add(name)
        named.append((name, t))
    names = [n for n, _ in named]
    for name in names:
        if not _NAME_RE.match(name) or "__" in name or name in reserved:
            raise UserError(
                f"{owner}: invalid step name {name!r}: use letters, digits and single "
                f"underscores, starting with a letter, and not one of {', '.join(reserved)}"
            )
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UserError(f"{owner}: step names must be unique, {dup[0]!r} is used twice")
    return named
