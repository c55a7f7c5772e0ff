"""The input/output contract every model shares, and the conv block the scratch models use."""
import tensorflow as tf

layers = tf.keras.layers


def image_input(image_size: int) -> tf.Tensor:
    """float32 pixels in 0..255; each model scales them itself right after this."""
    return tf.keras.Input(shape=(image_size, image_size, 3), name="image")


def probabilities(logits: tf.Tensor) -> tf.Tensor:
    # float32 even under a mixed-precision policy: a float16 softmax loses small probabilities.
    return layers.Activation("softmax", dtype="float32", name="probabilities")(logits)


# BatchNorm momentum 0.9 (Keras default 0.99), as in the codelab: the moving statistics
# used at evaluation catch up within an epoch of a short run; with 0.99 they lag behind the
# weights for several epochs, and validation accuracy with them.
BN_MOMENTUM = 0.9


def conv_bn_relu(x, filters: int, kernel_size: int, strides: int = 1):
    # No bias: BatchNorm's beta makes it redundant.
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    return layers.ReLU()(x)
