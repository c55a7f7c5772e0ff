"""A full run on a handful of real photos from ../shared/flowers, and the pushed model on unseen ones."""
import numpy as np
import pytest
import tensorflow as tf

from tests.pipeline.runs import flowers_run, write_real_records
from tests.records import read_records

pytestmark = pytest.mark.e2e  # runs whole pipelines

TRAIN_RECORDS = 60


@pytest.fixture(scope="module")
def real_run(tmp_path_factory, shared_flowers):
    data = write_real_records(shared_flowers, tmp_path_factory.mktemp("real_data"), TRAIN_RECORDS)
    output = tmp_path_factory.mktemp("real_run")
    _, summary = flowers_run("--data", str(data), "--output", str(output), "--min-accuracy", "0",
                             "--image-size", "96", "--epochs", "2", "--no-tflite")
    return summary


def test_real_photos_run_pushes_a_model_that_reads_unseen_photos(real_run, shared_flowers):
    assert real_run["blessed"] and real_run["pushed"]
    unseen = [r["image"] for _, r in zip(range(8), read_records(str(shared_flowers / "flowers11-237.tfrec")))]
    model = tf.saved_model.load(real_run["pushed_model_dir"])
    probabilities = model.signatures["serving_default"](image_bytes=tf.constant(unseen))["probabilities"].numpy()
    assert probabilities.shape == (8, 5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
