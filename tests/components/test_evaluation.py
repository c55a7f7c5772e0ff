"""The Evaluator's gate, judged by TFMA's own validator: the accuracy floor and the regression
allowance hold on the overall slice, and a weak class alone does not refuse a model."""
import pytest
from tensorflow_model_analysis.evaluators.metrics_validator import validate_metrics
from tensorflow_model_analysis.metrics.metric_types import MetricKey

from components.evaluation import ACCURACY, eval_config
from data import flowers

OVERALL = ()
DAISY = ((flowers.LABEL_KEY, b"daisy"),)


def blessed(slice_key, accuracy: float, change: float) -> bool:
    """TFMA's verdict on one slice: `accuracy` of the candidate, `change` against the baseline."""
    metrics = {MetricKey(ACCURACY): accuracy, MetricKey(ACCURACY, is_diff=True): change}
    return validate_metrics((slice_key, metrics), eval_config(min_accuracy=0.7, max_regression=0.03)).validation_ok


@pytest.mark.parametrize("accuracy, change, ok", [
    (0.71, 0.0, True),
    (0.69, 0.0, False),  # under the floor
    (0.90, -0.02, True),  # within the allowance
    (0.90, -0.04, False),  # a regression past it
])
def test_overall_slice_holds_the_floor_and_the_allowance(accuracy, change, ok):
    assert blessed(OVERALL, accuracy, change) is ok


def test_a_weak_class_is_reported_but_not_gated():
    assert blessed(DAISY, 0.2, -0.5)
