"""One short pipeline run per architecture family on tiny data: from scratch (squeezenet), frozen transfer
(mobilenet_v2) and fine-tuned transfer (xception), with the ImageNet weights from ../shared/weights.

The runs share one output root, so the data steps run once and the later runs take them from the cache.
"""
import h5py
import numpy as np
import pytest
import tensorflow as tf

from tests.pipeline.runs import flowers_run
from tests.records import read_records

pytestmark = pytest.mark.e2e  # runs whole pipelines

# name -> (weights file, the base's first convolution: frozen or fine-tuned, it tells which happened)
FAMILIES = {
    "squeezenet": (None, None),
    "mobilenet_v2": ("mobilenet_v2_1.0_224_no_top.h5", "Conv1"),
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


@pytest.mark.parametrize("name, frozen", [("mobilenet_v2", True), ("xception", False)])
def test_frozen_base_keeps_its_imagenet_weights_and_fine_tuned_base_moves(runs, shared_weights, name, frozen):
    weights, layer = FAMILIES[name]
    variables = {v.name: v.numpy() for v in tf.saved_model.load(runs[name]["pushed_model_dir"]).variables}
    trained = variables[f"{layer}/kernel:0"]
    with h5py.File(shared_weights / weights, "r") as f:
        imagenet = f[layer][layer]["kernel"][()]
    assert trained.shape == imagenet.shape
    assert np.array_equal(trained, imagenet) == frozen
    if not frozen:  # moved by fine-tuning, not replaced: still close to the ImageNet values
        assert np.abs(trained - imagenet).max() < 0.1 * np.abs(imagenet).max()
