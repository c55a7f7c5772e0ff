"""Validation cuts of the training photos, for choosing a model's settings without the eval split.

The pool is the pipeline's train split of ../shared/flowers (2,020 of the 2,932 photos).
ImportExampleGen puts a record in hash bucket SHA-256 mod 10 of its tf.Example re-serialized
deterministically (not of the file's bytes) and splits 7:1:2 (pipeline.config.RunConfig's buckets):
buckets 0-6 train, 7 validation, 8-9 eval. A cut keeps 1 pool photo in 5 (a hash of the record
salted with the cut's seed) for validation and trains on the rest: different seeds, different cuts.
"""
from __future__ import annotations

import hashlib

import numpy as np
import tensorflow as tf

from benchmarks import common
from data import flowers

VALIDATION_SHARE = 5  # one pool photo in 5 validates


def pool() -> tuple[list[bytes], np.ndarray]:
    """(serialized records, class indices) of the pool, in file order."""
    first, end, buckets = common.split_buckets(flowers.TRAIN_SPLIT)
    files = flowers.list_record_files(str(common.DATA))
    records, labels = [], []
    for record in tf.data.TFRecordDataset(files).as_numpy_iterator():
        key = tf.train.Example.FromString(record).SerializeToString(deterministic=True)  # ImportExampleGen's key
        digest = int(hashlib.sha256(key).hexdigest(), 16)
        if not first <= digest % buckets < end:
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
