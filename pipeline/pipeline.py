"""`create_pipeline(config)`: the TFX DAG and nothing else. Runners add where it runs."""
from __future__ import annotations

import json
from typing import Optional

from google.protobuf import json_format
from tfx import v1 as tfx

from components import atomic_pusher
from components.anomalies_gate import AnomaliesGate
from components.baseline import Baseline
from components.drift_gate import DriftGate, DriftStatisticsGen
from components.evaluation import Evaluator, eval_config
from components.example_gen import ImportExampleGen
from components.record_check import RecordCheck
from components.schema import CuratedSchemaGen
from data import flowers
from pipeline.config import ACCEPT_DRIFT_PARAM, DATA_PARAM, EVAL_PARAM, TRAINER_PARAM, RunConfig

TRANSFORM_FN = "components.transform.preprocessing_fn"
TRAINER_FN = "components.trainer.run_fn"



def _param(enabled: bool, name: str, value, description: str, to_text=str, ptype=str):
    """`value` itself, or a RuntimeParameter whose default is `to_text(value)`."""
    if not enabled:
        return value
    return tfx.dsl.experimental.RuntimeParameter(name=name, ptype=ptype, default=to_text(value),
                                                 description=description)


def _text(path: str) -> str:
    with open(path) as f:
        return f.read()


def input_config(config: RunConfig) -> tfx.proto.Input:
    """Where ImportExampleGen finds the records under `data`: train/ and eval/ folders or one folder
    to hash-split, inside the newest span-N/ folder when the data arrives in spans (TFX's {SPAN})."""
    _, pattern = flowers.split_location(config.data)
    span = f"{flowers.span_pattern(config.span_width)}/" if config.span_folders else ""
    if config.split_folders:
        return tfx.proto.Input(splits=[tfx.proto.Input.Split(name=split, pattern=f"{span}{split}/{pattern}")
                                       for split in flowers.SPLITS])
    return tfx.proto.Input(splits=[tfx.proto.Input.Split(name="single_split", pattern=f"{span}{pattern}")])


def output_config(config: RunConfig) -> tfx.proto.Output:
    """The pipeline's three splits by hash buckets: of one folder, or given train/ and eval/ folders
    (then validation is cut from train/ by its share of train + validation; components.example_gen)."""
    buckets = {flowers.TRAIN_SPLIT: config.train_buckets, flowers.VALIDATION_SPLIT: config.validation_buckets,
               flowers.EVAL_SPLIT: config.eval_buckets}
    return tfx.proto.Output(split_config=tfx.proto.SplitConfig(splits=[
        tfx.proto.SplitConfig.Split(name=name, hash_buckets=count) for name, count in buckets.items()]))


def example_gen(config: RunConfig, data_base):
    """Records under `data_base` (the directory, or its run-time parameter) in three splits. Its
    executor resolves {SPAN} itself where no driver ran before it (Kubeflow Pipelines)."""
    return ImportExampleGen(input_base=data_base, input_config=input_config(config),
                            output_config=output_config(config))


def schema_gen(config: RunConfig, data_base, examples, statistics):
    """SchemaGen with --infer-schema; else the curated schema with the data's class names."""
    if config.infer_schema:
        return tfx.components.SchemaGen(statistics=statistics.outputs["statistics"], infer_feature_shape=True)
    return CuratedSchemaGen(examples=examples.outputs["examples"], schema_file=config.schema_file, data=data_base)


def span_window(config: RunConfig, examples) -> Optional[tfx.dsl.Resolver]:
    """With `spans` > 1, the newest N spans ImportExampleGen has ingested in this or earlier runs
    (TFX's SpanRangeStrategy, rolling range): Transform, Trainer and Evaluator read them all.
    None with one span: they read this run's ingest directly."""
    if config.spans <= 1:
        return None
    if not config.span_folders:
        raise ValueError(f"--spans {config.spans} needs data in span-N/ folders; {config.data} has none")
    window = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.SpanRangeStrategy,
        config={"range_config": tfx.proto.RangeConfig(rolling_range=tfx.proto.RollingRange(num_spans=config.spans))},
        # A plain Channel: ImportExampleGen's output of every run (examples.outputs: this run's only).
        examples=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Examples,
                                 producer_component_id=examples.id, output_key="examples"),
    ).with_id("span_window_resolver")
    window.add_upstream_node(examples)  # so the window includes the span ingested by this run
    return window


