"""`create_pipeline(config)`: the TFX DAG and nothing else. Runners add where it runs."""
from __future__ import annotations

import json
from typing import Optional

from google.protobuf import json_format
# TFX's modules one by one, not `tfx.v1`: that one also loads its Google Cloud extensions and the
# Kubeflow runners (a quarter of its import time), which a local run never uses.
from tfx.components.example_validator.component import ExampleValidator
from tfx.components.schema_gen.component import SchemaGen
from tfx.components.statistics_gen.component import StatisticsGen
from tfx.components.trainer.component import Trainer
from tfx.components.transform.component import Transform
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.input_resolution.strategies.span_range_strategy import SpanRangeStrategy
from tfx.orchestration.data_types import RuntimeParameter
from tfx.orchestration.pipeline import Pipeline
from tfx.proto import example_gen_pb2, pusher_pb2, range_config_pb2, trainer_pb2
from tfx.types import standard_artifacts
from tfx.types.channel import Channel

from components import atomic_pusher
from components.anomalies_gate import AnomaliesGate
from components.baseline import Baseline
from components.drift_gate import DriftGate, DriftStatisticsGen
from components.evaluation import Evaluator, eval_config
from components.example_gen import ImportExampleGen
from components.record_check import RecordCheck
from components.schema import CuratedSchemaGen
from components.tflite_export import TFLiteExport
from data import flowers
from pipeline.config import ACCEPT_DRIFT_PARAM, DATA_PARAM, EVAL_PARAM, TRAINER_PARAM, RunConfig

TRANSFORM_FN = "components.transform.preprocessing_fn"
TRAINER_FN = "components.trainer.run_fn"



def _param(enabled: bool, name: str, value, description: str, to_text=str, ptype=str):
    """`value` itself, or a RuntimeParameter whose default is `to_text(value)`."""
    if not enabled:
        return value
    return RuntimeParameter(name=name, ptype=ptype, default=to_text(value), description=description)


def _text(path: str) -> str:
    with open(path) as f:
        return f.read()


def input_config(config: RunConfig) -> example_gen_pb2.Input:
    """Where ImportExampleGen finds the records under `data`: train/ and eval/ folders or one folder
    to hash-split, inside the newest span-N/ folder when the data arrives in spans (TFX's {SPAN})."""
    _, pattern = flowers.split_location(config.data)
    span = f"{flowers.span_pattern(config.span_width)}/" if config.span_folders else ""
    if config.split_folders:
        return example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name=split, pattern=f"{span}{split}/{pattern}")
                                            for split in flowers.SPLITS])
    return example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name="single_split", pattern=f"{span}{pattern}")])


def output_config(config: RunConfig) -> example_gen_pb2.Output:
    """The pipeline's three splits by hash buckets: of one folder, or given train/ and eval/ folders
    (then validation is cut from train/ by its share of train + validation; components.example_gen)."""
    buckets = {flowers.TRAIN_SPLIT: config.train_buckets, flowers.VALIDATION_SPLIT: config.validation_buckets,
               flowers.EVAL_SPLIT: config.eval_buckets}
    return example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(splits=[
        example_gen_pb2.SplitConfig.Split(name=name, hash_buckets=count) for name, count in buckets.items()]))


def example_gen(config: RunConfig, data_base):
    """Records under `data_base` (the directory, or its run-time parameter) in three splits. Its
    executor resolves {SPAN} itself where no driver ran before it (Kubeflow Pipelines)."""
    return ImportExampleGen(input_base=data_base, input_config=input_config(config),
                            output_config=output_config(config))


def schema_gen(config: RunConfig, data_base, examples, statistics):
    """SchemaGen with --infer-schema; else the curated schema with the data's class names."""
    if config.infer_schema:
        return SchemaGen(statistics=statistics.outputs["statistics"], infer_feature_shape=True)
    return CuratedSchemaGen(examples=examples.outputs["examples"], schema_file=config.schema_file, data=data_base)


