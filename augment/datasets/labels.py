"""Label maps: dataset codes (SCP, AHA, SNOMED-CT) → the user's classes.

The default map (``label_map.yaml`` next to this module, sources cited inside) covers ten
conditions. A map file is YAML::

    schema: shirtecg-label-map/1
    classes:
      af:
        description: atrial fibrillation   # optional
        scp: [AFIB]                         # PTB-XL
        aha: ["50"]                         # SPH; "145+363" = statement 145 with modifier 363
        snomed: ["164889003"]               # PhysioNet/CinC

Keys are checked strictly: an unknown key is an error naming it and the allowed keys.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shirtecg_common.config import check_keys, load_yaml
from shirtecg_common.errors import ConfigError

DEFAULT_LABEL_MAP = Path(__file__).with_name("label_map.yaml")
SCHEMA = "shirtecg-label-map/1"
SYSTEMS = ("scp", "aha", "snomed")
#: The code system each reader's labels use.
SYSTEM_OF_SOURCE = {"ptbxl": "scp", "sph": "aha", "wfdb": "snomed", "synthetic": "snomed"}


def _aha_tokens(code):
    return frozenset(t.strip() for t in str(code).split("+") if t.strip())


class LabelMap:
    """Map dataset codes to classes.

    Parameters
    ----------
    classes : dict
        ``{class name: {"scp": [...], "aha": [...], "snomed": [...], "description": str}}``.
    where : str
        Where the map came from (for messages).
    """

    def __init__(self, classes, where="label map"):
        if not isinstance(classes, dict) or not classes:
            raise ConfigError(f"{where}: classes must be a non-empty mapping of class names")
        self.where = where
        self.classes = tuple(str(c) for c in classes)
        self.descriptions = {}
        self._codes = {system: {} for system in SYSTEMS}  # system -> code -> [class index]
        self._aha_rules = []  # (token set, class index)
        for k, (name, spec) in enumerate(classes.items()):
            loc = f"{where}: classes.{name}"
            check_keys(spec or {}, allowed=("description",) + SYSTEMS, where=loc)
            spec = spec or {}
            self.descriptions[str(name)] = str(spec.get("description", ""))
            for system in SYSTEMS:
                codes = spec.get(system, []) or []
                if not isinstance(codes, list):
                    raise ConfigError(f"{loc}.{system}: expected a list of codes, "
                                      f"got {type(codes).__name__}")
                for code in codes:
                    code = str(code).strip()
                    self._codes[system].setdefault(code, []).append(k)
                    if system == "aha":
                        self._aha_rules.append((_aha_tokens(code), k))

    @property
    def n_classes(self):
        return len(self.classes)

    def classes_of(self, codes, system) -> tuple:
        """The classes (in map order) that ``codes`` of code system ``system`` belong to."""
        if system not in SYSTEMS:
            raise ValueError(f"system must be one of {', '.join(SYSTEMS)}, got {system!r}")
        hit = set()
        for code in codes:
            code = str(code).strip()
            if system == "aha":
                tokens = _aha_tokens(code)
                hit.update(k for rule, k in self._aha_rules if rule <= tokens)
            else:
                hit.update(self._codes[system].get(code, ()))
        return tuple(self.classes[k] for k in sorted(hit))

    def encode(self, codes, system) -> np.ndarray:
        """Multi-hot vector ``(n_classes,)`` float32 of ``codes``."""
        y = np.zeros(self.n_classes, dtype=np.float32)
        for name in self.classes_of(codes, system):
            y[self.classes.index(name)] = 1.0
        return y

    def codes_for(self, class_name, system) -> tuple:
        """The codes of ``system`` that map to ``class_name`` (used to write PTB-XL labels)."""
        k = self.classes.index(class_name)
        return tuple(code for code, ks in self._codes[system].items() if k in ks)


def load_label_map(path=None) -> LabelMap:
    """Load a label map YAML (default: the packaged ten-class map)."""
    path = DEFAULT_LABEL_MAP if path is None else Path(path)
    data = load_yaml(path)
    check_keys(data, allowed=("schema", "classes"), required=("classes",), where=str(path))
    schema = data.get("schema", SCHEMA)
    if schema != SCHEMA:
        raise ConfigError(f"{path}: schema {schema!r} is not supported; expected {SCHEMA!r}")
    return LabelMap(data["classes"], where=str(path))
