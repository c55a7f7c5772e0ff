"""Transform: JPEG bytes → fixed-size uint8 pixels; label passed through. Plus train-only augmentation.

The same graph runs in the Trainer's input pipeline and at serving time (the SavedModel embeds
it), so a photo is decoded and resized exactly as in training. Transform only exports the graph
(`materialize=False`): the Trainer decodes each JPEG once through it and caches the pixels, which
is faster than writing and re-reading 87 KiB/image of gzipped pixels (benchmarks/input.py). The
pixels are serialized uint8 tensors because a tf.Transform output cannot be uint8 itself.
Input scaling (0..1, -1..1) is each model's own first layer, so one transform serves them all.
"""
from __future__ import annotations

import tensorflow as tf

from data import flowers

PIXELS_KEY = "pixels"  # transformed: serialized uint8 [size, size, 3]
LABEL_KEY = "class"  # transformed: int64 class index, passed through


def decode_and_resize(jpeg: tf.Tensor, size: int) -> tf.Tensor:
    """One encoded image (JPEG, PNG, …) → uint8 [size, size, 3]: center square crop, then resize."""
    image = tf.io.decode_image(jpeg, channels=3, expand_animations=False)
    shape = tf.shape(image)
    height, width = shape[0], shape[1]
    side = tf.minimum(height, width)
    image = tf.image.crop_to_bounding_box(image, (height - side) // 2, (width - side) // 2, side, side)
    # An antialiased resize to the same size is the identity, yet it cut decoding from 5,800 to
    # 2,300 images/s on 2 cores: skip it for photos already at the training size.
    image = tf.cond(side == size, lambda: tf.cast(image, tf.float32),
                    lambda: tf.image.resize(image, [size, size], antialias=True))
    image = tf.ensure_shape(image, [size, size, 3])
    return tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)


def encode_pixels(images: tf.Tensor, size: int) -> tf.Tensor:
    """A batch of encoded images [N] → serialized uint8 pixel tensors [N]."""
    return tf.map_fn(
        lambda jpeg: tf.io.serialize_tensor(decode_and_resize(jpeg, size)),
        images,
        fn_output_signature=tf.TensorSpec([], tf.string),
    )


def parse_pixels(serialized: tf.Tensor, size: int) -> tf.Tensor:
    """One serialized pixel tensor → uint8 [size, size, 3] (the inverse of `encode_pixels`)."""
    return tf.ensure_shape(tf.io.parse_tensor(serialized, tf.uint8), [size, size, 3])


def preprocessing_fn(inputs: dict, custom_config: dict) -> dict:
    """tf.Transform entry point; `custom_config["image_size"]` is the side of the square output."""
    size = int(custom_config["image_size"])
    # At serving time only `image` is fed; tf.Transform drops the outputs that need the rest.
    return {
        PIXELS_KEY: encode_pixels(tf.reshape(inputs[flowers.IMAGE_KEY], [-1]), size),
        LABEL_KEY: tf.reshape(inputs[flowers.CLASS_KEY], [-1]),
    }


def augment(image: tf.Tensor, seed: int | None = None, random_crop: bool = False) -> tf.Tensor:
    """Training-split augmentation from the source material: flip, saturation, optional crop.

    Applied in the Trainer's input pipeline to the train split only; eval and serving never see it.
    Works on one uint8 image [size, size, 3] and returns uint8 of the same shape.
    """
    size = image.shape[0]
    image = tf.image.random_flip_left_right(image, seed=seed)
    image = tf.image.random_saturation(image, 0.0, 2.0, seed=seed)
    if random_crop:
        # Zoom in by up to 20%, then back to the training size.
        crop = tf.cast(tf.random.uniform([], 0.8, 1.0, seed=seed) * size, tf.int32)
        image = tf.image.random_crop(image, [crop, crop, 3], seed=seed)
        image = tf.cast(tf.round(tf.image.resize(image, [size, size])), tf.uint8)
    return image
