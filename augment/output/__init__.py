"""Augmented datasets on disk: HDF5 shards or PTB-XL layout, with a manifest; resumable runs.

:func:`run_augmentation` is what ``shirtecg augment run`` calls.
"""

from augment.output.run import FORMATS, parse_shard, run_augmentation
from augment.output.shard import MANIFEST_COLUMNS
from augment.output.writers import HDF5ShardWriter, ptbxl_record_names, write_wfdb_mv

__all__ = ["run_augmentation", "parse_shard", "FORMATS", "MANIFEST_COLUMNS", "HDF5ShardWriter",
           "ptbxl_record_names", "write_wfdb_mv"]
