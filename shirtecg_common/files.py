"""Files written whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path


def tmp_name(path) -> Path:
    """Hidden temporary sibling of ``path``, unique to this process."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def atomic_write_text(path, text) -> Path:
    """Write ``text`` (UTF-8) to ``path`` via a temporary file and ``os.replace``.

    A reader never sees a half-written file, and a failure leaves no temporary behind.
    """
    path = Path(path)
    tmp = tmp_name(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
