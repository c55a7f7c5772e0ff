"""Reading records back in tests: every record of a folder, file or glob, decoded."""
from __future__ import annotations

from typing import Iterator

import tensorflow as tf

from data import flowers, records


def read_records(path: str) -> Iterator[dict]:
    """Every record under a directory, file or glob, decoded with flowers.decode_example."""
    files = flowers.list_record_files(path)
    if not files:
        raise FileNotFoundError(f"no TFRecord files match {path!r}")
    dataset = tf.data.TFRecordDataset(files, compression_type=records.compression(files[0]))
    for serialized in dataset.as_numpy_iterator():
        yield flowers.decode_example(serialized)
