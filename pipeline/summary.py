"""What a finished run did, read back from MLMD (the record TFX keeps), not from side files."""
from __future__ import annotations

from typing import Optional

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2

FAILURE = "flowers_error"  # custom property a local run puts on its failed execution: why it failed
_STATES = metadata_store_pb2.Execution.State


def connect(metadata_path: str) -> mlmd.MetadataStore:
    """The MLMD store of an output root, read-only."""
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = metadata_path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return mlmd.MetadataStore(config)


def _node_name(store, execution_id: int) -> str:
    for context in store.get_contexts_by_execution(execution_id):
        if context.type == "node":
            return context.name.split(".", 1)[-1]
    return "?"


def _outputs(store, execution_id: int) -> dict[str, metadata_store_pb2.Artifact]:
    """{output key: artifact} of one execution."""
    events = [e for e in store.get_events_by_execution_ids([execution_id])
              if e.type in (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)]
    artifacts = {a.id: a for a in store.get_artifacts_by_id([e.artifact_id for e in events])}
    return {e.path.steps[0].key: artifacts[e.artifact_id] for e in events if e.path.steps}


def split_uris(artifact: metadata_store_pb2.Artifact) -> dict[str, str]:
    """{split name: folder} of an artifact that holds splits (examples, statistics, anomalies), by
    TFX's own rule (tfx.types.artifact_utils.get_split_uri)."""
    from tfx.types import artifact_utils, standard_artifacts

    holder = standard_artifacts.Examples()  # the rule reads only the URI, split names and TFX version
    holder.set_mlmd_artifact(artifact)
    return {split: artifact_utils.get_split_uri([holder], split)
            for split in artifact_utils.decode_split_names(holder.split_names)}


def accuracy_by_model(evaluation_uri: str) -> tuple[dict, dict]:
    """({model: overall accuracy}, {class label: candidate accuracy}) from TFMA's saved metrics."""
    import tensorflow_model_analysis as tfma

    from components.evaluation import ACCURACY

    overall, per_class = {}, {}
    for slice_metrics in tfma.load_metrics(evaluation_uri):
        keys = slice_metrics.slice_key.single_slice_keys
        for kv in slice_metrics.metric_keys_and_values:
            if kv.key.name != ACCURACY or kv.key.is_diff:
                continue
            value = kv.value.double_value.value
            model = kv.key.model_name or "candidate"
            if not keys:
                overall[model] = value
            elif model == "candidate":
                per_class[keys[0].bytes_value.decode()] = value
    return overall, per_class


def _statistics_of(store, examples_id: int):
    """The statistics StatisticsGen computed over one Examples artifact (in any run), or None."""
    readers = {e.execution_id for e in store.get_events_by_artifact_ids([examples_id])
               if e.type == metadata_store_pb2.Event.INPUT}
    found = [a for execution_id in sorted(readers) for key, a in _outputs(store, execution_id).items()
             if key == "statistics" and a.state == metadata_store_pb2.Artifact.LIVE]
    return found[0] if found else None


def split_sizes(store, examples: list[metadata_store_pb2.Artifact]) -> dict[str, int]:
    """{split: records} over Examples artifacts (summed over spans), from StatisticsGen's counts."""
    from tfx.components.statistics_gen import stats_artifact_utils
    from tfx.types import artifact_utils, standard_artifacts

    sizes: dict[str, int] = {}
    for artifact in examples:
        statistics = _statistics_of(store, artifact.id)
        if statistics is None:
            continue
        stats = standard_artifacts.ExampleStatistics()
        stats.set_mlmd_artifact(statistics)
        for split in artifact_utils.decode_split_names(stats.split_names):
            count = stats_artifact_utils.load_statistics(stats, split).proto().datasets[0].num_examples
            sizes[split] = sizes.get(split, 0) + count
    return sizes


def _read_examples(store, executions: list) -> list[metadata_store_pb2.Artifact]:
    """The Examples the run trained and evaluated on (the window of spans, when there is one); the
    run's own ingest when it stopped before the Trainer."""
    for name, execution, _ in executions:
        if name == "Trainer":
            ids = [e.artifact_id for e in store.get_events_by_execution_ids([execution.id])
                   if e.type == metadata_store_pb2.Event.INPUT and e.path.steps and e.path.steps[0].key == "examples"]
            return store.get_artifacts_by_id(ids)
    return [outputs["examples"] for name, _, outputs in executions
            if name == "ImportExampleGen" and "examples" in outputs]


def latest_run(metadata_path: str, pipeline_name: str) -> tuple[str, list]:
    """(run id, [(component name, execution, {output key: artifact})] in start order) of the latest run."""
    store = connect(metadata_path)
    runs = [c for c in store.get_contexts_by_type("pipeline_run")]
    pipeline = store.get_context_by_type_and_name("pipeline", pipeline_name)
    pipeline_execs = {e.id for e in store.get_executions_by_context(pipeline.id)} if pipeline else set()
    runs = [r for r in runs if any(e.id in pipeline_execs for e in store.get_executions_by_context(r.id))]
    if not runs:
        raise LookupError(f"no run of pipeline {pipeline_name!r} recorded in {metadata_path}")
    run = max(runs, key=lambda c: c.create_time_since_epoch)
    executions = sorted(store.get_executions_by_context(run.id), key=lambda e: e.create_time_since_epoch)
    return run.name, [(_node_name(store, e.id), e, _outputs(store, e.id)) for e in executions]


