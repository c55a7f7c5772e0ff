"""Transform: JPEG bytes → fixed-size pixels; label passed through. Plus train-only augmentation.

The same graph runs in the Trainer's input pipeline and at serving time (the SavedModel embeds
it), so a photo is decoded and resized exactly as in training. Transform only exports the graph
(`materialize=False`): the Trainer decodes each JPEG once through it and caches the pixels, which
is faster than writing and re-reading 87 KiB/image of gzipped pixels (benchmarks/input.py). The
pixels leave the graph as float32 (a tf.Transform output cannot be uint8), whole values 0..255,
so the Trainer casts them back to uint8 losslessly for its cache. Never materialized, they cost
no disk. Input scaling (0..1, -1..1) is each model's own first layer, so one transform serves all.
"""
from __future__ import annotations

import tensorflow as tf

from data import flowers

PIXELS_KEY = "pixels"  # transformed: float32 [size, size, 3], whole values 0..255
LABEL_KEY = "class"  # transformed: int64 class index, passed through


def decode_and_resize(jpeg: tf.Tensor, size: int) -> tf.Tensor:
    """One encoded image (JPEG, PNG, …) → uint8 [size, size, 3]: center square crop, then resize."""
    image = tf.io.decode_image(jpeg, channels=3, expand_animations=False)
    shape = tf.shape(image)
    height, width = shape[0], shape[1]
    # Crop and antialiased resize are the identity for a photo already at the training size, yet
    # they cost: the resize alone cut decoding from 5,800 to 2,300 images/s on 2 cores. Skipped.
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
        PIXELS_KEY: decode_batch(tf.reshape(inputs[flowers.IMAGE_KEY], [-1]), size),
        LABEL_KEY: tf.reshape(inputs[flowers.CLASS_KEY], [-1]),
    }


def augment(images: tf.Tensor, seed: int | None = None, random_crop: bool = False,
            saturation: bool = True) -> tf.Tensor:
    """Training-split augmentation from the source material: flip, saturation, optional crop.

    Applied in the Trainer's input pipeline to the train split only; eval and serving never see it.
    Works on a whole batch, uint8 [N, size, size, 3], each image drawing its own random values, and
    returns float32 pixels in 0..255 (what every model takes). With saturation as one colour matrix
    per image it runs 3.8× as fast as per-image tf.image.random_saturation (an HSV round trip), 1.8×
    with crops, a cost the first epoch pays on the cores it needs for decoding (benchmarks/input.py).
    """
    count, size = tf.shape(images)[0], images.shape[1]
    # One op seed per random draw: draws that share an op seed repeat the same numbers, which in a
    # seeded run would tie each image's crop to its saturation.
    flip_seed, side_seed, corner_seed, factor_seed = [None] * 4 if seed is None else [seed + k for k in range(4)]
    # Image by image on uint8, so only the chosen half is reversed (a batched flip reverses every
    # image, then selects: 3× the cost).
    images = tf.map_fn(lambda image: tf.image.random_flip_left_right(image, seed=flip_seed), images)
    if random_crop:
        # Zoom in by up to 20% at a random place, resized back to the training size (bilinear).
        side = tf.random.uniform([count, 1], 0.8, 1.0, seed=side_seed)
        corner = tf.random.uniform([count, 2], 0.0, 1.0, seed=corner_seed) * (1.0 - side)
        boxes = tf.concat([corner, corner + side], axis=1)  # [y0, x0, y1, x1], fractions of the side
        images = tf.image.crop_and_resize(images, boxes, tf.range(count), [size, size])
    images = tf.cast(images, tf.float32)
    if not saturation:
        return images
    # Saturation × U(0, 2): each pixel moves away from its grey (ITU-R 601 luma) by that factor; 0 is
    # greyscale. As a matrix on RGB, factor·I + (1 − factor)·[luma weights in every row].
    factor = tf.random.uniform([count, 1, 1], 0.0, 2.0, seed=factor_seed)
    luma = tf.constant([[0.299, 0.587, 0.114]])
    colour = factor * tf.eye(3) + (1.0 - factor) * tf.ones([3, 1]) * luma  # [N, 3 out, 3 in]
    pixels = tf.matmul(tf.reshape(images, [count, -1, 3]), colour, transpose_b=True)
    return tf.clip_by_value(tf.reshape(pixels, tf.shape(images)), 0.0, 255.0)
