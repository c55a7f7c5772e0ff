"""components.example_gen, the real executor (Beam in-process): the three splits on records in
both layouts (one folder hash-split 7:1:2; given train/ and eval/ folders with validation cut from
train/), and the newest span resolved by the executor itself, as on a KFP backend where no driver
runs before it (the driver's resolution left alone where one did)."""
import json
import random

import pytest
import tensorflow as tf
from tfx.components.example_gen import utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs as keys
from tfx.utils import proto_utils

from components.example_gen import Executor, cut_split_properties, resolve_input
from data import flowers
from pipeline.config import RunConfig
from pipeline.pipeline import input_config, output_config

SPLITS = [flowers.TRAIN_SPLIT, flowers.VALIDATION_SPLIT, flowers.EVAL_SPLIT]


def _records(first: int, count: int) -> list[bytes]:
    return [flowers.encode_example(f"jpeg {k}".encode(), k % 5, 8, 8) for k in range(first, first + count)]


def _write(folder, records: list[bytes], files: int = 3) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(files):
        with tf.io.TFRecordWriter(str(folder / f"part{n}.tfrec")) as writer:
            for record in records[n::files]:
                writer.write(record)


def _ingest(data, out, split_folders: bool) -> dict[str, set[bytes]]:
    """Runs the executor as the Trainer's pipeline configures it; {split: its records}."""
    config = RunConfig(data=str(data), split_folders=split_folders)
    examples = standard_artifacts.Examples()
    examples.uri = str(out)
    Executor().Do({}, {keys.EXAMPLES_KEY: [examples]}, {
        keys.INPUT_BASE_KEY: str(data),
        keys.INPUT_CONFIG_KEY: proto_utils.proto_to_json(input_config(config)),
        keys.OUTPUT_CONFIG_KEY: proto_utils.proto_to_json(output_config(config)),
        keys.OUTPUT_DATA_FORMAT_KEY: example_gen_pb2.FORMAT_TF_EXAMPLE,
        keys.OUTPUT_FILE_FORMAT_KEY: example_gen_pb2.FORMAT_TFRECORDS_GZIP,
    })
    assert artifact_utils.decode_split_names(examples.split_names) == SPLITS
    found = {}
    for split in SPLITS:
        files = tf.io.gfile.glob(artifact_utils.get_split_uri([examples], split) + "/*")
        records = [tf.train.Example.FromString(r).SerializeToString(deterministic=True)
                   for r in tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator()]
        assert len(records) == len(set(records)), f"{split} holds a record twice"
        found[split] = set(records)
    return found


def _canonical(records: list[bytes]) -> set[bytes]:
    return {tf.train.Example.FromString(r).SerializeToString(deterministic=True) for r in records}


def _assert_disjoint(splits: dict[str, set[bytes]]) -> None:
    for i, a in enumerate(SPLITS):
        for b in SPLITS[i + 1:]:
            assert not splits[a] & splits[b], f"{a} and {b} share records"


def test_one_folder_is_hash_split_seven_one_two(tmp_path):
    records = _records(0, 500)
    _write(tmp_path / "data", records)
    splits = _ingest(tmp_path / "data", tmp_path / "out", split_folders=False)
    _assert_disjoint(splits)
    assert set().union(*splits.values()) == _canonical(records)
    sizes = {split: len(found) for split, found in splits.items()}
    # 350 / 50 / 100 expected; a hash split is binomial: about ±3 standard deviations.
    assert 310 <= sizes["train"] <= 390 and 30 <= sizes["validation"] <= 70 and 70 <= sizes["eval"] <= 130, sizes


def test_given_folders_keep_eval_and_cut_validation_from_train_by_record(tmp_path):
    train, evaluation = _records(0, 400), _records(1000, 100)
    _write(tmp_path / "data" / "train", train)
    _write(tmp_path / "data" / "eval", evaluation)
    splits = _ingest(tmp_path / "data", tmp_path / "out", split_folders=True)
    _assert_disjoint(splits)
    assert splits["eval"] == _canonical(evaluation)  # eval is the given folder, untouched
    assert splits["train"] | splits["validation"] == _canonical(train)
    assert 25 <= len(splits["validation"]) <= 75, len(splits["validation"])  # 1 in 8 of 400: 50 expected

    # The cut follows each record, not its file or position: the same records written in another
    # order, into other files, fall into the same splits.
    shuffled = list(train)
    random.Random(1).shuffle(shuffled)
    _write(tmp_path / "again" / "train", shuffled, files=5)
    _write(tmp_path / "again" / "eval", evaluation)
    again = _ingest(tmp_path / "again", tmp_path / "out_again", split_folders=True)
    assert again == splits


def test_every_input_split_needs_an_output_split_of_its_name():
    config = RunConfig(data="/data", split_folders=True)
    renamed = example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(splits=[
        example_gen_pb2.SplitConfig.Split(name="fit", hash_buckets=7),
        example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=1)]))
    with pytest.raises(ValueError, match="every input split \\(train, eval\\) needs an output split of its name"):
        cut_split_properties({keys.INPUT_CONFIG_KEY: proto_utils.proto_to_json(input_config(config)),
                              keys.OUTPUT_CONFIG_KEY: proto_utils.proto_to_json(renamed)})


def _exec_properties(base) -> dict:
    splits = [example_gen_pb2.Input.Split(name=s, pattern=f"span-{{SPAN}}/{s}/*.tfrec*") for s in (flowers.TRAIN_SPLIT, flowers.EVAL_SPLIT)]
    return {"input_base": str(base), "input_config": proto_utils.proto_to_json(example_gen_pb2.Input(splits=splits)),
            "output_config": "{}"}


def _write_one(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        writer.write(flowers.encode_example(b"jpeg", 0, 8, 8))


def test_unresolved_span_pattern_is_resolved_and_recorded(tmp_path):
    for span in (1, 2, 10):
        for split in (flowers.TRAIN_SPLIT, flowers.EVAL_SPLIT):
            _write_one(tmp_path / f"span-{span}" / split / "a.tfrec")
    examples = standard_artifacts.Examples()
    resolved = resolve_input(_exec_properties(tmp_path), examples)
    patterns = [s["pattern"] for s in json.loads(resolved["input_config"])["splits"]]
    assert patterns == ["span-10/train/*.tfrec*", "span-10/eval/*.tfrec*"]  # the newest, by number
    assert resolved[utils.SPAN_PROPERTY_NAME] == 10
    assert resolved[utils.FINGERPRINT_PROPERTY_NAME].startswith("split:train,num_files:1,")
    custom = examples.mlmd_artifact.custom_properties
    assert custom["span"].int_value == 10
    assert custom["input_fingerprint"].string_value == resolved[utils.FINGERPRINT_PROPERTY_NAME]


def test_a_driver_resolution_is_kept(tmp_path):
    """Locally and on Vertex AI the driver ran first (Vertex hands its span back as a float)."""
    properties = {**_exec_properties(tmp_path), "input_config": '{"splits": [{"name": "train", "pattern": "span-3/x"}]}',
                  utils.SPAN_PROPERTY_NAME: 3.0, utils.VERSION_PROPERTY_NAME: None,
                  utils.FINGERPRINT_PROPERTY_NAME: "fingerprint"}
    examples = standard_artifacts.Examples()
    resolved = resolve_input(properties, examples)  # no file is read: there are none
    assert resolved["input_config"] == properties["input_config"] and resolved[utils.SPAN_PROPERTY_NAME] == 3
    assert examples.mlmd_artifact.custom_properties["span"].int_value == 3
