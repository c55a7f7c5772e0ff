"""Small custom convnet: the default model, sized to train quickly on a couple of CPU cores."""
import tensorflow as tf

from models.common import conv_bn_relu, image_input, probabilities
from models.weights import check_no_weights

layers = tf.keras.layers


def build(image_size: int, num_classes: int, weights: str | None = None) -> tf.keras.Model:
    check_no_weights("convnet", weights)
    inputs = image_input(image_size)
    x = layers.Rescaling(1.0 / 255)(inputs)
    # A 4x4/stride-4 "patchify" stem then pooling cut the resolution 8x before any wider
    # layer: on CPU, full-resolution layers cost more than all the rest together.
    x = conv_bn_relu(x, 24, 4, strides=4)
    x = layers.MaxPooling2D()(x)
    x = conv_bn_relu(x, 48, 3)
    x = conv_bn_relu(x, 64, 3)
    x = layers.MaxPooling2D()(x)
    x = conv_bn_relu(x, 128, 3)
    x = conv_bn_relu(x, 64, 1)  # 1x1 bottleneck keeps the last 3x3 conv cheap
    x = conv_bn_relu(x, 128, 3)
    # Global average pooling instead of Flatten: the head stays tiny and size-agnostic.
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Dense(num_classes)(x)
    outputs = probabilities(x)
    return tf.keras.Model(inputs, outputs, name="convnet")
