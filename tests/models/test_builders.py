"""Contract tests for every architecture: input/output, parameter budgets, trainability."""
from pathlib import Path

import h5py
import numpy as np
import pytest
import tensorflow as tf

import models
from models import squeezenet

WEIGHTS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "weights"
MOBILENET_FILE = WEIGHTS_DIR / "mobilenet_v2_1.0_224_no_top.h5"
XCEPTION_FILE = WEIGHTS_DIR / "xception_no_top.h5"
NUM_CLASSES = 5

# name -> (test image size, weights): the smallest sizes each architecture accepts cheaply.
CASES = {
    "dense": (64, None),
    "convnet": (64, None),
    "squeezenet": (64, None),
    "mobilenet_v2": (96, str(MOBILENET_FILE)),  # file form
    "xception": (71, str(WEIGHTS_DIR)),  # directory form
}

_cache: dict[str, tf.keras.Model] = {}


def built(name: str) -> tf.keras.Model:
    """Each model is built once per session: the transfer models take seconds to load."""
    if name not in _cache:
        size, weights = CASES[name]
        # Never skipped: the weights live in ../shared beside the repo wherever tests run.
        assert weights is None or Path(weights).exists(), f"{weights} is missing"
        _cache[name] = models.build(name, size, NUM_CLASSES, weights)
    return _cache[name]


def base_of(model: tf.keras.Model) -> tf.keras.Model:
    (base,) = [layer for layer in model.layers if isinstance(layer, tf.keras.Model)]
    return base


def trainable_count(model: tf.keras.Model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_every_registered_model_is_tested_here():
    assert set(models.MODEL_NAMES) == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_input_output_contract(name):
    model = built(name)
    size = CASES[name][0]
    assert model.input_names == ["image"]
    assert model.get_layer("image").dtype == "float32"
    assert tuple(model.input_shape) == (None, size, size, 3)
    assert model.layers[-1].name == "probabilities"
    assert model.output.dtype == tf.float32
    pixels = np.random.default_rng(0).integers(0, 256, (3, size, size, 3)).astype("float32")
    probs = model(pixels, training=False).numpy()
    assert probs.shape == (3, NUM_CLASSES)
    assert (probs >= 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert model.optimizer is None  # builders must not compile


def test_parameter_budgets_from_scratch():
    # Measured at 192 px: convnet 197,285; squeezenet 198,101; dense 3,481,805.
    assert 20_000 < built("convnet").count_params() < 300_000
    assert 100_000 < built("squeezenet").count_params() < 300_000
    dense_192 = models.build("dense", 192, NUM_CLASSES)
    assert 1_000_000 < dense_192.count_params() < 30_000_000


def test_mobilenet_v2_trains_only_its_head():
    model = built("mobilenet_v2")
    base = base_of(model)
    assert not base.trainable
    assert all(not layer.trainable for layer in base.layers)
    assert model.get_layer(index=-2).trainable  # the new Dense head
    # Batch norm (scale and shift) and one Dense over the pooled features of three depths.
    features = 576 + 960 + 1280
    assert trainable_count(model) == 2 * features + features * NUM_CLASSES + NUM_CLASSES
    assert model.count_params() > 2_200_000  # measured 2,283,333


def test_xception_trains_everything():
    model = built("xception")
    base = base_of(model)
    assert base.trainable
    assert all(layer.trainable for layer in base.layers)
    assert trainable_count(model) > 20_000_000  # measured 20,817,197


@pytest.mark.parametrize("name,layer,h5_file", [
    ("mobilenet_v2", "Conv1", MOBILENET_FILE),
    ("xception", "block1_conv1", XCEPTION_FILE),
])
def test_local_weights_are_loaded(name, layer, h5_file):
    loaded = base_of(built(name)).get_layer(layer).kernel.numpy()
    with h5py.File(h5_file, "r") as f:
        np.testing.assert_array_equal(loaded, f[layer][layer]["kernel"][()])
    size = CASES[name][0]
    random_init = base_of(models.build(name, size, NUM_CLASSES, None)).get_layer(layer)
    assert not np.allclose(loaded, random_init.kernel.numpy())


def test_softmax_stays_float32_under_mixed_precision():
    tf.keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = models.build("convnet", 32, NUM_CLASSES)
    finally:
        tf.keras.mixed_precision.set_global_policy("float32")
    assert model.get_layer(index=-2).compute_dtype == "float16"
    assert model.output.dtype == tf.float32


def test_xception_rejects_small_images():
    with pytest.raises(ValueError, match="xception needs image_size >= 71"):
        models.build("xception", 64, NUM_CLASSES, None)


@pytest.mark.parametrize("name", ["dense", "convnet", "squeezenet"])
def test_scratch_models_refuse_pretrained_weights(name):
    with pytest.raises(ValueError, match="no pretrained weights"):
        models.build(name, 64, NUM_CLASSES, "imagenet")
    models.build(name, 32, NUM_CLASSES, "none")  # CLI spelling of "no weights" is fine


def test_unknown_model_lists_valid_names():
    with pytest.raises(ValueError) as err:
        models.build("nope", 64, NUM_CLASSES)
    for name in models.MODEL_NAMES:
        assert name in str(err.value)


def test_fire_module_concatenates_both_expands():
    x = tf.keras.Input(shape=(8, 8, 16))
    y = squeezenet.fire_module(x, squeeze=4, expand=32)
    assert tuple(y.shape) == (None, 8, 8, 32)


def test_squeezenet_batchnorm_after_every_convolution():
    model = built("squeezenet")
    convs = [l for l in model.layers if isinstance(l, tf.keras.layers.Conv2D)]
    norms = [l for l in model.layers if isinstance(l, tf.keras.layers.BatchNormalization)]
    assert len(convs) == len(norms) > 10
    assert all(n.momentum == 0.9 for n in norms)