def create_pipeline(config: RunConfig, pipeline_root: str, beam_pipeline_args: list[str],
                    metadata_connection_config: Optional[object] = None,
                    runtime_parameters: bool = False) -> tfx.dsl.Pipeline:
    """The DAG. `runtime_parameters`: expose DATA_PARAM, TRAINER_PARAM, EVAL_PARAM and ACCEPT_DRIFT_PARAM, defaulting to
    the config's values, for a runner that compiles the pipeline for a server."""
    data_base = _param(runtime_parameters, DATA_PARAM, flowers.split_location(config.data)[0],
                       "directory of the TFRecords (the file pattern, span folders and train/eval layout are "
                       "fixed at compile time)")
    examples = example_gen(config, data_base)
    statistics = tfx.components.StatisticsGen(examples=examples.outputs["examples"])
    schema = schema_gen(config, data_base, examples, statistics)
    validator = tfx.components.ExampleValidator(statistics=statistics.outputs["statistics"],
                                                schema=schema.outputs["schema"])
    gate = AnomaliesGate(anomalies=validator.outputs["anomalies"])
    # A Beam component like the four of TFX: the run's Beam args reach it too. The schema names the classes.
    record_check = RecordCheck(examples=examples.outputs["examples"], schema=schema.outputs["schema"])
    # The last blessed model: the newest version under the serving root, found by a container step
    # (a resolver would not run on a Kubeflow Pipelines backend). Its copy carries the statistics of
    # the data it was trained on, which the new span is compared with.
    baseline = Baseline(serving_root=config.serving_root)
    drift_statistics = DriftStatisticsGen(examples=examples.outputs["examples"])
    drift_gate = DriftGate(drift_statistics=drift_statistics.outputs["drift_statistics"],
                           baseline_model=baseline.outputs["model"], drift_schema=_text(config.drift_schema_file),
                           accept_drift=_param(runtime_parameters, ACCEPT_DRIFT_PARAM, int(config.accept_drift),
                                               "1: let this run train on a span that drifted past a threshold",
                                               to_text=int, ptype=int))
    # The gates judge the newly ingested span (older ones passed them when they arrived); training
    # and evaluation read the window of spans when there is one.
    window = span_window(config, examples)
    window_examples = window.outputs["examples"] if window else examples.outputs["examples"]

    transform = tfx.components.Transform(
        examples=window_examples, schema=schema.outputs["schema"],
        preprocessing_fn=TRANSFORM_FN, custom_config={"image_size": config.train.image_size},
        # StatisticsGen already describes the data; Transform's own statistics would decode it twice.
        disable_statistics=True,
        # Only the graph: the Trainer runs it over the raw examples and caches the pixels, faster
        # than writing and re-reading gzipped pixels (benchmarks/pipeline.py, input.py).
        materialize=False)
    transform.add_upstream_node(gate)
    transform.add_upstream_node(record_check)
    transform.add_upstream_node(drift_gate)

    trainer = tfx.components.Trainer(
        run_fn=TRAINER_FN,
        examples=window_examples,
        transform_graph=transform.outputs["transform_graph"],
        schema=schema.outputs["schema"],
        # Early stopping and the restored best epoch watch validation, never the Evaluator's split.
        train_args=tfx.proto.TrainArgs(splits=[flowers.TRAIN_SPLIT]),
        eval_args=tfx.proto.EvalArgs(splits=[flowers.VALIDATION_SPLIT]),
        custom_config=_param(runtime_parameters, TRAINER_PARAM, config.trainer_config(pipeline_root),
                             "TrainConfig as JSON; image_size must stay as compiled (Transform's is fixed)",
                             to_text=lambda value: json.dumps(value, sort_keys=True)))

    evaluator = Evaluator(
        examples=window_examples, model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"], example_splits=[flowers.EVAL_SPLIT],
        eval_config=_param(runtime_parameters, EVAL_PARAM, eval_config(config.min_accuracy, config.max_regression),
                           "tfma.EvalConfig as JSON: the accuracy floor and the regression allowance",
                           to_text=lambda value: json_format.MessageToJson(value, indent=None)))

    pusher = atomic_pusher.Pusher(
        model=trainer.outputs["model"], model_blessing=evaluator.outputs["blessing"],
        drift_statistics=drift_statistics.outputs["drift_statistics"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=config.serving_root)))

    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=pipeline_root,
        components=[examples, *([window] if window else []), statistics, schema, validator, gate, record_check,
                    baseline, drift_statistics, drift_gate, transform, trainer, evaluator, pusher],
        enable_cache=True,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args,
    )