def span_window(config: RunConfig, examples) -> Optional[Resolver]:
    """With `spans` > 1, the newest N spans ImportExampleGen has ingested in this or earlier runs
    (TFX's SpanRangeStrategy, rolling range): Transform, Trainer and Evaluator read them all.
    None with one span: they read this run's ingest directly."""
    if config.spans <= 1:
        return None
    if not config.span_folders:
        raise ValueError(f"--spans {config.spans} needs data in span-N/ folders; {config.data} has none")
    window = Resolver(
        strategy_class=SpanRangeStrategy,
        config={"range_config": range_config_pb2.RangeConfig(
            rolling_range=range_config_pb2.RollingRange(num_spans=config.spans))},
        # A plain Channel: ImportExampleGen's output of every run (examples.outputs: this run's only).
        examples=Channel(type=standard_artifacts.Examples, producer_component_id=examples.id, output_key="examples"),
    ).with_id("span_window_resolver")
    window.add_upstream_node(examples)  # so the window includes the span ingested by this run
    return window


def create_pipeline(config: RunConfig, pipeline_root: str, beam_pipeline_args: list[str],
                    metadata_connection_config: Optional[object] = None,
                    runtime_parameters: bool = False) -> Pipeline:
    """The DAG. `runtime_parameters`: expose DATA_PARAM, TRAINER_PARAM, EVAL_PARAM and
    ACCEPT_DRIFT_PARAM, defaulting to
    the config's values, for a runner that compiles the pipeline for a server."""
    data_base = _param(runtime_parameters, DATA_PARAM, flowers.split_location(config.data)[0],
                       "directory of the TFRecords (the file pattern, span folders and train/eval layout are "
                       "fixed at compile time)")
    examples = example_gen(config, data_base)
    statistics = StatisticsGen(examples=examples.outputs["examples"])
    schema = schema_gen(config, data_base, examples, statistics)
    validator = ExampleValidator(statistics=statistics.outputs["statistics"], schema=schema.outputs["schema"])
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

    transform = Transform(
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

    trainer = Trainer(
        run_fn=TRAINER_FN,
        examples=window_examples,
        transform_graph=transform.outputs["transform_graph"],
        schema=schema.outputs["schema"],
        # Early stopping and the restored best epoch watch validation, never the Evaluator's split.
        train_args=trainer_pb2.TrainArgs(splits=[flowers.TRAIN_SPLIT]),
        eval_args=trainer_pb2.EvalArgs(splits=[flowers.VALIDATION_SPLIT]),
        custom_config=_param(runtime_parameters, TRAINER_PARAM, config.trainer_config(pipeline_root),
                             "TrainConfig as JSON; image_size must stay as compiled (Transform's is fixed)",
                             to_text=lambda value: json.dumps(value, sort_keys=True)))

    evaluator = Evaluator(
        examples=window_examples, model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"], example_splits=[flowers.EVAL_SPLIT],
        eval_config=_param(runtime_parameters, EVAL_PARAM, eval_config(config.min_accuracy, config.max_regression),
                           "tfma.EvalConfig as JSON: the accuracy floor and the regression allowance",
                           to_text=lambda value: json_format.MessageToJson(value, indent=None)))

    # The on-device models, scored against the SavedModel on the Evaluator's split; the Pusher
    # ships the accepted ones beside it.
    tflite = TFLiteExport(model=trainer.outputs["model"], examples=window_examples,
                          transform_graph=transform.outputs["transform_graph"], schema=schema.outputs["schema"],
                          max_accuracy_drop=config.tflite_max_drop) if config.tflite else None

    pusher = atomic_pusher.Pusher(
        model=trainer.outputs["model"], model_blessing=evaluator.outputs["blessing"],
        tflite=tflite.outputs["tflite"] if tflite else None,
        drift_statistics=drift_statistics.outputs["drift_statistics"],
        push_destination=pusher_pb2.PushDestination(
            filesystem=pusher_pb2.PushDestination.Filesystem(base_directory=config.serving_root)))

    return Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=pipeline_root,
        components=[examples, *([window] if window else []), statistics, schema, validator, gate, record_check,
                    baseline, drift_statistics, drift_gate, transform, trainer, evaluator,
                    *([tflite] if tflite else []), pusher],
        enable_cache=True,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args,
    )
