"""Fine-tuning: the whole ImageNet Xception network is trained on flowers (heavy; for TPU/GPU)."""
import tensorflow as tf

from models.common import image_input, probabilities
from models.weights import load_application

layers = tf.keras.layers
MIN_IMAGE_SIZE = 71  # Xception's stride-32 stem needs at least this many pixels per side


def build(image_size: int, num_classes: int, weights: str | None = None) -> tf.keras.Model:
    if image_size < MIN_IMAGE_SIZE:
        raise ValueError(
            f"xception needs image_size >= {MIN_IMAGE_SIZE}, got {image_size}")
    base = load_application(
        "xception", tf.keras.applications.Xception, weights,
        include_top=False, input_shape=(image_size, image_size, 3))
    # Every layer trainable, as in the codelab: paired with the LR ramp-up (schedules.py),
    # fine-tuning the full network beats a frozen base when the accelerator can afford it.
    base.trainable = True
    inputs = image_input(image_size)
    # Xception was trained on pixels scaled to [-1, 1].
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs)
    x = base(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(num_classes)(x)
    outputs = probabilities(x)
    return tf.keras.Model(inputs, outputs, name="xception")
