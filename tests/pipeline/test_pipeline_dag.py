"""The DAG create_pipeline builds from a config: splits, schema source, gate placement."""
import dataclasses
import json

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


def _output_splits(example_gen) -> dict[str, int]:
    config = json.loads(example_gen.exec_properties["output_config"])
    return {split["name"]: split["hash_buckets"] for split in config["split_config"]["splits"]}


def test_given_train_and_eval_folders_become_the_splits_with_validation_cut_from_train(tmp_path):
    _write_records(tmp_path / "train" / "a.tfrec")
    _write_records(tmp_path / "eval" / "b.tfrec")
    assert flowers.has_split_folders(str(tmp_path))
    config = RunConfig(data=str(tmp_path), split_folders=True)
    example_gen = _components(config)["ImportExampleGen"]
    input_config = example_gen.exec_properties["input_config"]
    assert '"train/*.tfrec*"' in input_config and '"eval/*.tfrec*"' in input_config
    # components.example_gen: eval stays the eval folder; validation is 1 of every 7 + 1 train records.
    assert _output_splits(example_gen) == {"train": 7, "validation": 1, "eval": 2}


def test_a_flat_folder_is_hash_split_seven_one_two(tmp_path):
    _write_records(tmp_path / "a.tfrec")
    assert not flowers.has_split_folders(str(tmp_path))
    example_gen = _components(RunConfig(data=str(tmp_path)))["ImportExampleGen"]
    assert _output_splits(example_gen) == {"train": 7, "validation": 1, "eval": 2}


def test_the_trainer_fits_on_train_and_watches_validation_and_only_the_evaluator_reads_eval():
    components = _components(RunConfig())
    trainer = components["Trainer"].exec_properties
    assert json.loads(trainer["train_args"])["splits"] == ["train"]
    assert json.loads(trainer["eval_args"])["splits"] == ["validation"]
    assert json.loads(components["Evaluator"].exec_properties["example_splits"]) == ["eval"]


def test_the_curated_schema_takes_the_class_names_of_the_data_unless_asked_to_infer_it():
    curated = _components(RunConfig())
    assert "CuratedSchemaGen" in curated and "SchemaGen" not in curated
    assert curated["CuratedSchemaGen"].exec_properties["data"] == flowers.default_data_dir()
    for consumer in ("ExampleValidator", "Transform", "Trainer"):
        assert curated["CuratedSchemaGen"] in curated[consumer].upstream_nodes, consumer
    inferred = _components(dataclasses.replace(RunConfig(), infer_schema=True))
    assert "SchemaGen" in inferred and "CuratedSchemaGen" not in inferred


def test_the_gates_sit_before_transform():
    components = _components(RunConfig())
    gate, record_check, drift_gate = components["AnomaliesGate"], components["RecordCheck"], components["DriftGate"]
    assert components["ExampleValidator"] in gate.upstream_nodes
    assert components["ImportExampleGen"] in record_check.upstream_nodes
    # The drift gate: this span's image statistics against those beside the served (Baseline) version.
    assert {components["DriftStatisticsGen"], components["Baseline"]} <= drift_gate.upstream_nodes
    assert {gate, record_check, drift_gate} <= components["Transform"].upstream_nodes


def test_the_pusher_reads_the_tflite_models_unless_they_are_off():
    components = _components(RunConfig())
    tflite = components["TFLiteExport"]
    assert components["Trainer"] in tflite.upstream_nodes and tflite in components["Pusher"].upstream_nodes
    assert tflite.exec_properties["max_accuracy_drop"] == RunConfig().tflite_max_drop
    assert "tflite" in components["Pusher"].inputs
    off = _components(dataclasses.replace(RunConfig(), tflite=False))
    assert "TFLiteExport" not in off and "tflite" not in off["Pusher"].inputs
