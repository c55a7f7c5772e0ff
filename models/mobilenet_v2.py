"""Transfer learning: frozen ImageNet MobileNetV2 features plus a new classifier head."""
import tensorflow as tf

from models.common import image_input, probabilities
from models.weights import load_application

layers = tf.keras.layers


def build(image_size: int, num_classes: int, weights: str | None = None) -> tf.keras.Model:
    base = load_application(
        "mobilenet_v2", tf.keras.applications.MobileNetV2, weights,
        include_top=False, input_shape=(image_size, image_size, 3))
    # Frozen: with ~3k flower photos only the head is trained; the ImageNet features
    # already separate flowers well and fine-tuning 2M weights would overfit.
    base.trainable = False
    inputs = image_input(image_size)
    # MobileNetV2 was trained on pixels scaled to [-1, 1].
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs)
    # training=False keeps BatchNorm on its ImageNet statistics even if the base is later
    # unfrozen for fine-tuning.
    x = base(x, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Dense(num_classes)(x)
    outputs = probabilities(x)
    return tf.keras.Model(inputs, outputs, name="mobilenet_v2")
