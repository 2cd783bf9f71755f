"""Packages that import their public names on first use (PEP 562).

``import calibration.cli`` runs ``calibration/__init__.py``; if that imported scikit-learn and
SciPy eagerly, ``shirtecg --help`` and every worker process would pay ~1–2 s before doing
anything. A package lists ``name -> defining module`` and gets a module ``__getattr__`` that
imports each name when it is first used.
"""

from __future__ import annotations

import importlib
import sys


def lazy_exports(package, exports, submodules=()):
    """Module-level ``__getattr__`` and ``__dir__`` for ``package``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : dict of str to str
        Public name -> module that defines it.
    submodules : sequence of str
        Subpackages reachable as attributes (``package.name``).

    Returns
    -------
    getattr_, dir_ : callable
        Assign them to the package's ``__getattr__`` and ``__dir__``.
    """
    def getattr_(name):
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # later look-ups skip getattr_
        return value

    def dir_():
        return sorted(set(vars(sys.modules[package])) | set(exports) | set(submodules))

    return getattr_, dir_
