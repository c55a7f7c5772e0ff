"""Small custom convnet: the default model, sized to train quickly on a couple of CPU cores."""
import tensorflow as tf

from models.weights import check_no_weights

layers = tf.keras.layers


def _conv_bn_relu(x, filters: int, kernel_size: int, strides: int = 1):
    # No bias: BatchNorm's beta makes it redundant.
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def build(image_size: int, num_classes: int, weights: str | None = None) -> tf.keras.Model:
    check_no_weights("convnet", weights)
    inputs = tf.keras.Input(shape=(image_size, image_size, 3), name="image")
    x = layers.Rescaling(1.0 / 255)(inputs)
    # Strided stem + pooling cut the resolution 4x before the wider layers: most of the
    # CPU cost of a convnet is in its full-resolution layers.
    x = _conv_bn_relu(x, 24, 3, strides=2)
    x = layers.MaxPooling2D()(x)
    x = _conv_bn_relu(x, 32, 3)
    x = layers.MaxPooling2D()(x)
    x = _conv_bn_relu(x, 64, 3)
    x = _conv_bn_relu(x, 32, 1)  # 1x1 bottleneck keeps the next 3x3 conv cheap
    x = _conv_bn_relu(x, 96, 3)
    x = layers.MaxPooling2D()(x)
    x = _conv_bn_relu(x, 64, 1)
    x = _conv_bn_relu(x, 160, 3)
    # Global average pooling instead of Flatten: the head stays tiny and size-agnostic.
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Dense(num_classes)(x)
    outputs = layers.Activation("softmax", dtype="float32", name="probabilities")(x)
    return tf.keras.Model(inputs, outputs, name="convnet")
