"""The Trainer in the shared tiny run: augmentation inside the model, serving as without it; the
cache it chose."""
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft

import models
from components import signatures
from data import flowers
from pipeline.summary import latest_run
from tests.records import read_records

pytestmark = pytest.mark.e2e  # inspects a whole pipeline run


def _transform_graph(output) -> str:
    _, executions = latest_run(str(output / "metadata.sqlite"), "flowers")
    (uri,) = [outputs["transform_graph"].uri for name, _, outputs in executions if name == "Transform"]
    return uri


def test_serving_gives_the_probabilities_of_the_same_weights_without_augmentation(tiny_run, tmp_path):
    """The pushed model trained with the augmentation in front; exported without it (as before the
    augmentation moved into the model), the same weights serve the same probabilities."""
    pushed = tiny_run["summary"]["pushed_model_dir"]
    assert b"flowers>Augment" in (Path(pushed) / "keras_metadata.pb").read_bytes()  # trained with it in front
    trained = tf.saved_model.load(pushed)
    plain = models.build("convnet", 64, len(flowers.CLASS_NAMES))
    plain.set_weights([variable.numpy() for variable in trained.variables])  # Keras' own order
    signatures.export(plain, tft.TFTransformOutput(_transform_graph(tiny_run["output"])), str(tmp_path / "plain"),
                      list(flowers.CLASS_NAMES))

    records = read_records(str(tiny_run["data"]))
    photos = tf.constant([next(records)["image"] for _ in range(16)])
    served = trained.signatures["serving_default"](image_bytes=photos)
    without = tf.saved_model.load(str(tmp_path / "plain")).signatures["serving_default"](image_bytes=photos)
    np.testing.assert_allclose(served["probabilities"].numpy(), without["probabilities"].numpy(), rtol=0, atol=1e-6)


def test_trainer_reports_its_cache_choice(tiny_run):
    """The tiny data fits in memory: both splits are cached there, and the console says so."""
    assert "train split cached in memory" in tiny_run["stdout"]
    assert "validation split cached in memory" in tiny_run["stdout"]
