"""The Evaluator's gate: the accuracy floor and the regression allowance judge the overall slice only."""
import tensorflow_model_analysis as tfma

from components.evaluation import accuracy_gate, eval_config


def test_gate_holds_the_floor_and_the_allowance():
    gate = accuracy_gate(eval_config(0.7, 0.03))
    assert gate.value_threshold.lower_bound.value == 0.7
    assert gate.change_threshold.absolute.value == -0.03
    assert gate.change_threshold.direction == tfma.MetricDirection.HIGHER_IS_BETTER


def test_per_class_slices_are_reported_but_not_gated():
    config = eval_config(0.7, 0.03)
    assert tfma.SlicingSpec(feature_keys=["label"]) in config.slicing_specs  # per-class accuracy is computed
    accuracy = config.metrics_specs[0].metrics[0]
    assert not accuracy.HasField("threshold")  # a plain threshold would apply to every slice
    [per_slice] = accuracy.per_slice_thresholds
    assert list(per_slice.slicing_specs) == [tfma.SlicingSpec()]  # the overall slice alone
