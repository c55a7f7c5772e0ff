"""SqueezeNet-style model in the spirit of the Keras-on-TPU flowers codelab."""
import tensorflow as tf

from models.common import conv_bn_relu, image_input, probabilities
from models.weights import check_no_weights

layers = tf.keras.layers


def fire_module(x, squeeze: int, expand: int):
    """Fire module: a cheap 1x1 squeeze, then 1x1 and 3x3 expands side by side.

    `expand` is the total output channel count, split evenly between the two branches;
    the squeeze makes the 3x3 convolution see few input channels, which is where
    SqueezeNet saves its parameters. Every convolution is followed by BatchNorm
    (momentum 0.9, see models.common).
    """
    s = conv_bn_relu(x, squeeze, 1)
    e1 = conv_bn_relu(s, expand // 2, 1)
    e3 = conv_bn_relu(s, expand // 2, 3)
    return layers.Concatenate()([e1, e3])


def build(image_size: int, num_classes: int, weights: str | None = None) -> tf.keras.Model:
    check_no_weights("squeezenet", weights)
    inputs = image_input(image_size)
    x = layers.Rescaling(1.0 / 255)(inputs)
    # Strided stem + pooling as in the SqueezeNet paper (the codelab, built for TPUs, ran
    # its first fire module at full resolution, far too slow to train on CPU).
    x = conv_bn_relu(x, 32, 3, strides=2)
    x = layers.MaxPooling2D()(x)
    # (squeeze, expand) per fire module; a max-pooling halves the resolution between groups.
    groups = [[(24, 48)], [(48, 96)], [(64, 128), (64, 128)], [(48, 96), (48, 96)], [(24, 48)]]
    for i, group in enumerate(groups):
        if i:
            x = layers.MaxPooling2D(padding="same")(x)  # "same": small inputs never hit 0 px
        for squeeze, expand in group:
            x = fire_module(x, squeeze, expand)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(num_classes)(x)
    outputs = probabilities(x)
    return tf.keras.Model(inputs, outputs, name="squeezenet")
