"""Learning-rate ramp: values per epoch and that Keras actually applies them."""
import numpy as np
import pytest
import tensorflow as tf

import models
from models.schedules import lr_at, ramp_callback

RAMP = dict(start_lr=1e-5, max_lr=1e-4, min_lr=1e-6, ramp_epochs=4, sustain_epochs=2, decay=0.5)


@pytest.mark.parametrize("epoch,expected", [
    (0, 1e-5),                      # ramp start
    (2, 1e-5 + 0.5 * (1e-4 - 1e-5)),  # half way up
    (4, 1e-4),                      # ramp end
    (5, 1e-4),                      # sustain
    (6, 1e-4),                      # decay starts at max
    (8, (1e-4 - 1e-6) * 0.25 + 1e-6),
    (100, 1e-6),                    # settles at min_lr
])
def test_lr_at(epoch, expected):
    assert lr_at(epoch, **RAMP) == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_no_ramp_starts_at_max():
    assert lr_at(0, 1e-5, 1e-3, 0.0, 0, 0, 0.9) == pytest.approx(1e-3)


def test_callback_sets_optimizer_lr():
    model = tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(1)])
    # Eager: the callback is under test, not tracing (tf_keras' first trace costs ~13 s here).
    model.compile(tf.keras.optimizers.Adam(0.5), "mse", run_eagerly=True)
    callback = ramp_callback(**RAMP)
    assert callback.verbose == 1  # LR is logged every epoch
    history = model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=7, verbose=0,
                        callbacks=[callback])
    expected = [lr_at(e, **RAMP) for e in range(7)]
    np.testing.assert_allclose(history.history["lr"], expected, rtol=1e-5)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(expected[-1], rel=1e-5)


def test_training_defaults_shape():
    for name in models.MODEL_NAMES:
        assert {"learning_rate", "batch_size", "epochs"} <= set(models.training_defaults(name)), name
    ramp = models.training_defaults("xception")["lr_ramp"]
    assert isinstance(ramp_callback(**ramp), tf.keras.callbacks.LearningRateScheduler)
    assert 1e-4 <= ramp["max_lr"] <= 5e-4 and 3 <= ramp["ramp_epochs"] <= 5
