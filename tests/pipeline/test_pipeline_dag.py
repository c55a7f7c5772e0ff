"""The DAG create_pipeline builds from a config: splits, schema source, gate placement."""
import dataclasses

import tensorflow as tf

from data import flowers
from pipeline.config import RunConfig
from pipeline.pipeline import create_pipeline


def _components(config):
    pipeline = create_pipeline(config, "/tmp/unused-root", [])
    return {c.id: c for c in pipeline.components}


def _write_records(path, count=2):
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for k in range(count):
            writer.write(flowers.encode_example(b"jpeg", k % 5, 8, 8))


def test_given_train_and_eval_folders_become_the_splits(tmp_path):
    _write_records(tmp_path / "train" / "a.tfrec")
    _write_records(tmp_path / "eval" / "b.tfrec")
    assert flowers.has_split_folders(str(tmp_path))
    config = RunConfig(data=str(tmp_path), split_folders=True)
    example_gen = _components(config)["ImportExampleGen"]
    input_config = example_gen.exec_properties["input_config"]
    assert '"train/*.tfrec*"' in input_config and '"eval/*.tfrec*"' in input_config
    assert "hash_buckets" not in example_gen.exec_properties["output_config"]


def test_a_flat_folder_is_hash_split_four_to_one(tmp_path):
    _write_records(tmp_path / "a.tfrec")
    assert not flowers.has_split_folders(str(tmp_path))
    output_config = _components(RunConfig(data=str(tmp_path)))["ImportExampleGen"].exec_properties["output_config"]
    assert '"hash_buckets": 4' in output_config and '"hash_buckets": 1' in output_config


def test_schema_is_imported_unless_asked_to_infer_it():
    curated = _components(RunConfig())
    assert "ImportSchemaGen" in curated and "SchemaGen" not in curated
    inferred = _components(dataclasses.replace(RunConfig(), infer_schema=True))
    assert "SchemaGen" in inferred and "ImportSchemaGen" not in inferred


def test_the_gates_sit_before_transform():
    components = _components(RunConfig())
    gate, record_check = components["AnomaliesGate"], components["RecordCheck"]
    assert components["ExampleValidator"] in gate.upstream_nodes
    assert components["ImportExampleGen"] in record_check.upstream_nodes
    assert {gate, record_check} <= components["Transform"].upstream_nodes
