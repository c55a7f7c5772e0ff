"""Model registry: architecture name -> builder, plus per-model training defaults.

Every builder has the signature build(image_size, num_classes, weights) and returns an
uncompiled tf.keras.Model taking float32 pixels in 0..255 (input "image") and returning
float32 class probabilities (output layer "probabilities").
"""
from typing import Callable

import tensorflow as tf

from models import convnet, dense, mobilenet_v2, squeezenet, xception

Builder = Callable[[int, int, "str | None"], tf.keras.Model]

MODELS: dict[str, Builder] = {
    "convnet": convnet.build,
    "dense": dense.build,
    "mobilenet_v2": mobilenet_v2.build,
    "squeezenet": squeezenet.build,
    "xception": xception.build,
}
MODEL_NAMES = tuple(sorted(MODELS))
DEFAULT_MODEL = "convnet"

# Weights each model is meant to start from (None: trained from scratch).
DEFAULT_WEIGHTS: dict[str, str | None] = {
    "convnet": None,
    "dense": None,
    "mobilenet_v2": "imagenet",
    "squeezenet": None,
    "xception": "imagenet",
}

# Recommended hyperparameters (for Adam) when the user gives none. For xception,
# learning_rate is the peak of its lr_ramp (see models.schedules.ramp_callback); scale
# max_lr by the number of replicas when the global batch grows on TPU/multi-GPU.
TRAINING_DEFAULTS: dict[str, dict] = {
    "dense": {"learning_rate": 1e-4, "batch_size": 32, "epochs": 10},
    "convnet": {"learning_rate": 1e-3, "batch_size": 32, "epochs": 20},
    # From scratch, as the codelab: 35 epochs with a decaying LR; validation accuracy is noisy
    # epoch to epoch, so early stopping waits longer than for the others.
    "squeezenet": {
        "learning_rate": 3e-3, "batch_size": 32, "epochs": 35, "early_stopping_patience": 10,
        # Random crops too: without them it overfits (train 0.91-0.96, eval 0.74-0.78 at 192 px); with
        # them 0.826 in 35 epochs (README, Benchmarks).
        "random_crop": True,
        "lr_ramp": {"start_lr": 1e-3, "max_lr": 3e-3, "min_lr": 1e-4,
                    "ramp_epochs": 3, "sustain_epochs": 2, "decay": 0.9},
    },
    # Only the head trains, fast: a validation cut of the train split peaked between epochs 13 and 19
    # (README, Benchmarks); early stopping (patience 5) ends it sooner when eval accuracy stalls.
    # No saturation jitter: frozen ImageNet features keep colour, which tells dandelions from daisies;
    # greying and oversaturating cost the head 1.5 points on that validation cut.
    "mobilenet_v2": {"learning_rate": 1e-3, "batch_size": 32, "epochs": 20, "saturation": False},
    "xception": {
        "learning_rate": 2e-4, "batch_size": 16, "epochs": 12,
        # Gentle start so the random head's large gradients don't wreck pretrained features.
        "lr_ramp": {"start_lr": 1e-5, "max_lr": 2e-4, "min_lr": 1e-5,
                    "ramp_epochs": 4, "sustain_epochs": 0, "decay": 0.8},
    },
}


def build(name: str, image_size: int, num_classes: int,
          weights: str | None = None) -> tf.keras.Model:
    """Build model `name`; weights=None means random initialisation (see DEFAULT_WEIGHTS)."""
    try:
        builder = MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown model {name!r}; valid names: {', '.join(MODEL_NAMES)}") from None
    return builder(image_size, num_classes, weights)
