"""preprocessing_fn, called directly on real JPEG bytes (the same functions Transform runs)."""
import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from components.transform import TRANSFORMED_CLASS, TRANSFORMED_PIXELS, decode_and_resize, preprocessing_fn
from data import flowers
from tests.records import read_records


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
    jpeg = next(read_records(str(shared_flowers)))["image"]
    decoded = tf.io.decode_jpeg(jpeg, channels=3)
    side = int(decoded.shape[0])
    assert decoded.shape[1] == side  # the public set is square
    pixels = decode_and_resize(tf.constant(jpeg), side).numpy()
    np.testing.assert_array_equal(pixels, decoded.numpy())
    resized = tf.image.resize(decoded, [side, side], antialias=True)
    np.testing.assert_array_equal(pixels, tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8).numpy())


def test_preprocessing_fn_outputs_pixels_and_label(shared_flowers):
    records = read_records(str(shared_flowers))
    batch = [next(records) for _ in range(3)]
    inputs = {
        flowers.IMAGE_KEY: tf.constant([[r["image"]] for r in batch]),
        flowers.CLASS_KEY: tf.constant([[r["class"]] for r in batch], tf.int64),
    }
    out = preprocessing_fn(inputs, {"image_size": 96})
    assert out[TRANSFORMED_CLASS].numpy().tolist() == [r["class"] for r in batch]
    assert out[TRANSFORMED_PIXELS].shape == (3, 96, 96, 3) and out[TRANSFORMED_PIXELS].dtype == tf.float32
    for pixels, record in zip(out[TRANSFORMED_PIXELS].numpy(), batch):
        # Whole values 0..255, so the Trainer's uint8 cache holds them exactly.
        np.testing.assert_array_equal(pixels, np.clip(np.round(pixels), 0, 255))
        expected = tf.image.resize(tf.io.decode_jpeg(record["image"]), [96, 96], antialias=True)
        assert np.abs(pixels.astype(float) - expected.numpy()).mean() < 1.0


def test_truncated_jpeg_fails_in_decode():
    with pytest.raises(tf.errors.InvalidArgumentError):
        decode_and_resize(tf.constant(_jpeg(40, 40)[:30]), 32).numpy()
