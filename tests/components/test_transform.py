"""preprocessing_fn and augment(), called directly on real JPEG bytes (the same functions Transform runs)."""
import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from components.transform import LABEL_KEY, PIXELS_KEY, augment, decode_and_resize, preprocessing_fn
from data import flowers


def _jpeg(width, height, color=(200, 30, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def test_decode_and_resize_crops_the_centre_square_of_any_shape():
    image = Image.new("RGB", (300, 100), (0, 0, 255))
    image.paste((255, 0, 0), (100, 0, 200, 100))  # red centre square, blue sides
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")  # PNG is decoded too
    pixels = decode_and_resize(tf.constant(buffer.getvalue()), 48).numpy()
    assert pixels.shape == (48, 48, 3) and pixels.dtype == np.uint8
    assert pixels[..., 0].mean() > 240 and pixels[..., 2].mean() < 15  # only the red centre survives


def test_photo_already_at_the_size_is_kept_exactly(shared_flowers):
    """The resize is skipped at the photo's own size: the same pixels the antialiased resize gives."""
    jpeg = next(flowers.read_records(str(shared_flowers)))["image"]
    decoded = tf.io.decode_jpeg(jpeg, channels=3)
    side = int(decoded.shape[0])
    assert decoded.shape[1] == side  # the public set is square
    pixels = decode_and_resize(tf.constant(jpeg), side).numpy()
    np.testing.assert_array_equal(pixels, decoded.numpy())
    resized = tf.image.resize(decoded, [side, side], antialias=True)
    np.testing.assert_array_equal(pixels, tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8).numpy())


def test_preprocessing_fn_outputs_pixels_and_label(shared_flowers):
    records = flowers.read_records(str(shared_flowers))
    batch = [next(records) for _ in range(3)]
    inputs = {
        flowers.IMAGE_KEY: tf.constant([[r["image"]] for r in batch]),
        flowers.CLASS_KEY: tf.constant([[r["class"]] for r in batch], tf.int64),
    }
    out = preprocessing_fn(inputs, {"image_size": 96})
    assert out[LABEL_KEY].numpy().tolist() == [r["class"] for r in batch]
    assert out[PIXELS_KEY].shape == (3, 96, 96, 3) and out[PIXELS_KEY].dtype == tf.float32
    for pixels, record in zip(out[PIXELS_KEY].numpy(), batch):
        # Whole values 0..255, so the Trainer's uint8 cache holds them exactly.
        np.testing.assert_array_equal(pixels, np.clip(np.round(pixels), 0, 255))
        expected = tf.image.resize(tf.io.decode_jpeg(record["image"]), [96, 96], antialias=True)
        assert np.abs(pixels.astype(float) - expected.numpy()).mean() < 1.0


def test_augment_changes_each_image_of_a_batch_its_own_way():
    images = tf.cast(tf.random.stateless_uniform([8, 64, 64, 3], [1, 2], 0, 256, tf.int32), tf.uint8)
    out = augment(images, random_crop=True).numpy()
    assert out.shape == (8, 64, 64, 3) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 255.0
    assert all(not np.allclose(o, i) for o, i in zip(out, images.numpy().astype(np.float32)))
    # Own random values per image: the same photo in every slot comes out in several versions.
    same = augment(tf.repeat(images[:1], 8, axis=0), random_crop=True).numpy()
    assert len({o.tobytes() for o in same}) > 1


def test_augment_saturation_keeps_grey_pixels_and_flip_mirrors():
    grey = tf.fill([4, 16, 16, 3], tf.constant(100, tf.uint8))
    np.testing.assert_allclose(augment(grey).numpy(), 100.0, atol=1e-3)  # no colour to scale
    ramp = tf.cast(tf.tile(tf.range(16)[None, None, :, None] * 10, [64, 16, 1, 3]), tf.uint8)
    # A grey ramp: only the flip can change it, for some images only (float32 after the colour
    # matrix, so compared to within a thousandth of a level; the ramp's steps are 10 levels).
    out, want = augment(ramp).numpy(), ramp.numpy()[0].astype(np.float32)
    flipped = [np.allclose(o, want[:, ::-1], atol=1e-3) for o in out]
    assert all(f or np.allclose(o, want, atol=1e-3) for f, o in zip(flipped, out))
    assert 0 < sum(flipped) < 64


def test_augment_draws_crop_and_saturation_independently_when_seeded():
    image = np.zeros([32, 32, 3], np.uint8)
    image[:16] = (np.arange(32) * 8)[None, :, None]  # top: a grey ramp, which saturation leaves alone
    image[16:] = [255, 0, 0]  # bottom: red, which cropping leaves alone
    batch = tf.constant(np.repeat(image[None], 64, axis=0))
    out = tf.function(lambda b: augment(b, seed=3, random_crop=True))(batch).numpy()  # as in tf.data
    zoom = 1 / np.abs(out[:, 0, -1, 0] - out[:, 0, 0, 0])  # a smaller crop spans less of the ramp
    red = out[:, -1, 16]
    factor = (red[:, 0] - red[:, 1]) / 255  # R − G = 255 × factor while nothing clips (factor < 1)
    unclipped = factor < 0.99
    assert unclipped.sum() > 10
    assert abs(np.corrcoef(zoom[unclipped], factor[unclipped])[0, 1]) < 0.6


def test_truncated_jpeg_fails_in_decode():
    with pytest.raises(tf.errors.InvalidArgumentError):
        decode_and_resize(tf.constant(_jpeg(40, 40)[:30]), 32).numpy()
