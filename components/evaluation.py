"""The Evaluator's judgement: an accuracy floor and no regression against the last blessed model
(the Baseline step's output; none before the first push)."""
from __future__ import annotations

import tensorflow_model_analysis as tfma
from google.protobuf.wrappers_pb2 import BoolValue
from tfx.components.evaluator import component as evaluator_component
from tfx.components.evaluator import executor as evaluator_executor
from tfx.dsl.components.base import executor_spec
from tfx.types import standard_component_specs

from components.baseline import has_model
from components.signatures import PROBABILITIES, SERVING_EXAMPLES
from data import flowers

ACCURACY = "sparse_categorical_accuracy"


def eval_config(min_accuracy: float, max_regression: float) -> tfma.EvalConfig:
    """Overall accuracy must reach `min_accuracy` and trail the baseline by at most `max_regression`.

    Slicing by `label` gives per-class accuracy (recall of each flower) beside the overall figure.
    The gate judges the overall slice only: with a few dozen eval photos per class, one more
    mistake moves a class's accuracy by several points, so per-class gates would refuse most
    good models at random.
    """
    accuracy_threshold = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": min_accuracy}),
        # Only applies when a baseline (the latest blessed model) exists.
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER, absolute={"value": -max_regression}),
    )
    overall_only = tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()], threshold=accuracy_threshold)
    return tfma.EvalConfig(
        # The Trainer saves a Keras model, which TFMA would otherwise learn by loading it once more
        # per model just to ask (14 s of a small run's Evaluator on 2 busy cores, 2026-12-02).
        model_specs=[tfma.ModelSpec(signature_name=SERVING_EXAMPLES, label_key=flowers.CLASS_KEY,
                                    prediction_key=PROBABILITIES, model_type=tfma.TF_KERAS)],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=[flowers.LABEL_KEY])],
        metrics_specs=[tfma.MetricsSpec(metrics=[
            tfma.MetricConfig(class_name="SparseCategoricalAccuracy", per_slice_thresholds=[overall_only]),
            tfma.MetricConfig(class_name="ExampleCount"),
            tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
        ])],
        # Only the metrics above. TFMA would add the model's compiled ones (accuracy, loss) by default,
        # loading the Keras model once per metrics combiner to compute them, for figures nothing
        # reads: a large part of a small run's Evaluator time.
        options=tfma.Options(include_default_metrics=BoolValue(value=False)),
    )


def accuracy_gate(config: tfma.EvalConfig) -> tfma.MetricThreshold:
    """The gate's threshold inside an EvalConfig made by `eval_config`, to read or change in place."""
    return config.metrics_specs[0].metrics[0].per_slice_thresholds[0].threshold


class Executor(evaluator_executor.Executor):
    """TFX's Evaluator, judging without a baseline when the Baseline step found no model."""

    def Do(self, input_dict, output_dict, exec_properties):
        baselines = input_dict.get(standard_component_specs.BASELINE_MODEL_KEY, [])
        input_dict = {**input_dict, standard_component_specs.BASELINE_MODEL_KEY: [m for m in baselines if has_model(m)]}
        super().Do(input_dict, output_dict, exec_properties)


class Evaluator(evaluator_component.Evaluator):
    """TFX's Evaluator whose `baseline_model` may be a Baseline output without a model."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
