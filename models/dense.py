"""Fully connected baseline: shows what a model without convolutions can (not) learn."""
import tensorflow as tf

from models.common import image_input, probabilities
from models.weights import check_no_weights

# 4x4 average pooling first: at 192 px the flattened input drops from 110,592 to 6,912
# values, so the first Dense layer holds ~3.5M weights instead of ~55M.
_DOWNSAMPLE = 4


def build(image_size: int, num_classes: int, weights: str | None = None) -> tf.keras.Model:
    check_no_weights("dense", weights)
    layers = tf.keras.layers
    inputs = image_input(image_size)
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.AveragePooling2D(pool_size=_DOWNSAMPLE, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(500, activation="relu")(x)
    x = layers.Dense(50, activation="relu")(x)
    x = layers.Dense(num_classes)(x)
    outputs = probabilities(x)
    return tf.keras.Model(inputs, outputs, name="dense")
