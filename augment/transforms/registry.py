"""Find every transform class by name (for YAML pipelines, the CLI and the common tests).

A class is registered simply by being a public subclass of
:class:`augment.base.BaseTransform` in a module under :mod:`augment.transforms`
(or :mod:`augment.compose`): :func:`transform_registry` imports those modules and walks
the subclass tree, so a new transform needs no extra registration line.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re

from augment.base import BaseTransform
from shirtecg_common.errors import ConfigError

_PACKAGES = ("augment.transforms",)
_MODULES = ("augment.compose", "augment.pipeline")


@functools.lru_cache(maxsize=None)
def _import_all():
    for name in _MODULES:
        importlib.import_module(name)
    for pkg_name in _PACKAGES:
        pkg = importlib.import_module(pkg_name)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=pkg_name + "."):
            if not info.name.rsplit(".", 1)[-1].startswith("_"):
                importlib.import_module(info.name)


def _public_subclasses(cls):
    for sub in cls.__subclasses__():
        public = not sub.__name__.startswith("_") and not re.match(r"Base[A-Z]", sub.__name__)
        if public and sub.__module__.startswith("augment."):
            yield sub
        yield from _public_subclasses(sub)


def transform_registry(include_compositions=True) -> dict:
    """``{class name: class}`` of every transform (and, by default, every composition).

    Parameters
    ----------
    include_compositions : bool
        Also list :class:`~augment.compose.Compose`, ``OneOf``, ``SomeOf`` and
        :class:`~augment.pipeline.Pipeline`.

    Returns
    -------
    registry : dict
        Sorted by group, then name.
    """
    _import_all()
    from augment.compose import BaseComposition

    found = {}
    for cls in _public_subclasses(BaseTransform):
        if issubclass(cls, BaseComposition) and not include_compositions:
            continue
        if cls.__name__ in found and found[cls.__name__] is not cls:
            raise RuntimeError(
                f"two transform classes are named {cls.__name__}: "
                f"{found[cls.__name__].__module__} and {cls.__module__}; names must be unique"
            )
        found[cls.__name__] = cls
    return dict(sorted(found.items(), key=lambda kv: (transform_group(kv[1]), kv[0])))


def transform_group(cls) -> str:
    """``spatial``, ``anatomical``, ``noise``, ``device`` or ``composition``."""
    parts = cls.__module__.split(".")
    if len(parts) > 2 and parts[:2] == ["augment", "transforms"]:
        return parts[2]
    return "composition"


def get_transform_class(name):
    """The transform class called ``name``; :class:`ConfigError` lists the known ones."""
    registry = transform_registry()
    if name not in registry:
        raise ConfigError(
            f"unknown transform class {name!r}; known classes: {', '.join(registry)}"
        )
    return registry[name]
