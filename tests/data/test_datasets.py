"""The datasets the project reads: the committed synthetic default set and the shared real photos."""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data import flowers
from data.flowers import CLASS_NAMES, LABELS_FILE, default_data_dir, feature_spec, list_record_files
from tests.records import read_records

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_default_dataset_parses_with_all_classes():
    data_dir = default_data_dir()
    assert Path(data_dir) == REPO_ROOT / "data" / "default"
    files = list_record_files(data_dir)
    assert files, f"no records in {data_dir}"
    assert not os.path.exists(os.path.join(data_dir, LABELS_FILE))  # the five flower classes
    counts = {name: 0 for name in CLASS_NAMES}
    size = None
    for k, r in enumerate(read_records(data_dir)):
        assert r["label"] == CLASS_NAMES[r["class"]]
        assert r["one_hot_class"][r["class"]] == 1.0
        counts[r["label"]] += 1
        size = size or r["size"]
        assert r["size"] == size
        if k < 10:
            assert np.asarray(Image.open(io.BytesIO(r["image"]))).shape == (*size, 3)
    assert min(counts.values()) > 0, counts
    assert len(set(counts.values())) == 1, f"unbalanced: {counts}"
    total_bytes = sum(os.path.getsize(f) for f in files)
    assert total_bytes < 5 * 2**20, f"default data is {total_bytes / 2**20:.1f} MiB; keep it small"
    assert (Path(data_dir) / "README.md").is_file()


def test_shared_flowers_records(shared_flowers):
    import tensorflow as tf

    files = list_record_files(str(shared_flowers))
    assert len(files) == 12
    ds = tf.data.TFRecordDataset(files)
    classes = ds.batch(1024).map(lambda s: tf.io.parse_example(s, {"class": feature_spec()["class"]})["class"])
    labels = np.concatenate([c for c in classes.as_numpy_iterator()])
    assert len(labels) == 2932
    assert sorted(set(labels.tolist())) == list(range(len(CLASS_NAMES)))
    parse = lambda s: tf.io.parse_single_example(s, feature_spec())  # noqa: E731
    for ex in ds.take(4).map(parse).as_numpy_iterator():
        img = tf.io.decode_jpeg(ex["image"], channels=3).numpy()
        assert img.shape == (192, 192, 3)
        assert tuple(ex["size"]) == (192, 192)
        assert ex["label"].decode() == CLASS_NAMES[ex["class"]]
        assert ex["one_hot_class"].argmax() == ex["class"]


def test_class_names_come_from_the_schemas_label_domain_in_order():
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    named = text_format.Parse('feature { name: "label" type: BYTES domain: "label" } '
                              'string_domain { name: "label" value: "b" value: "a" value: "c" }', schema_pb2.Schema())
    inline = text_format.Parse('feature { name: "label" type: BYTES string_domain { value: "x" value: "w" } }',
                               schema_pb2.Schema())
    assert flowers.class_names(named) == ["b", "a", "c"]
    assert flowers.class_names(inline) == ["x", "w"]
    with pytest.raises(ValueError, match="no class names"):
        flowers.class_names(text_format.Parse('feature { name: "label" type: BYTES }', schema_pb2.Schema()))
