"""Strategy selection falls back cleanly on machines without accelerators."""
import logging
import time

import numpy as np
import pytest
import tensorflow as tf

import models
from models.strategy import choose_strategy, mixed_precision_policy


def _expected_kind() -> str:
    return "gpu" if tf.config.list_logical_devices("GPU") else "cpu"


def test_default_choice_on_this_machine():
    strategy, kind = choose_strategy()
    assert kind == _expected_kind()
    if kind == "cpu":
        assert strategy is tf.distribute.get_strategy()


def test_unreachable_tpu_falls_back_quickly(caplog):
    caplog.set_level(logging.INFO)
    start = time.monotonic()
    strategy, kind = choose_strategy(tpu="grpc://127.0.0.1:1")
    assert time.monotonic() - start < 15
    assert kind == _expected_kind()
    assert "127.0.0.1:1" in caplog.text  # the reason is logged
    # TensorFlow must still be usable afterwards (a failed TPU connect can wedge it).
    with strategy.scope():
        assert float(tf.reduce_sum(tf.ones([3]))) == 3.0


@pytest.mark.parametrize("kind", ["tpu", "gpu", "cpu"])
def test_a_model_built_under_each_policy_outputs_float32_probabilities(kind):
    """Whatever the policy computes in, the head's softmax stays float32 (models.common.probabilities):
    a half-precision softmax loses small probabilities."""
    policy = tf.keras.mixed_precision.Policy(mixed_precision_policy(kind))
    tf.keras.mixed_precision.set_global_policy(policy)
    try:
        model = models.build("convnet", 32, 5)
        probabilities = model(tf.random.uniform([2, 32, 32, 3], 0, 255), training=False)
    finally:
        tf.keras.mixed_precision.set_global_policy("float32")
    assert {layer.compute_dtype for layer in model.layers if layer.name != "probabilities"} >= {policy.compute_dtype}
    assert probabilities.dtype == tf.float32
    np.testing.assert_allclose(probabilities.numpy().sum(axis=1), 1.0, rtol=1e-3)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        mixed_precision_policy("abacus")
