"""The whole TFX chain, run for real on tiny data by the `flowers` command."""
import glob
import json
import os

import numpy as np
import tensorflow as tf
import tensorflow_model_analysis as tfma

import pytest

from components.evaluation import ACCURACY
from data import flowers
from tests.pipeline.runs import TINY_FLAGS, flowers_run
from tests.records import read_records

pytestmark = pytest.mark.e2e  # runs whole pipelines

EXPECTED_COMPONENTS = {"ImportExampleGen", "StatisticsGen", "CuratedSchemaGen", "ExampleValidator",
                       "AnomaliesGate", "RecordCheck", "Baseline", "DriftStatisticsGen", "DriftGate", "Transform",
                       "Trainer", "Evaluator", "TFLiteExport", "Pusher"}


def _jpegs(path, count):
    records = read_records(str(path))
    return [next(records) for _ in range(count)]


def test_every_component_ran_and_a_model_was_pushed(tiny_run):
    summary = tiny_run["summary"]
    states = {c["name"]: c["state"] for c in summary["components"]}
    assert EXPECTED_COMPONENTS <= set(states), states
    assert all(states[name] == "complete" for name in EXPECTED_COMPONENTS), states
    assert summary["blessed"] is True and summary["pushed"] is True
    pushed = summary["pushed_model_dir"]
    assert os.path.dirname(pushed) == os.path.join(str(tiny_run["output"]), "serving")
    assert os.path.isfile(os.path.join(pushed, "saved_model.pb"))
    assert os.listdir(os.path.dirname(pushed)) == [os.path.basename(pushed)]  # no staging left behind
    assert 0.0 <= summary["accuracy"] <= 1.0
    assert set(summary["per_class_accuracy"]) == set(flowers.CLASS_NAMES)


def test_three_disjoint_splits_cover_the_data_and_the_summary_names_their_sizes(tiny_run):
    sizes = tiny_run["summary"]["split_sizes"]
    assert set(sizes) == {"train", "validation", "eval"} and all(sizes.values()), sizes
    assert sum(sizes.values()) == len(list(read_records(str(tiny_run["data"]))))  # 80 records
    splits = {split: _split_records(tiny_run, split) for split in sizes}
    assert {split: len(records) for split, records in splits.items()} == sizes
    assert sum(len(records) for records in splits.values()) == len(set().union(*splits.values()))  # disjoint
    printed = f"Records: train {sizes['train']}, validation {sizes['validation']}, eval {sizes['eval']}"
    assert printed in tiny_run["stdout"]


def test_the_trainers_validation_figures_are_of_the_validation_split_not_eval(tiny_run):
    """Early stopping and the restored best epoch read the Trainer's val_* figures: the exported
    model's loss on the validation split reproduces them; on the eval split it does not."""
    summary = tiny_run["summary"]
    with open(os.path.join(summary["tensorboard_dir"], "history.json")) as f:
        history = json.load(f)
    exported = int(np.argmax(history["val_accuracy"]))  # EarlyStopping restores the (first) best epoch
    model = tf.saved_model.load(summary["pushed_model_dir"])

    def loss(split: str) -> float:
        records = sorted(_split_records(tiny_run, split))
        out = model.signatures["serving_examples"](examples=tf.constant(records))["probabilities"].numpy()
        labels = [tf.train.Example.FromString(r).features.feature[flowers.CLASS_KEY].int64_list.value[0]
                  for r in records]
        # As Keras computes it from the softmax's logits: not clipped at 1e-7.
        return float(-np.mean(np.log(out[np.arange(len(labels)), labels].astype(np.float64))))

    # The same model on the same records: equal but for float rounding.
    assert loss("validation") == pytest.approx(history["val_loss"][exported], abs=1e-4)
    assert loss("eval") != pytest.approx(history["val_loss"][exported], abs=1e-4)


def _split_records(run, split: str) -> set[bytes]:
    """The serialized records of one split of the run's ImportExampleGen output."""
    (examples,) = glob.glob(os.path.join(str(run["output"]), "pipeline", "ImportExampleGen", "examples", "*"))
    files = glob.glob(os.path.join(examples, f"Split-{split}", "*"))
    return set(tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator())


def test_evaluator_computes_only_the_configured_metrics(tiny_run):
    """Not the model's compiled accuracy and loss, which made TFMA load the Keras model per combiner."""
    [evaluation] = glob.glob(os.path.join(str(tiny_run["output"]), "pipeline", "Evaluator", "evaluation", "*"))
    names = {kv.key.name for m in tfma.load_metrics(evaluation) for kv in m.metric_keys_and_values}
    assert names == {ACCURACY, "example_count"}, names


def test_the_evaluators_model_type_is_the_one_tfma_would_infer_from_the_pushed_model(tiny_run):
    """eval_config names the model type so that TFMA does not load the model once more to learn it."""
    from tensorflow_model_analysis.utils import model_util

    from components.evaluation import eval_config

    [spec] = eval_config(0.0, 0.0).model_specs
    inferred = model_util.get_model_type(tfma.ModelSpec(signature_name=spec.signature_name),
                                         tiny_run["summary"]["pushed_model_dir"])
    assert spec.model_type == inferred == tfma.TF_KERAS


def test_progress_lines_name_each_component(tiny_run):
    for name in EXPECTED_COMPONENTS:
        assert f"  {name} done in" in tiny_run["stdout"], name
    assert "epoch 4/4" in tiny_run["stdout"]


def test_pushed_model_classifies_raw_jpeg_bytes(tiny_run):
    model = tf.saved_model.load(tiny_run["summary"]["pushed_model_dir"])  # TensorFlow only
    records = _jpegs(tiny_run["data"], 10)
    out = model.signatures["serving_default"](image_bytes=tf.constant([r["image"] for r in records]))
    probabilities = out["probabilities"].numpy()
    assert probabilities.shape == (10, 5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    labels = [s.decode() for s in out["label"].numpy()]
    assert labels == [flowers.CLASS_NAMES[i] for i in probabilities.argmax(axis=1)]
    assert [s.decode() for s in out["class_names"].numpy()[0]] == list(flowers.CLASS_NAMES)


def test_example_signature_matches_image_signature(tiny_run):
    """The Evaluator's tf.Example path and the serving path run the same graph."""
    model = tf.saved_model.load(tiny_run["summary"]["pushed_model_dir"])
    records = _jpegs(tiny_run["data"], 4)
    examples = [flowers.encode_example(r["image"], r["class"], *r["size"]) for r in records]
    by_example = model.signatures["serving_examples"](examples=tf.constant(examples))["probabilities"]
    by_image = model.signatures["serving_default"](image_bytes=tf.constant([r["image"] for r in records]))
    np.testing.assert_allclose(by_example.numpy(), by_image["probabilities"].numpy(), atol=1e-5)


def test_unreachable_floor_blesses_nothing_and_keeps_the_pushed_version(tiny_run):
    serving = os.path.join(str(tiny_run["output"]), "serving")
    before = sorted(os.listdir(serving))
    _, summary = flowers_run("--data", str(tiny_run["data"]), "--output", str(tiny_run["output"]),
                             "--min-accuracy", "1.01", *TINY_FLAGS)
    states = {c["name"]: c["state"] for c in summary["components"]}
    assert states["Trainer"] == "cached", "an unchanged Trainer must come from the cache"
    assert states["Evaluator"] == "complete"
    assert summary["blessed"] is False and summary["pushed"] is False
    assert summary["pushed_model_dir"] is None
    assert sorted(os.listdir(serving)) == before
