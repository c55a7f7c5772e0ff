"""Training-only augmentation as the model's first layer: random flip, saturation and zoom crop.

`models.build(..., augment=...)` puts `Augment` between every architecture's input and its first
layer, so the augmentation runs where the model runs (on a GPU or TPU: the host only reads, decodes
once and batches) and only while training: Keras calls it with training=False in evaluate, predict
and the exported serving functions, where it returns its input untouched, so a model serves the
same probabilities as the same weights without it.

Every op compiles with XLA (TPU, jit_compile): the crop is two gathers and linear blends instead of
tf.image.crop_and_resize, which XLA lacks. The random values come from the layer's own
tf.random.Generator: XLA ignores the seeds of tf.random.uniform, a generator's stream it keeps, so a
seeded run repeats exactly on any device. Built under a distribution strategy's scope (as run_fn
builds the model), each replica draws values of its own.
"""
from __future__ import annotations

import tensorflow as tf

# ITU-R 601 luma weights: the grey a pixel becomes at saturation 0.
LUMA = (0.299, 0.587, 0.114)
MAX_SATURATION = 2.0  # the factor is drawn from U(0, 2), as tf.image.random_saturation(image, 0, 2)
MIN_CROP_SIDE = 0.8  # a random crop keeps at least 80% of each side (a zoom of up to 1.25×)


@tf.keras.utils.register_keras_serializable(package="flowers")
class Augment(tf.keras.layers.Layer):
    """float32 pixels 0..255 [N, size, size, 3] → the same shape; in training each image is flipped
    left-right with probability 1/2, optionally zoom-cropped, optionally has its saturation scaled."""

    def __init__(self, random_crop: bool = False, saturation: bool = True, seed: int | None = None, **kwargs):
        kwargs.setdefault("dtype", "float32")  # pixel values: float16 would round them to 1/8 near 255
        super().__init__(**kwargs)
        self.random_crop, self.saturation, self.seed = random_crop, saturation, seed
        self.generator = (tf.random.Generator.from_non_deterministic_state() if seed is None
                          else tf.random.Generator.from_seed(seed))

    def call(self, images, training=None):
        if not training:
            return images
        count = tf.shape(images)[0]
        images = flip_left_right(images, self.generator.uniform([count]) < 0.5)
        if self.random_crop:
            side = self.generator.uniform([count], MIN_CROP_SIDE, 1.0)
            corner = self.generator.uniform([count, 2]) * (1.0 - side)[:, None]
            images = zoom_crop(images, side, corner)
        if self.saturation:
            images = scale_saturation(images, self.generator.uniform([count], 0.0, MAX_SATURATION))
        return images

    def get_config(self) -> dict:
        return {**super().get_config(), "random_crop": self.random_crop, "saturation": self.saturation,
                "seed": self.seed}


def flip_left_right(images: tf.Tensor, flip: tf.Tensor) -> tf.Tensor:
    """Image i mirrored left-right where `flip[i]`. Image by image, so only the chosen ones are
    reversed: on 2 CPU cores a third of the time of reversing the whole batch and selecting with
    tf.where (batch 32, 192 px)."""
    def one(image_and_flip):
        image, flip_it = image_and_flip
        return tf.cond(flip_it, lambda: tf.reverse(image, axis=[1]), lambda: image)

    return tf.map_fn(one, (images, flip), fn_output_signature=images.dtype)


def zoom_crop(images: tf.Tensor, side: tf.Tensor, corner: tf.Tensor) -> tf.Tensor:
    """Per image, the square at `corner` (top-left [N, 2], fractions of the side) of `side` [N]
    (fraction of the side), resized bilinearly back to the full size: what tf.image.crop_and_resize
    gives for the box [y, x, y + side, x + side], in ops that XLA compiles."""
    size = images.shape[1]
    steps = tf.linspace(0.0, 1.0, size)

    def resample(images, start, axis):
        position = (start[:, None] + side[:, None] * steps) * (size - 1)  # [N, size], in pixels
        below = tf.floor(position)
        weight = position - below
        below = tf.cast(below, tf.int32)
        above = tf.minimum(below + 1, size - 1)
        low = tf.gather(images, below, axis=axis, batch_dims=1)
        high = tf.gather(images, above, axis=axis, batch_dims=1)
        shape = [-1, size, 1, 1] if axis == 1 else [-1, 1, size, 1]
        return low + (high - low) * tf.reshape(weight, shape)

    return resample(resample(images, corner[:, 0], axis=1), corner[:, 1], axis=2)


def scale_saturation(images: tf.Tensor, factor: tf.Tensor) -> tf.Tensor:
    """Every pixel of image i moved away from its grey (luma) by `factor[i]`: 0 is greyscale, 1 the
    image itself; clipped to 0..255. One 3×3 colour matrix per image, factor·I + (1 − factor)·[luma
    weights in every row]: on CPU faster than the same sum written out per pixel."""
    factor = factor[:, None, None]
    colour = factor * tf.eye(3) + (1.0 - factor) * tf.ones([3, 1]) * tf.constant([LUMA])  # [N, out, in]
    shape = tf.shape(images)
    pixels = tf.matmul(tf.reshape(images, [shape[0], -1, 3]), colour, transpose_b=True)
    return tf.clip_by_value(tf.reshape(pixels, shape), 0.0, 255.0)


def augmented(model: tf.keras.Model, random_crop: bool = False, saturation: bool = True,
              seed: int | None = None) -> tf.keras.Model:
    """`model` with `Augment` between its input and its first layer, in one flat graph of the same
    layer objects: the weights are the model's own, and model.get_layer finds every layer as before."""
    inputs = tf.keras.Input(shape=model.input_shape[1:], dtype=model.inputs[0].dtype, name=model.input_names[0])
    pixels = Augment(random_crop, saturation, seed, name="augment")(inputs)
    # A functional model's `call` on a symbolic tensor replays its graph with the same layers;
    # calling the model itself would nest it as one layer.
    return tf.keras.Model(inputs, model.call(pixels), name=model.name)
