"""SqueezeNet-style model in the spirit of the Keras-on-TPU flowers codelab."""
import tensorflow as tf

from models.weights import check_no_weights

layers = tf.keras.layers
_BN_MOMENTUM = 0.9  # faster-moving BN statistics suit the short training runs used here


def _conv_bn(x, filters: int, kernel_size: int):
    x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=_BN_MOMENTUM)(x)
    return layers.ReLU()(x)


def fire_module(x, squeeze: int, expand: int):
    """Fire module: a cheap 1x1 squeeze, then 1x1 and 3x3 expands side by side.

    `expand` is the total output channel count, split evenly between the two branches;
    the squeeze makes the 3x3 convolution see few input channels, which is where
    SqueezeNet saves its parameters.
    """
    s = _conv_bn(x, squeeze, 1)
    e1 = _conv_bn(s, expand // 2, 1)
    e3 = _conv_bn(s, expand // 2, 3)
    return layers.Concatenate()([e1, e3])


def build(image_size: int, num_classes: int, weights: str | None = None) -> tf.keras.Model:
    check_no_weights("squeezenet", weights)
    inputs = tf.keras.Input(shape=(image_size, image_size, 3), name="image")
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = _conv_bn(x, 32, 3)
    # (squeeze, expand) per fire module; a max-pooling halves the resolution between groups.
    groups = [[(24, 48)], [(48, 96)], [(64, 128), (64, 128)], [(48, 96), (48, 96)], [(24, 48)]]
    for i, group in enumerate(groups):
        if i:
            x = layers.MaxPooling2D()(x)
        for squeeze, expand in group:
            x = fire_module(x, squeeze, expand)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(num_classes)(x)
    outputs = layers.Activation("softmax", dtype="float32", name="probabilities")(x)
    return tf.keras.Model(inputs, outputs, name="squeezenet")
