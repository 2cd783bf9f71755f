"""Shared fixtures: where the real public recordings are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared_data_dir() -> Path:
    env = os.environ.get("SHIRTECG_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


SHARED_DATA = _shared_data_dir()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of real public recordings (``../shared/data``); skip if absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"real public recordings not found at {SHARED_DATA} "
            "(set SHIRTECG_SHARED_DATA to the shared/data folder to run this test)"
        )
    return SHARED_DATA
