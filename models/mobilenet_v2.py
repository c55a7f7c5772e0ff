"""Transfer learning: frozen ImageNet MobileNetV2 features plus a new classifier head."""
import tensorflow as tf

from models.common import image_input, probabilities
from models.weights import load_application

layers = tf.keras.layers

# The head reads the frozen base at three depths, not only its last layer: mid-level features
# (textures, petal shapes) carry what the ImageNet-specific top drops. Compared with the base's
# features computed once, on a validation cut of the train split (3 seeds): these three beat the
# last layer alone, one more mid-level tap did no better, and batch norm over the pooled features
# (the three depths differ in scale) helped on every seed.
FEATURE_LAYERS = ("block_13_expand_relu", "block_16_expand_relu", "out_relu")
FEATURES_NAME = "mobilenet_v2_features"
# Fine-tuning's second phase trains the base from this layer on: blocks 13-16 and the last 1x1
# convolution, everything the three taps read past block 12.
FINE_TUNE_FROM = "block_13_expand"


def build(image_size: int, num_classes: int, weights: str | None = None) -> tf.keras.Model:
    base = load_application(
        "mobilenet_v2", tf.keras.applications.MobileNetV2, weights,
        include_top=False, input_shape=(image_size, image_size, 3))
    features = tf.keras.Model(base.input, [base.get_layer(name).output for name in FEATURE_LAYERS],
                              name=FEATURES_NAME)
    # Frozen: the head trains on the ImageNet features, which already separate flowers well
    # (fine-tuning, a second phase, unfreezes only the top blocks: unfreeze_top).
    features.trainable = False
    inputs = image_input(image_size)
    # MobileNetV2 was trained on pixels scaled to [-1, 1].
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs)
    # training=False keeps the base's batch norm in inference mode, on its ImageNet statistics, also
    # once unfreeze_top made its top blocks trainable: a few thousand photos in batches of 32 would
    # re-estimate them poorly.
    x = layers.Concatenate()([layers.GlobalAveragePooling2D()(tap) for tap in features(x, training=False)])
    x = layers.BatchNormalization()(x)
    # 0.5 scored the same as 0.2 on six validation cuts (benchmarks/fine_tune_cut.py --head-dropout).
    x = layers.Dropout(0.2)(x)
    x = layers.Dense(num_classes)(x)
    outputs = probabilities(x)
    return tf.keras.Model(inputs, outputs, name="mobilenet_v2")


def unfreeze_top(model: tf.keras.Model) -> None:
    """Fine-tuning's second phase: the base from FINE_TUNE_FROM on becomes trainable, the layers
    below it stay frozen, batch norm stays in inference mode (build). Compile the model afresh after."""
    features = model.get_layer(FEATURES_NAME)
    features.trainable = True
    names = [layer.name for layer in features.layers]
    for layer in features.layers[:names.index(FINE_TUNE_FROM)]:
        layer.trainable = False
