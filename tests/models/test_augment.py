"""The training-only augmentation layer and the helper that puts it in front of every architecture."""
import numpy as np
import pytest
import tensorflow as tf

import models
from models.augment import Augment, zoom_crop


def _random_images(count=8, size=64, seed=(1, 2)):
    return tf.cast(tf.random.stateless_uniform([count, size, size, 3], seed, 0, 256, tf.int32), tf.float32)


def test_each_image_of_a_batch_changes_its_own_way():
    images = _random_images()
    out = Augment(random_crop=True)(images, training=True).numpy()
    assert out.shape == (8, 64, 64, 3) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 255.0
    assert all(not np.allclose(o, i) for o, i in zip(out, images.numpy()))
    # Own random values per image: the same photo in every slot comes out in several versions.
    same = Augment(random_crop=True)(tf.repeat(images[:1], 8, axis=0), training=True).numpy()
    assert len({o.tobytes() for o in same}) > 1


def test_inactive_outside_training():
    images = _random_images()
    layer = Augment(random_crop=True, seed=1)
    for training in (False, None):
        np.testing.assert_array_equal(layer(images, training=training).numpy(), images.numpy())


def test_saturation_keeps_grey_pixels_and_flip_mirrors():
    layer = Augment()
    grey = tf.fill([4, 16, 16, 3], 100.0)
    np.testing.assert_allclose(layer(grey, training=True).numpy(), 100.0, atol=1e-3)  # no colour to scale
    ramp = tf.cast(tf.tile(tf.range(16)[None, None, :, None] * 10, [64, 16, 1, 3]), tf.float32)
    # A grey ramp: only the flip can change it, for some images only (to within a thousandth of a
    # level after the colour matrix; the ramp's steps are 10 levels).
    out, want = layer(ramp, training=True).numpy(), ramp.numpy()[0]
    flipped = [np.allclose(o, want[:, ::-1], atol=1e-3) for o in out]
    assert all(f or np.allclose(o, want, atol=1e-3) for f, o in zip(flipped, out))
    assert 0 < sum(flipped) < 64


def test_zoom_crop_is_crop_and_resize():
    images = _random_images(count=3, size=48)
    side = tf.constant([0.8, 1.0, 0.93])
    corner = tf.constant([[0.1, 0.05], [0.0, 0.0], [0.0, 0.07]])
    boxes = tf.concat([corner, corner + side[:, None]], axis=1)
    want = tf.image.crop_and_resize(images, boxes, tf.range(3), [48, 48]).numpy()
    np.testing.assert_allclose(zoom_crop(images, side, corner).numpy(), want, atol=5e-3)


def test_crop_and_saturation_are_drawn_independently():
    image = np.zeros([32, 32, 3], np.float32)
    image[:16] = (np.arange(32) * 8)[None, :, None]  # top: a grey ramp, which saturation leaves alone
    image[16:] = [255, 0, 0]  # bottom: red, which cropping leaves alone
    layer = Augment(random_crop=True, seed=3)
    out = tf.function(lambda b: layer(b, training=True))(np.repeat(image[None], 64, axis=0)).numpy()
    zoom = 1 / np.abs(out[:, 0, -1, 0] - out[:, 0, 0, 0])  # a smaller crop spans less of the ramp
    red = out[:, -1, 16]
    factor = (red[:, 0] - red[:, 1]) / 255  # R − G = 255 × factor while nothing clips (factor < 1)
    unclipped = factor < 0.99
    assert unclipped.sum() > 10
    assert abs(np.corrcoef(zoom[unclipped], factor[unclipped])[0, 1]) < 0.6


def test_a_seed_repeats_the_augmentation_exactly():
    images = _random_images()

    def two_steps(seed):
        layer = Augment(random_crop=True, seed=seed)
        step = tf.function(lambda b: layer(b, training=True))  # as in the model's training step
        return [step(images).numpy() for _ in range(2)]

    first, again, other = two_steps(5), two_steps(5), two_steps(6)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.allclose(first[1], first[0])  # each step draws new values
    assert not np.allclose(other[0], first[0])


def test_every_op_compiles_with_xla():
    """What a TPU needs (tf.image.crop_and_resize, for one, has no XLA kernel)."""
    layer = Augment(random_crop=True, saturation=True, seed=1)
    out = tf.function(lambda b: layer(b, training=True), jit_compile=True)(_random_images())
    assert out.shape == (8, 64, 64, 3)


def test_float32_under_mixed_precision():
    tf.keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        layer = Augment()
    finally:
        tf.keras.mixed_precision.set_global_policy("float32")
    assert layer.compute_dtype == "float32"


@pytest.mark.parametrize("name", ["convnet", "squeezenet"])
def test_build_puts_it_in_front_of_the_same_layers_and_weights(name):
    augmented = models.build(name, 64, 5, augment={"random_crop": True, "saturation": True, "seed": 1})
    plain = models.build(name, 64, 5)
    assert [layer.name for layer in augmented.layers[:2]] == ["image", "augment"]
    assert isinstance(augmented.layers[1], Augment)
    assert [type(layer) for layer in augmented.layers[2:]] == [type(layer) for layer in plain.layers[1:]]
    assert augmented.input_names == ["image"] and augmented.name == plain.name
    assert augmented.get_layer("probabilities").output.dtype == tf.float32
    # Flat: no nested model, and nothing to train or save in the augmentation.
    assert not any(isinstance(layer, tf.keras.Model) for layer in augmented.layers)
    assert len(augmented.weights) == len(plain.weights)
    plain.set_weights(augmented.get_weights())
    pixels = _random_images(count=4).numpy()
    np.testing.assert_array_equal(augmented(pixels, training=False).numpy(), plain(pixels, training=False).numpy())
    assert not np.allclose(augmented(pixels, training=True).numpy(), plain(pixels, training=True).numpy())


def test_pretrained_base_stays_reachable_by_name(shared_weights):
    model = models.build("mobilenet_v2", 96, 5, str(shared_weights), augment={"saturation": False})
    assert model.get_layer("mobilenet_v2_features").trainable is False
    assert model.layers[1].name == "augment"
