"""Trainer module: `run_fn` builds the chosen model under the strategy found at run time, trains it
on the transformed examples and exports it with the serving signatures."""
from __future__ import annotations

import json
import logging
import os

import tensorflow as tf
import tensorflow_transform as tft

import models
from components import input_cache, signatures
from components.transform import LABEL_KEY, PIXELS_KEY
from data import flowers
from models.schedules import ramp_callback
from models.strategy import choose_strategy, mixed_precision_policy

AUTOTUNE = tf.data.AUTOTUNE
log = logging.getLogger(__name__)


class EpochLog(tf.keras.callbacks.Callback):
    """One log line per epoch, which `flowers run` shows as live progress."""

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        metrics = " ".join(f"{k}={v:.4f}" for k, v in sorted((logs or {}).items()))
        log.info("epoch %d/%d %s", epoch + 1, self.epochs, metrics)


def _record_files(patterns: list[str]) -> list[str]:
    files = sorted(f for pattern in patterns for f in tf.io.gfile.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no transformed examples match {patterns}")
    return files


def make_dataset(patterns: list[str], batch_size: int, training: bool, transform, raw_spec: dict,
                 cache: str = "memory", seed: int | None = None, drop_remainder: bool = False) -> tf.data.Dataset:
    """Raw examples → Transform's graph → batches of (uint8 pixels [N, size, size, 3], int64 class).

    `transform` maps a batch of raw features, parsed with `raw_spec`, to Transform's outputs: in
    run_fn the transform graph's layer and its raw feature spec (the graph that serving embeds).
    "Loading data fast": parallel interleaved reads, each JPEG decoded once and its pixels kept as
    `cache` says (components.input_cache: "memory", "disk" or "none"), then shuffle (train split),
    batch and prefetch. Nothing else runs here: the pixels stay uint8, a quarter of the bytes to
    move to an accelerator, and the model casts them and augments them in its training step
    (models.augment).
    """
    files = _record_files(patterns)
    compression = "GZIP" if files[0].endswith(".gz") else ""
    # Only what preprocessing_fn reads: the other features are never decoded.
    spec = {key: raw_spec[key] for key in (flowers.IMAGE_KEY, flowers.CLASS_KEY)}

    def transformed(serialized):
        outputs = transform(tf.io.parse_example(serialized, spec))
        # Whole values 0..255: uint8 holds them exactly, in a quarter of the cache.
        return tf.cast(outputs[PIXELS_KEY], tf.uint8), outputs[LABEL_KEY]

    ds = tf.data.Dataset.from_tensor_slices(files).interleave(
        lambda f: tf.data.TFRecordDataset(f, compression_type=compression),
        num_parallel_calls=AUTOTUNE, deterministic=seed is not None)
    # Transform in batches (one graph call each; 64 measured faster than 16 or one by one), then
    # cache single images.
    ds = ds.batch(64).map(transformed, num_parallel_calls=AUTOTUNE, deterministic=seed is not None).unbatch()
    ds = input_cache.cached(ds, cache)
    if training:
        ds = ds.shuffle(4096, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)


def augmentation(hp: dict) -> dict | None:
    """models.build's `augment` for these hyperparameters: the model's own switches, the run's seed."""
    if not hp["augment"]:
        return None
    return {"random_crop": hp["random_crop"], "saturation": hp["saturation"], "seed": hp.get("seed")}


def resolve_hyperparameters(config: dict) -> dict:
    """The run's config over the model's own defaults (a None in the config means 'default')."""
    resolved = models.training_defaults(config["model"])
    resolved.update({k: v for k, v in config.items() if v is not None})
    return resolved


def _callbacks(hp: dict, log_dir: str, lr_ramp: dict | None) -> list:
    callbacks = [
        EpochLog(hp["epochs"]),
        tf.keras.callbacks.TensorBoard(log_dir=log_dir, update_freq="epoch", profile_batch=0),
        tf.keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=hp["early_stopping_patience"],
                                         restore_best_weights=True, verbose=1),
    ]
    if lr_ramp:
        callbacks.append(ramp_callback(**lr_ramp))
    return callbacks


def _skip_autograph_of_tf_keras() -> None:
    """TensorFlow exempts `keras` from AutoGraph conversion but not its twin `tf_keras`, whose
    ~360 functions it then converts at the first fit: 13 s measured here, for nothing."""
    from tensorflow.python.autograph.core import config  # private, hence the guard below

    rule = config.DoNotConvert("tf_keras")
    if not any(str(r) == str(rule) for r in config.CONVERSION_RULES):
        config.CONVERSION_RULES = (rule, *config.CONVERSION_RULES)


def run_fn(fn_args) -> None:
    """TFX Trainer entry point. `fn_args.custom_config` is pipeline.config.TrainConfig as a dict."""
    config = dict(fn_args.custom_config or {})
    try:
        _skip_autograph_of_tf_keras()
    except (ImportError, AttributeError):  # a speed-up only; TensorFlow moved its internals
        pass
    hp = resolve_hyperparameters(config)
    # A model's LR ramp (xception) is its default schedule; an explicit --learning-rate replaces it.
    lr_ramp = hp.get("lr_ramp") if config.get("learning_rate") is None else None
    if hp.get("seed") is not None:
        tf.keras.utils.set_random_seed(hp["seed"])

    strategy, kind = choose_strategy(hp.get("tpu"))
    tf.keras.mixed_precision.set_global_policy(mixed_precision_policy(kind))
    replicas = strategy.num_replicas_in_sync
    global_batch = hp["batch_size"] * replicas
    log.info("Training %s on %s (%d replicas), global batch %d, %d epochs",
             hp["model"], kind, replicas, global_batch, hp["epochs"])

    size = hp["image_size"]
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    layer, raw_spec = tf_transform_output.transform_features_layer(), tf_transform_output.raw_feature_spec()
    caches = input_cache.choose(hp.get("cache", input_cache.AUTO),
                                {"train": fn_args.train_files, "eval": fn_args.eval_files}, size)
    train_ds = make_dataset(fn_args.train_files, global_batch, training=True, transform=layer, raw_spec=raw_spec,
                            cache=caches["train"], seed=hp.get("seed"), drop_remainder=kind == "tpu")
    eval_ds = make_dataset(fn_args.eval_files, global_batch, training=False, transform=layer, raw_spec=raw_spec,
                           cache=caches["eval"], drop_remainder=kind == "tpu")

    with strategy.scope():
        model = models.build(hp["model"], size, len(hp["class_names"]), weights=hp["weights"],
                             augment=augmentation(hp))
        model.compile(optimizer=tf.keras.optimizers.Adam(hp["learning_rate"]),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train_ds, validation_data=eval_ds, epochs=hp["epochs"],
                        callbacks=_callbacks(hp, fn_args.model_run_dir, lr_ramp), verbose=0)

    tf.io.gfile.makedirs(fn_args.model_run_dir)
    with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir, "history.json"), "w") as f:
        json.dump({k: [float(x) for x in v] for k, v in history.history.items()}, f)
    signatures.export(model, tf_transform_output, fn_args.serving_model_dir, list(hp["class_names"]))
