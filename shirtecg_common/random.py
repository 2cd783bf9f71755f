"""Random-state handling: no global random state anywhere.

Per-record generators derive from ``SeedSequence(seed, spawn_key=(stable_hash(record_id), copy))``
(DESIGN §2), so a record's draws do not depend on batch size, worker count or order.
"""

from __future__ import annotations

import hashlib
import numbers

import numpy as np


def check_random_state(random_state=None) -> np.random.Generator:
    """Turn ``random_state`` into a :class:`numpy.random.Generator`.

    Parameters
    ----------
    random_state : None | int | numpy.random.SeedSequence | numpy.random.Generator
        ``None`` gives fresh OS entropy; an int or SeedSequence seeds a new PCG64
        generator; a Generator is returned as is (shared, not copied).

    Returns
    -------
    rng : numpy.random.Generator
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.SeedSequence):
        return np.random.default_rng(random_state)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise TypeError(
        "random_state must be None, a non-negative int, a numpy SeedSequence or a numpy "
        f"Generator, got {type(random_state).__name__}"
    )


def stable_hash(text) -> int:
    """Return a 32-bit hash of ``str(text)`` that is the same in every process.

    Python's ``hash`` is salted per process, so it cannot seed reproducible work.
    """
    digest = hashlib.blake2b(str(text).encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "little")


def record_seed_sequence(seed: int, record_id, copy: int = 0) -> np.random.SeedSequence:
    """Seed sequence of one (record, copy) pair, independent of batching and order."""
    if not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return np.random.SeedSequence(int(seed), spawn_key=(stable_hash(record_id), int(copy)))


def record_rng(seed: int, record_id, copy: int = 0) -> np.random.Generator:
    """Generator of one (record, copy) pair; see :func:`record_seed_sequence`."""
    return np.random.default_rng(record_seed_sequence(seed, record_id, copy))
