"""Model registry: architecture name -> builder, and every model's training defaults in one table.

Every builder has the signature build(image_size, num_classes, weights) and returns an
uncompiled tf.keras.Model taking float32 pixels in 0..255 (input "image") and returning
float32 class probabilities (output layer "probabilities").

Importing this package is cheap (no TensorFlow): the CLI reads MODEL_NAMES for its flags, and a
builder's module is imported only when that model is built.
"""
from __future__ import annotations

import importlib

MODEL_NAMES = ("convnet", "dense", "mobilenet_v2", "squeezenet", "xception")
DEFAULT_MODEL = "convnet"

# What every model trains with unless its row below says otherwise (for Adam).
COMMON_DEFAULTS: dict = {
    "weights": None,  # None: trained from scratch
    "batch_size": 32,
    "early_stopping_patience": 5,
    "random_crop": False,
    "saturation": True,
    "lr_ramp": None,  # None: the fixed learning_rate
    "fine_tune": False,  # a second phase: see fine_tune_* in a model's row (models with an unfreeze_top)
}

# Per-model recommended settings over COMMON_DEFAULTS. With an lr_ramp, learning_rate is only the
# value a user's --learning-rate replaces (the ramp wins otherwise, models.schedules); scale max_lr
# by the number of replicas when the global batch grows on TPU/multi-GPU.
TRAINING_DEFAULTS: dict[str, dict] = {
    "dense": {"learning_rate": 1e-4, "epochs": 10},
    "convnet": {"learning_rate": 1e-3, "epochs": 20},
    # From scratch, as the source material: 35 epochs with a ramped, then decaying LR. Validation
    # accuracy is noisy epoch to epoch, so early stopping waits longer than for the others; random
    # crops keep it from overfitting the training photos.
    "squeezenet": {
        "learning_rate": 3e-3, "epochs": 35, "early_stopping_patience": 10, "random_crop": True,
        "lr_ramp": {"start_lr": 1e-3, "max_lr": 3e-3, "min_lr": 1e-4,
                    "ramp_epochs": 3, "sustain_epochs": 2, "decay": 0.9},
    },
    # Only the head trains on the frozen base. No saturation jitter: frozen ImageNet features keep
    # colour, which tells dandelions from daisies.
    "mobilenet_v2": {"weights": "imagenet", "learning_rate": 1e-3, "epochs": 20, "saturation": False,
                     "fine_tune_epochs": 10, "fine_tune_learning_rate": 3e-5},
    "xception": {
        "weights": "imagenet", "learning_rate": 2e-4, "batch_size": 16, "epochs": 12,
        # Gentle start so the random head's large gradients don't wreck pretrained features.
        "lr_ramp": {"start_lr": 1e-5, "max_lr": 2e-4, "min_lr": 1e-5,
                    "ramp_epochs": 4, "sustain_epochs": 0, "decay": 0.8},
    },
}


def training_defaults(name: str) -> dict:
    """Every training setting of model `name` (COMMON_DEFAULTS under its own row)."""
    _check_name(name)
    return {**COMMON_DEFAULTS, **TRAINING_DEFAULTS[name]}


def can_fine_tune(name: str) -> bool:
    """Whether model `name` has a second, fine-tuning phase (its module's unfreeze_top)."""
    _check_name(name)
    return "fine_tune_epochs" in TRAINING_DEFAULTS[name]


def build(name: str, image_size: int, num_classes: int, weights: str | None = None,
          augment: dict | None = None):
    """Build model `name` (a tf.keras.Model); weights=None means random initialisation.

    `augment`: models.augment.Augment's settings (random_crop, saturation, seed) to put the
    training-only augmentation in front of the architecture; None: no augmentation layer.
    """
    _check_name(name)
    model = importlib.import_module(f"models.{name}").build(image_size, num_classes, weights)
    if augment is None:
        return model
    from models.augment import augmented

    return augmented(model, **augment)


def check_fine_tune(name: str) -> None:
    """Raises, naming the models that can, unless model `name` has a fine-tuning phase."""
    if not can_fine_tune(name):
        fine_tunable = ", ".join(n for n in MODEL_NAMES if can_fine_tune(n))
        raise ValueError(f"{name} has no fine-tuning phase; --fine-tune applies to {fine_tunable}")


def unfreeze_top(name: str, model) -> None:
    """Phase two of fine-tuning model `name` (built by `build`): its module's unfreeze_top."""
    check_fine_tune(name)
    importlib.import_module(f"models.{name}").unfreeze_top(model)


def _check_name(name: str) -> None:
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(MODEL_NAMES)}")
