"""Transform: JPEG bytes → fixed-size pixels; the class index passed through.

The same graph runs in the Trainer's input pipeline and at serving time (the SavedModel embeds
it), so a photo is decoded and resized exactly as in training. Transform only exports the graph
(`materialize=False`): the Trainer decodes each JPEG once through it and caches the pixels, which
is faster than writing and re-reading gzipped pixels, several times the size of a JPEG. The
pixels leave the graph as float32 (a tf.Transform output cannot be uint8), whole values 0..255,
so the Trainer casts them back to uint8 losslessly for its cache. Never materialized, they cost
no disk. Input scaling (0..1, -1..1) is each model's own first layer, so one transform serves all;
training-only augmentation is the model's too (models.augment), in its training step.
"""
from __future__ import annotations

import tensorflow as tf

from data import flowers

# The transformed features, named here only; data/flowers.py names the raw record's.
TRANSFORMED_PIXELS = "pixels"  # float32 [size, size, 3], whole values 0..255, from flowers.IMAGE_KEY
TRANSFORMED_CLASS = "class"  # int64 class index, flowers.CLASS_KEY passed through


def decode_and_resize(jpeg: tf.Tensor, size: int) -> tf.Tensor:
    """One encoded image (JPEG, PNG, …) → uint8 [size, size, 3]: center square crop, then resize."""
    image = tf.io.decode_image(jpeg, channels=3, expand_animations=False)
    shape = tf.shape(image)
    height, width = shape[0], shape[1]
    # Crop and antialiased resize are the identity for a photo already at the training size, yet
    # the resize alone costs more than the decoding. Skipped.
    at_size = tf.logical_and(tf.equal(height, size), tf.equal(width, size))
    image = tf.cond(at_size, lambda: image, lambda: _centre_square(image, height, width, size))
    return tf.ensure_shape(image, [size, size, 3])


def _centre_square(image: tf.Tensor, height: tf.Tensor, width: tf.Tensor, size: int) -> tf.Tensor:
    side = tf.minimum(height, width)
    square = tf.image.crop_to_bounding_box(image, (height - side) // 2, (width - side) // 2, side, side)
    resized = tf.image.resize(square, [size, size], antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)


def decode_batch(images: tf.Tensor, size: int) -> tf.Tensor:
    """A batch of encoded images [N] → float32 pixels [N, size, size, 3], whole values 0..255."""
    pixels = tf.map_fn(lambda jpeg: decode_and_resize(jpeg, size), images,
                       fn_output_signature=tf.TensorSpec([size, size, 3], tf.uint8))
    return tf.cast(pixels, tf.float32)


def preprocessing_fn(inputs: dict, custom_config: dict) -> dict:
    """tf.Transform entry point; `custom_config["image_size"]` is the side of the square output."""
    size = int(custom_config["image_size"])
    # At serving time only `image` is fed; tf.Transform drops the outputs that need the rest.
    return {
        TRANSFORMED_PIXELS: decode_batch(tf.reshape(inputs[flowers.IMAGE_KEY], [-1]), size),
        TRANSFORMED_CLASS: tf.reshape(inputs[flowers.CLASS_KEY], [-1]),
    }
