"""The Trainer's phases and backups, function by function: fine-tuning trains the top blocks only,
a phase never ends worse than the one before, and an interrupted fit resumes at its next epoch."""
import logging

import numpy as np
import pytest
import tensorflow as tf

import models
from components import phases, resume
from models import mobilenet_v2

HP = {"model": "mobilenet_v2", "early_stopping_patience": 5}


def tiny_model() -> tf.keras.Model:
    return tf.keras.Sequential([tf.keras.Input(shape=(4,)), tf.keras.layers.Dense(3, activation="softmax")])


def tiny_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """64 points whose class a linear map decides: learnable, not at once."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, 4)).astype("float32")
    return x, (x @ rng.normal(size=(4, 3))).argmax(axis=1)


def batches(x, y) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(16)


def compiled(model: tf.keras.Model) -> tf.keras.Model:
    model.compile(tf.keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def weights_equal(a: list, b: list) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_fine_tuning_trains_the_top_blocks_and_leaves_the_rest_of_the_base(shared_weights, tmp_path):
    model = models.build("mobilenet_v2", 64, 3, str(shared_weights))
    features = model.get_layer(mobilenet_v2.FEATURES_NAME)
    before = {w.name: w.numpy() for w in features.weights}
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (8, 64, 64, 3)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((images, rng.integers(0, 3, 8))).batch(4)

    history = phases.train(model, HP, [phases.Phase("fine-tuning", 1, 1e-3)], data, data, str(tmp_path))

    assert history["phase"] == ["fine-tuning"]
    names = [layer.name for layer in features.layers]
    first = names.index(mobilenet_v2.FINE_TUNE_FROM)
    assert first > 100  # the top blocks only: MobileNetV2 has 154 layers
    top_changed = []
    for index, layer in enumerate(features.layers):
        for weight in layer.weights:
            changed = not np.array_equal(before[weight.name], weight.numpy())
            if "moving_" in weight.name or index < first:
                # Lower blocks frozen; batch norm's statistics stay ImageNet's (inference mode) everywhere.
                assert not changed, weight.name
            else:
                top_changed.append(changed)
    assert top_changed and all(top_changed)


def test_a_phase_that_never_beats_the_earlier_best_ends_with_the_weights_it_started_with(tmp_path):
    x, y = tiny_data()
    model = compiled(tiny_model())
    start = model.get_weights()
    history = phases.fit_phase(model, phases.Phase("fine-tuning", 3, 0.05), batches(x, y), batches(x, y),
                                HP, str(tmp_path), None, first_epoch=4, earlier_best=1.01)
    assert len(history["loss"]) == 3
    assert weights_equal(model.get_weights(), start)


class _FailsAtEpoch:
    """Batches that raise when epoch `fail_at` (1-based) starts: a run cut short between epochs."""

    def __init__(self, x, y, fail_at: int):
        self.x, self.y, self.fail_at, self.epochs = x, y, fail_at, 0

    def __call__(self):
        self.epochs += 1
        if self.epochs == self.fail_at:
            raise RuntimeError("interrupted")
        yield from ((self.x[i:i + 16], self.y[i:i + 16]) for i in range(0, len(self.x), 16))

    def dataset(self) -> tf.data.Dataset:
        return tf.data.Dataset.from_generator(self, output_signature=(
            tf.TensorSpec([None, 4], tf.float32), tf.TensorSpec([None], tf.int64))).apply(
            tf.data.experimental.assert_cardinality(len(self.x) // 16))  # as a cached dataset knows it


def test_an_interrupted_fit_resumes_at_its_next_epoch_and_ends_as_one_fit(tmp_path, caplog):
    x, y = tiny_data()
    phase, directory = phases.Phase("training", 4, 0.05), str(tmp_path / "backup")
    first = compiled(tiny_model())
    with pytest.raises(Exception, match="interrupted"):
        phases.fit_phase(first, phase, _FailsAtEpoch(x, y, fail_at=3).dataset(), batches(x, y), HP,
                          str(tmp_path / "run1"), directory)
    probe = compiled(tiny_model())
    resume.FitBackup(directory, tf.keras.callbacks.EarlyStopping()).restore(probe)
    assert weights_equal(probe.get_weights(), first.get_weights())  # as epoch 2 left them

    second = compiled(tiny_model())  # a new process: fresh weights, restored from the backup
    with caplog.at_level(logging.INFO, logger=phases.__name__):
        history = phases.fit_phase(second, phase, batches(x, y), batches(x, y), HP, str(tmp_path / "run2"),
                                    directory)
    assert "Resuming training at epoch 3/4 from its backup after epoch 2" in caplog.text
    assert [r.getMessage().split()[1] for r in caplog.records if r.getMessage().startswith("epoch ")] == ["3/4", "4/4"]
    assert len(history["loss"]) == len(history["val_accuracy"]) == 4
    # The optimizer went on from its backed-up state: 4 epochs of 4 steps in all.
    assert int(second.optimizer.iterations.numpy()) == 16

    # A finished fit is not fitted again: its backup holds the final model until the Trainer removes it.
    final = second.get_weights()
    third = compiled(tiny_model())
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=phases.__name__):
        again = phases.fit_phase(third, phase, batches(x, y), batches(x, y), HP, str(tmp_path / "run3"), directory)
    assert "Training finished before an interruption" in caplog.text
    assert again == history and weights_equal(third.get_weights(), final)
    resume.remove(directory)
    assert not tf.io.gfile.exists(directory)


def test_the_backup_folder_is_keyed_by_the_trainer_inputs():
    from tfx import v1 as tfx

    def fn_args(**changes):
        values = dict(train_files=["/p/Examples/1/Split-train/*"], eval_files=["/p/Examples/1/Split-eval/*"],
                      transform_graph_path="/p/Transform/2", custom_config={"model": "dense", "epochs": 3})
        return tfx.components.FnArgs(**{**values, **changes})

    model = tiny_model()
    key = resume.backup_dir("/root/backups", fn_args(), model)
    assert key.startswith("/root/backups/") and key == resume.backup_dir("/root/backups/", fn_args(), model)
    assert resume.backup_dir(None, fn_args(), model) is None
    others = [fn_args(train_files=["/p/Examples/9/Split-train/*"]), fn_args(transform_graph_path="/p/Transform/9"),
              fn_args(custom_config={"model": "dense", "epochs": 4})]
    assert len({key, *(resume.backup_dir("/root/backups", args, model) for args in others)}) == 4
    wider = tf.keras.Sequential([tf.keras.Input(shape=(4,)), tf.keras.layers.Dense(5)])
    assert resume.backup_dir("/root/backups", fn_args(), wider) != key
