"""Validation cuts of the training photos, for choosing a model's settings without the eval split.

The pool is the photos of ../shared/flowers that no eval split of the pipeline holds: not the
4:1 layout's eval bucket (ImportExampleGen's bucket: SHA-256 of the record modulo 5, bucket 4) nor
buckets 7-9 of 10 (the validation and eval buckets of a 7:1:2 layout, in either order). That leaves 6 buckets of
10, about 1,760 photos. A cut keeps 1 pool photo in 5 (a hash of the record salted with the cut's
seed) for validation and trains on the rest: different seeds, different cuts.
"""
from __future__ import annotations

import hashlib

import numpy as np
import tensorflow as tf

from benchmarks import common
from data import flowers

EVAL_BUCKETS = ((5, (4,)), (10, (7, 8, 9)))  # (buckets, the held-out ones) per split layout
VALIDATION_SHARE = 5  # one pool photo in 5 validates


def pool() -> tuple[list[bytes], np.ndarray]:
    """(serialized records, class indices) of the pool, in file order."""
    files = flowers.list_record_files(str(common.DATA))
    records, labels = [], []
    for record in tf.data.TFRecordDataset(files).as_numpy_iterator():
        digest = int(hashlib.sha256(record).hexdigest(), 16)  # as ImportExampleGen hashes a record
        if any(digest % buckets in held for buckets, held in EVAL_BUCKETS):
            continue
        records.append(record)
        labels.append(int(tf.io.parse_single_example(record, common.RAW_SPEC)[flowers.CLASS_KEY]))
    return records, np.array(labels)


def validation_mask(records: list[bytes], seed: int) -> np.ndarray:
    """True for the records cut `seed` keeps for validation."""
    salted = tf.strings.join([tf.constant(f"cut{seed}:"), tf.constant(records)])
    return tf.strings.to_hash_bucket_fast(salted, VALIDATION_SHARE).numpy() == 0


def pixels(records: list[bytes], size: int) -> np.ndarray:
    """uint8 [N, size, size, 3]: each photo decoded and resized as the pipeline's Transform does."""
    from components.transform import decode_batch

    batches = tf.data.Dataset.from_tensor_slices(tf.constant(records)).batch(64).map(
        lambda batch: decode_batch(tf.io.parse_example(batch, common.RAW_SPEC)[flowers.IMAGE_KEY], size))
    return np.concatenate([b.numpy().astype(np.uint8) for b in batches])