def drift(executions: list) -> Optional[dict]:
    """The DriftGate's view of the run (components.drift_gate.compare) and its verdict: "passed",
    "stopped", "accepted" or "no reference"; None when the gate did not run. Recomputed from the
    new span's and the served version's statistics, which outlive a gate that stopped the run."""
    from tfx.types import standard_artifacts

    from components.drift_gate import compare

    found = {name: (execution, outputs) for name, execution, outputs in executions}
    if not {"DriftGate", "DriftStatisticsGen", "Baseline"} <= found.keys():
        return None
    gate = found["DriftGate"][0]
    statistics, served = found["DriftStatisticsGen"][1].get("drift_statistics"), found["Baseline"][1].get("model")
    if not (statistics and served) or {statistics.state, served.state} != {metadata_store_pb2.Artifact.LIVE}:
        return None
    model = standard_artifacts.Model()
    model.set_mlmd_artifact(served)
    result = compare(statistics.uri, model, gate.custom_properties["drift_schema"].string_value)
    accepted = bool(gate.custom_properties["accept_drift"].int_value)
    if result["note"]:
        verdict = "no reference"
    elif not result["drifted"]:
        verdict = "passed"
    else:
        verdict = "stopped" if gate.last_known_state == _STATES.FAILED or not accepted else "accepted"
    return {**result, "verdict": verdict}


def read_summary(metadata_path: str, pipeline_name: str) -> dict:
    """The latest run of `pipeline_name`: components with state and seconds, records per split,
    accuracy, blessing, push."""
    run_id, executions = latest_run(metadata_path, pipeline_name)
    store = connect(metadata_path)
    summary: dict = {"run_id": run_id, "components": [], "accuracy": None, "baseline_accuracy": None,
                     "per_class_accuracy": {}, "blessed": None, "pushed": False, "pushed_model_dir": None,
                     "split_sizes": split_sizes(store, _read_examples(store, executions)),
                     "drift": drift(executions)}
    for name, execution, outputs in executions:
        seconds = (execution.last_update_time_since_epoch - execution.create_time_since_epoch) / 1000
        summary["components"].append({"name": name, "state": _STATES.Name(execution.last_known_state).lower(),
                                      "seconds": round(seconds, 1)})
        if execution.last_known_state == _STATES.FAILED:
            summary["failed"] = {"component": name, "error": execution.custom_properties[FAILURE].string_value
                                 if FAILURE in execution.custom_properties else None}
        if "blessing" in outputs:
            summary["blessed"] = bool(outputs["blessing"].custom_properties["blessed"].int_value)
        if "evaluation" in outputs:
            overall, per_class = accuracy_by_model(outputs["evaluation"].uri)
            summary["accuracy"] = overall.get("candidate")
            summary["baseline_accuracy"] = overall.get("baseline")
            summary["per_class_accuracy"] = dict(sorted(per_class.items()))
        if "model_run" in outputs:
            summary["tensorboard_dir"] = outputs["model_run"].uri
        if "tflite" in outputs and execution.last_known_state in (_STATES.COMPLETE, _STATES.CACHED):
            summary["tflite"] = tflite_scores(outputs["tflite"].uri)
        if "pushed_model" in outputs:
            props = outputs["pushed_model"].custom_properties
            summary["pushed"] = bool(props["pushed"].int_value) if "pushed" in props else False
            _mark_tflite_pushed(summary, props)
            if summary["pushed"]:
                summary["pushed_model_dir"] = props["pushed_destination"].string_value
            elif "identical_to" in props:  # components.atomic_pusher.IDENTICAL_TO: already serving
                summary["identical_to"] = props["identical_to"].string_value
    return summary


def tflite_scores(uri: str) -> dict:
    """TFLiteExport's scores: {"uri" (its folder), "max_accuracy_drop", "eval_images", "formats": {format: {"accuracy",
    "bytes", "latency_ms"; for TFLite ones "accepted", "reason", "pushed"}}} (the SavedModel first)."""
    from components.tflite_export import read_scores

    scores = dict(read_scores(uri), uri=uri)
    for score in scores["formats"].values():
        if "accepted" in score:
            score["pushed"] = False
    return scores


def tflite_rows(scores: dict) -> list[list]:
    """[format, accuracy, size in bytes, latency ms, decision] per format of `tflite_scores`; a format
    that did not convert has None in the figures."""
    rows = []
    # The reference (no verdict) first.
    for fmt, score in sorted(scores["formats"].items(), key=lambda item: "accepted" in item[1]):
        if "accepted" not in score:
            decision = "reference"
        elif score.get("pushed"):
            decision = "pushed"
        else:
            decision = score["reason"] if not score["accepted"] else "accepted; not pushed (the SavedModel was not)"
        rows.append([fmt, score.get("accuracy"), score.get("bytes"), score.get("latency_ms"), decision])
    return rows


def _mark_tflite_pushed(summary: dict, pushed_props) -> None:
    from components.atomic_pusher import TFLITE_PUSHED

    files = set(pushed_props[TFLITE_PUSHED].string_value.split(",")) if TFLITE_PUSHED in pushed_props else set()
    for score in summary.get("tflite", {}).get("formats", {}).values():
        if "accepted" in score:
            score["pushed"] = score.get("file") in files


def latest_pushed_model(serving_root: str) -> Optional[str]:
    """The newest complete version folder under a serving root (versions are unix timestamps)."""
    from components.baseline import newest_version  # the Baseline step's own rule

    return newest_version(serving_root)
