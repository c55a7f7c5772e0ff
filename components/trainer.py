"""Trainer module: `run_fn` builds the chosen model under the strategy found at run time, trains it
on the transformed examples and exports it with the serving signatures."""
from __future__ import annotations

import json
import logging
import os

import tensorflow as tf
import tensorflow_transform as tft
from tfx.utils import io_utils

import models
from components import input_cache, resume, signatures
from components.phases import phases, skip_autograph_of_tf_keras, train
from components.transform import TRANSFORMED_CLASS, TRANSFORMED_PIXELS
from data import flowers, records
from models.strategy import choose_strategy, mixed_precision_policy

AUTOTUNE = tf.data.AUTOTUNE
log = logging.getLogger(__name__)


def _record_files(patterns: list[str]) -> list[str]:
    files = sorted(f for pattern in patterns for f in tf.io.gfile.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no transformed examples match {patterns}")
    return files


class EmptySplitError(ValueError):
    """A split the Trainer reads holds no records."""


def require_records(patterns: list[str], split: str) -> None:
    """Stops with a clear error when a split is empty: Keras would train without validation (and
    without early stopping) on an empty validation split, only warning."""
    files = _record_files(patterns)
    dataset = tf.data.TFRecordDataset(files, compression_type=records.compression(files[0]))
    if not any(True for _ in dataset.take(1)):
        raise EmptySplitError(f"the {split} split has no records: too few to split (validation takes 1 record in "
                              "10 of one folder, or 1 in 8 of a train/ folder); add photos")


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
    # Before the map below is traced, since it calls Transform's Keras layer: in a fresh process
    # (every compiled step) AutoGraph would first convert all of tf_keras, about 7 s of
    # TFLiteExport's first read on 2 busy cores (2026-12-02).
    skip_autograph_of_tf_keras()
    files = _record_files(patterns)
    compression = records.compression(files[0])  # ExampleGen writes every file of a split alike
    # Only what preprocessing_fn reads: the other features are never decoded.
    spec = {key: raw_spec[key] for key in (flowers.IMAGE_KEY, flowers.CLASS_KEY)}

    def transformed(serialized):
        outputs = transform(tf.io.parse_example(serialized, spec))
        # Whole values 0..255: uint8 holds them exactly, in a quarter of the cache.
        return tf.cast(outputs[TRANSFORMED_PIXELS], tf.uint8), outputs[TRANSFORMED_CLASS]

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


def run_fn(fn_args) -> None:
    """TFX Trainer entry point. `fn_args.custom_config` is pipeline.config.TrainConfig as a dict, plus
    `backup_root` (where interrupted fits wait to be resumed; pipeline.config.RunConfig.trainer_config)."""
    config = dict(fn_args.custom_config or {})
    hp = resolve_hyperparameters(config)
    run_phases = phases(hp, config)
    if hp.get("seed") is not None:
        tf.keras.utils.set_random_seed(hp["seed"])

    strategy, kind = choose_strategy(hp.get("tpu"))
    tf.keras.mixed_precision.set_global_policy(mixed_precision_policy(kind))
    replicas = strategy.num_replicas_in_sync
    global_batch = hp["batch_size"] * replicas
    log.info("Training %s on %s (%d replicas), global batch %d, %s", hp["model"], kind, replicas, global_batch,
             ", then ".join(f"{p.name} {p.epochs} epochs" for p in run_phases))

    size = hp["image_size"]
    # The schema step's class list (the data's labels file, else the five flowers): the head's size
    # and the exported names.
    class_names = flowers.class_names(io_utils.SchemaReader().read(fn_args.schema_path))
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    layer, raw_spec = tf_transform_output.transform_features_layer(), tf_transform_output.raw_feature_spec()
    # The Trainer's eval files are the validation split (pipeline.pipeline), which early stopping and
    # the restored best epoch watch; the Evaluator's eval split stays unseen.
    require_records(fn_args.train_files, "train")
    require_records(fn_args.eval_files, "validation")
    caches = input_cache.choose(hp.get("cache", input_cache.AUTO),
                                {"train": fn_args.train_files, "validation": fn_args.eval_files}, size)
    train_ds = make_dataset(fn_args.train_files, global_batch, training=True, transform=layer, raw_spec=raw_spec,
                            cache=caches["train"], seed=hp.get("seed"), drop_remainder=kind == "tpu")
    validation_ds = make_dataset(fn_args.eval_files, global_batch, training=False, transform=layer,
                                 raw_spec=raw_spec, cache=caches["validation"], drop_remainder=kind == "tpu")

    with strategy.scope():
        model = models.build(hp["model"], size, len(class_names), weights=hp["weights"], augment=augmentation(hp))
    backups = resume.backup_dir(config.get("backup_root"), fn_args, model)
    history = train(model, hp, run_phases, train_ds, validation_ds, fn_args.model_run_dir, backups, strategy)

    tf.io.gfile.makedirs(fn_args.model_run_dir)
    with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir, "history.json"), "w") as f:
        json.dump(history, f)
    signatures.export(model, tf_transform_output, fn_args.serving_model_dir, class_names)
    resume.remove(backups)

