"""Strategy selection falls back cleanly on machines without accelerators."""
import logging
import time

import pytest
import tensorflow as tf

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


@pytest.mark.parametrize("kind,policy", [
    ("tpu", "mixed_bfloat16"), ("gpu", "mixed_float16"), ("cpu", "float32")])
def test_mixed_precision_policy(kind, policy):
    assert mixed_precision_policy(kind) == policy
    tf.keras.mixed_precision.Policy(policy)  # a name Keras accepts


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        mixed_precision_policy("abacus")
