"""The reader interface every dataset shares.

A reader has two halves, so a run can plan its work before it touches a signal:

``index()``
    The records' metadata (:class:`RecordInfo`: record id, patient id, fold, label codes),
    from the dataset's tables or headers only, in a stable order.
``load(info)``
    One record's signal as a :class:`Record`: ``(12, T)`` float32 in mV, in the canonical lead
    order, with its sampling rate; validated (finite, 12 leads, the expected rate and length).
    ``load_many(infos)`` loads a batch (what ``augment run`` asks for); a reader that can build
    records together (the synthetic one) overrides it, each record equal to ``load`` alone.

Iterating a reader streams records one at a time (constant memory). With ``on_error="skip"``
a broken record is left out and reported in :attr:`BaseReader.skipped` instead of raising.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

from augment.leads import LEADS_12
from shirtecg_common.errors import UserError
from shirtecg_common.random import stable_hash

#: Number of folds when a dataset has none of its own (PTB-XL's convention: 10).
N_FOLDS = 10


@dataclasses.dataclass(frozen=True)
class RecordInfo:
    """Metadata of one record (no signal).

    Attributes
    ----------
    record_id : str
        Unique within the dataset; seeds derive from it.
    patient_id : str
        Records of one patient share it; folds are per patient.
    fold : int
        1…10.
    codes : tuple of str
        The dataset's own label codes (SCP, AHA or SNOMED-CT).
    source : str
        Dataset name (``ptbxl``, ``sph``, ``wfdb``, ``synthetic``).
    location : str
        Where the signal lives (a path, or an id inside the dataset); reader specific.
    start : int
        First sample of the record inside that signal (windowed readers).
    """

    record_id: str
    patient_id: str
    fold: int
    codes: tuple
    source: str
    location: str = ""
    start: int = 0


@dataclasses.dataclass
class Record:
    """One record: metadata plus its signal ``(12, T)`` float32 mV at ``sfreq`` Hz."""

    info: RecordInfo
    signal: np.ndarray
    sfreq: float

    # Shortcuts so code reads ``record.record_id`` rather than ``record.info.record_id``.
    @property
    def record_id(self):
        return self.info.record_id

    @property
    def patient_id(self):
        return self.info.patient_id

    @property
    def fold(self):
        return self.info.fold

    @property
    def codes(self):
        return self.info.codes


def hash_fold(patient_id, n_folds=N_FOLDS) -> int:
    """Fold 1…``n_folds`` of a patient from a process-independent hash of its id.

    Used by datasets without folds of their own (SPH, CinC, synthetic): every record of a
    patient lands in the same fold, so no patient is ever in two folds.
    """
    return stable_hash(f"fold:{patient_id}") % n_folds + 1


def parse_folds(text) -> tuple:
    """Parse ``"1-8"``, ``"9,10"`` or ``"1-3,5"`` into a sorted tuple of fold numbers."""
    if text is None:
        return ()
    folds = set()
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part:
                lo, hi = (int(v) for v in part.split("-", 1))
                folds.update(range(lo, hi + 1))
            else:
                folds.add(int(part))
        except ValueError:
            raise UserError(f"--folds: cannot read {part!r} in {text!r}; "
                            "use fold numbers and ranges such as 1-8 or 9,10") from None
    bad = sorted(f for f in folds if not 1 <= f <= N_FOLDS)
    if bad:
        raise UserError(f"--folds: fold {bad[0]} is outside 1-{N_FOLDS}")
    return tuple(sorted(folds))


class BaseReader:
    """Base class of the dataset readers.

    Parameters
    ----------
    sfreq : float
        Sampling rate the records must have (Hz); a record at another rate is an error.
    duration_s : float | None
        Length of every record (s). Longer records are cropped to their first
        ``duration_s`` seconds, shorter ones are errors. None keeps the native length.
    on_error : {"raise", "skip"}
        What a broken record does: raise a :class:`~shirtecg_common.errors.UserError`
        naming it, or be left out and listed in :attr:`skipped`.
    """

    #: Dataset name written to manifests.
    name = "base"

    def __init__(self, sfreq, duration_s=None, on_error="raise"):
        if on_error not in ("raise", "skip"):
            raise UserError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        if duration_s is not None and (not isinstance(duration_s, numbers.Real)
                                       or duration_s <= 0):
            raise UserError(f"duration_s must be a positive number of seconds, got {duration_s!r}")
        self.sfreq = float(sfreq)
        self.duration_s = None if duration_s is None else float(duration_s)
        self.on_error = on_error
        self.skipped = []
        self._index = None

    def __getstate__(self):
        # Worker processes get the records' infos with their work: the index (one object
        # per record, 0.1 s to unpickle for 10,000) stays here and is rebuilt if ever needed.
        state = self.__dict__.copy()
        state["_index"] = None
        return state

    # ----------------------------------------------------------------- subclass API
    def _build_index(self) -> list:  # pragma: no cover - abstract
        """Return the list of :class:`RecordInfo`, in a stable order."""
        raise NotImplementedError

    def _read_signal(self, info):  # pragma: no cover - abstract
        """Return ``(signal (n_leads, T) in mV, lead names, sfreq)`` of one record."""
        raise NotImplementedError

    # ----------------------------------------------------------------- public API
    def index(self, folds=None) -> list:
        """Metadata of every record (optionally only those in ``folds``)."""
        if self._index is None:
            self._index = self._build_index()
        if folds:
            folds = set(folds)
            return [info for info in self._index if info.fold in folds]
        return list(self._index)

    def __len__(self):
        return len(self.index())

    def find(self, record_id) -> RecordInfo:
        """The :class:`RecordInfo` of ``record_id``; error naming a few valid ids if absent."""
        for info in self.index():
            if info.record_id == str(record_id):
                return info
        some = ", ".join(i.record_id for i in self.index()[:5])
        raise UserError(f"{self.name}: no record {record_id!r}; records look like: {some} …")

    def load(self, info) -> Record:
        """Read and validate one record; raises :class:`UserError` naming it if broken."""
        if not isinstance(info, RecordInfo):
            info = self.find(info)
        try:
            signal, lead_names, sfreq = self._read_signal(info)
        except UserError:
            raise
        except (OSError, ValueError, KeyError, IndexError) as err:
            raise UserError(f"{self.name} record {info.record_id}: cannot read "
                            f"{info.location or 'signal'}: {err}") from None
        signal = self._validate(info, np.asarray(signal), lead_names, sfreq)
        return Record(info=info, signal=signal, sfreq=self.sfreq)

    def load_or_skip(self, info):
        """:meth:`load`, or ``None`` (recorded in :attr:`skipped`) when ``on_error='skip'``."""
        try:
            return self.load(info)
        except UserError as err:
            if self.on_error == "raise":
                raise
            self.skipped.append((info.record_id if isinstance(info, RecordInfo) else str(info),
                                 str(err)))
            return None

    def load_many(self, infos) -> list:
        """:meth:`load_or_skip` of each of ``infos``, in order (None for a skipped record).

        Readers that can build several records at once (the synthetic one) override it; the
        records are the same as one at a time.
        """
        return [self.load_or_skip(info) for info in infos]

    def __iter__(self):
        """Stream the records one at a time (broken ones skipped if ``on_error='skip'``)."""
        for info in self.index():
            record = self.load_or_skip(info)
            if record is not None:
                yield record

    # ----------------------------------------------------------------- validation
    def _validate(self, info, signal, lead_names, sfreq):
        where = f"{self.name} record {info.record_id}"
        if abs(float(sfreq) - self.sfreq) > 1e-6:
            raise UserError(f"{where}: sampling rate {sfreq:g} Hz, expected {self.sfreq:g} Hz "
                            "(pick the dataset's rate with --sfreq)")
        names = [str(n) for n in lead_names]
        order = _lead_order(names)
        if signal.ndim != 2 or order is None:
            raise UserError(f"{where}: expected the 12 leads {' '.join(LEADS_12)}, got "
                            f"{len(names)} channel(s) {' '.join(names)} and shape {signal.shape}")
        if not np.array_equal(order, _CANONICAL):  # already in order: no copy
            signal = signal[order]
        n_times = signal.shape[1]
        if self.duration_s is not None:
            want = int(round(self.duration_s * self.sfreq))
            if n_times < want:
                raise UserError(f"{where}: {n_times / self.sfreq:g} s long, shorter than the "
                                f"requested {self.duration_s:g} s")
            signal = signal[:, :want]
        if not np.all(np.isfinite(signal)):
            bad = int(np.count_nonzero(~np.isfinite(signal)))
            raise UserError(f"{where}: {bad} non-finite sample(s) (NaN or inf) in the signal")
        return np.ascontiguousarray(signal, dtype=np.float32)


_LEAD_ALIASES = {name.lower(): name for name in LEADS_12}
_CANONICAL = np.arange(12)


def _lead_order(names):
    """Row index of each canonical lead in ``names`` (case-insensitive), or None if not 12."""
    canon = [_LEAD_ALIASES.get(n.strip().lower()) for n in names]
    if len(names) != 12 or None in canon or len(set(canon)) != 12:
        return None
    return np.array([canon.index(lead) for lead in LEADS_12])
