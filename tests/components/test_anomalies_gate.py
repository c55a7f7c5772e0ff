"""The gate on real TFDV output: statistics of bad records validated against the curated schema."""
import os

import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tfx.types import artifact_utils, standard_artifacts

from components.anomalies_gate import DataAnomaliesError, check_anomalies
from data import flowers


def _validate(tmp_path, records: list[bytes], split="train"):
    tmp_path.mkdir(parents=True, exist_ok=True)
    data = tmp_path / "data.tfrec"
    with tf.io.TFRecordWriter(str(data)) as writer:
        for record in records:
            writer.write(record)
    stats = tfdv.generate_statistics_from_tfrecord(str(data))
    anomalies = tfdv.validate_statistics(stats, tfdv.load_schema_text(flowers.schema_file()))
    artifact = standard_artifacts.ExampleAnomalies()
    artifact.uri = str(tmp_path / "anomalies")
    artifact.split_names = artifact_utils.encode_split_names([split])
    split_dir = artifact_utils.get_split_uri([artifact], split)
    os.makedirs(split_dir)
    with open(os.path.join(split_dir, "SchemaDiff.pb"), "wb") as f:
        f.write(anomalies.SerializeToString())
    return artifact


def _good(n=5):
    return [flowers.encode_example(b"\xff\xd8fake", i % 5, 8, 8) for i in range(n)]


def test_clean_records_pass(tmp_path):
    assert check_anomalies(_validate(tmp_path, _good())) == []


def test_out_of_range_class_and_unknown_label_are_named(tmp_path):
    bad = tf.train.Example.FromString(_good(1)[0])
    bad.features.feature["class"].int64_list.value[:] = [7]
    bad.features.feature["label"].bytes_list.value[:] = [b"cactus"]
    with pytest.raises(DataAnomaliesError) as error:
        check_anomalies(_validate(tmp_path, _good() + [bad.SerializeToString()]))
    message = str(error.value)
    assert "feature 'class'" in message and "feature 'label'" in message and "split 'train'" in message


def test_missing_feature_fails_and_extra_feature_only_warns(tmp_path):
    extra = []
    for serialized in _good():
        example = tf.train.Example.FromString(serialized)
        example.features.feature["photographer"].bytes_list.value.append(b"someone")
        extra.append(example.SerializeToString())
    assert any("photographer" in w for w in check_anomalies(_validate(tmp_path / "a", extra)))

    missing = []
    for serialized in _good():
        example = tf.train.Example.FromString(serialized)
        del example.features.feature["size"]
        missing.append(example.SerializeToString())
    with pytest.raises(DataAnomaliesError, match="feature 'size'"):
        check_anomalies(_validate(tmp_path / "b", missing))
