"""ImportExampleGen's executor resolving the newest span itself, as on a KFP backend where no
driver runs before it (and leaving the driver's resolution alone where one did)."""
import json

import tensorflow as tf
from tfx.components.example_gen import utils
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from components.example_gen import resolve_input
from data import flowers


def _exec_properties(base) -> dict:
    splits = [example_gen_pb2.Input.Split(name=s, pattern=f"span-{{SPAN}}/{s}/*.tfrec*") for s in flowers.SPLITS]
    return {"input_base": str(base), "input_config": proto_utils.proto_to_json(example_gen_pb2.Input(splits=splits)),
            "output_config": "{}"}


def _write(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        writer.write(flowers.encode_example(b"jpeg", 0, 8, 8))


def test_unresolved_span_pattern_is_resolved_and_recorded(tmp_path):
    for span in (1, 2, 10):
        for split in flowers.SPLITS:
            _write(tmp_path / f"span-{span}" / split / "a.tfrec")
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
