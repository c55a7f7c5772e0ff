"""One short pipeline run per architecture family on tiny data: from scratch (squeezenet) and
fine-tuned transfer (xception, with the ImageNet weights from ../shared/weights). Frozen transfer
(mobilenet_v2) runs in test_class_list.py, and `convnet` in every other pipeline test.

The runs share one output root, so the data steps run once and the later run takes them from the cache.
"""
import numpy as np
import pytest
import tensorflow as tf

from tests.pipeline.runs import base_kernel_drift, flowers_run
from tests.records import read_records

pytestmark = pytest.mark.e2e  # runs whole pipelines

# name -> (weights file, the base's first convolution: it tells whether fine-tuning moved the base)
FAMILIES = {
    "squeezenet": (None, None),
    "xception": ("xception_no_top.h5", "block1_conv1"),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_data, shared_weights) -> dict:
    output = tmp_path_factory.mktemp("architectures")
    summaries = {}
    for name, (weights, _) in FAMILIES.items():
        flags = ["--data", str(tiny_data), "--output", str(output), "--model", name, "--image-size", "96",
                 "--epochs", "1", "--batch-size", "16", "--seed", "1", "--no-tflite",
                 # Every candidate is pushed: this is about training and export, not the gate.
                 "--min-accuracy", "0", "--max-regression", "1"]
        if weights:
            flags += ["--weights", str(shared_weights / weights)]
        _, summaries[name] = flowers_run(*flags)
    return summaries


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_each_family_trains_in_the_pipeline_and_serves_jpeg_bytes(runs, tiny_data, name):
    summary = runs[name]
    states = {c["name"]: c["state"] for c in summary["components"]}
    assert states["Trainer"] == "complete" and summary["pushed"], states
    if name != "squeezenet":  # the first run did the data steps
        assert states["Transform"] == "cached", states
    jpegs = [r["image"] for _, r in zip(range(6), read_records(str(tiny_data)))]
    model = tf.saved_model.load(summary["pushed_model_dir"])
    probabilities = model.signatures["serving_default"](image_bytes=tf.constant(jpegs))["probabilities"].numpy()
    assert probabilities.shape == (6, 5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)


def test_fine_tuned_base_moves_from_its_imagenet_weights(runs, shared_weights):
    weights, layer = FAMILIES["xception"]
    change, largest = base_kernel_drift(runs["xception"]["pushed_model_dir"], shared_weights / weights, layer)
    assert 0 < change < 0.1 * largest  # moved by fine-tuning, not replaced: still close to ImageNet's values
