"""The exported model's signatures. Loading it needs TensorFlow only, no project code.

- serving_default: raw encoded images (tf.string [N], TF Serving's {"b64": ...}) →
  probabilities [N, C], label [N] (top class name), class_names [N, C].
- serving_examples: serialized tf.Example in the flowers layout → the same (for the Evaluator).
- serving_pixels: decoded float32 pixels 0..255 [N, size, size, 3] → probabilities [N, C]: the model
  without the Transform graph, the function the TensorFlow Lite models are converted from
  (components/tflite.py).

Importing this module is cheap (no TensorFlow): `flowers predict` and `flowers report` call the
model by these names.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tensorflow as tf
    import tensorflow_transform as tft

SERVING_IMAGES = "serving_default"
SERVING_EXAMPLES = "serving_examples"
IMAGE_BYTES = "image_bytes"  # SERVING_IMAGES' input
EXAMPLES = "examples"  # SERVING_EXAMPLES' input
# Outputs of both signatures.
PROBABILITIES = "probabilities"
LABEL = "label"
CLASS_NAMES = "class_names"
SERVING_PIXELS = "serving_pixels"


def export(model: tf.keras.Model, tf_transform_output: tft.TFTransformOutput, export_dir: str,
           class_names: list[str]) -> None:
    """Writes `model`, with the Transform graph in front of it, as a SavedModel."""
    import tensorflow as tf

    from components.transform import TRANSFORMED_PIXELS
    from data import flowers

    model.tft_layer = tf_transform_output.transform_features_layer()  # tracked so it is saved
    names = tf.constant(class_names)

    def predict(raw_features: dict) -> dict:
        pixels = model.tft_layer(raw_features)[TRANSFORMED_PIXELS]
        probabilities = tf.cast(model(pixels, training=False), tf.float32)
        batch = tf.shape(probabilities)[0]
        return {
            PROBABILITIES: probabilities,
            LABEL: tf.gather(names, tf.argmax(probabilities, axis=-1)),
            CLASS_NAMES: tf.tile(names[tf.newaxis, :], [batch, 1]),
        }

    # No AutoGraph: nothing here branches on tensors, and converting the Transform layer's code
    # took about half of the export's time.
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=IMAGE_BYTES)], autograph=False)
    def serve_images(image_bytes):
        return predict({flowers.IMAGE_KEY: tf.reshape(image_bytes, [-1, 1])})

    raw_spec = {flowers.IMAGE_KEY: tf_transform_output.raw_feature_spec()[flowers.IMAGE_KEY]}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES)], autograph=False)
    def serve_examples(examples):
        return predict(tf.io.parse_example(examples, raw_spec))

    size = model.input_shape[1]

    @tf.function(input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32, name="pixels")],
                 autograph=False)
    def serve_pixels(pixels):
        return {PROBABILITIES: tf.cast(model(pixels, training=False), tf.float32)}

    signatures = {
        SERVING_IMAGES: serve_images.get_concrete_function(),
        SERVING_EXAMPLES: serve_examples.get_concrete_function(),
        SERVING_PIXELS: serve_pixels.get_concrete_function(),
    }
    model.save(export_dir, save_format="tf", signatures=signatures)
