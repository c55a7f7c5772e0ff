"""`flowers retrain`: train only when data arrived that no model has been judged on yet.

Both sides come from TFX itself, never from a side file: the newest span under --data is resolved
by ImportExampleGen's own input processor (the same {SPAN} match and fingerprint its driver
computes), and what earlier models were evaluated on is read from MLMD: each Evaluator
execution's input examples carry the `span` and `input_fingerprint` ImportExampleGen gave them.
"""
from __future__ import annotations

import os
from typing import Optional

from ml_metadata.proto import metadata_store_pb2

from data import flowers
from pipeline.config import RunConfig
from pipeline.summary import connect

SPAN = "span"  # = tfx.components.example_gen.utils.SPAN_PROPERTY_NAME
FINGERPRINT = "input_fingerprint"  # = utils.FINGERPRINT_PROPERTY_NAME
_INPUT = metadata_store_pb2.Event.INPUT
_OUTPUT = metadata_store_pb2.Event.OUTPUT


def newest_data(config: RunConfig) -> tuple[int, str]:
    """(span, fingerprint) of the data a run would ingest now: the newest span-N/ (0 without spans)."""
    from tfx.components.example_gen.input_processor import FileBasedInputProcessor

    from pipeline.pipeline import input_config

    base, _ = flowers.split_location(config.data)
    processor = FileBasedInputProcessor(base, input_config(config).splits)
    span, version = processor.resolve_span_and_version()
    return span, processor.get_input_fingerprint(span, version)


def _keyed(store, execution_id: int, event_type, key: str) -> list:
    """The artifacts an execution consumed (INPUT) or produced (OUTPUT) under `key`."""
    ids = [e.artifact_id for e in store.get_events_by_execution_ids([execution_id])
           if e.type == event_type and e.path.steps and e.path.steps[0].key == key]
    return store.get_artifacts_by_id(ids) if ids else []


def judgements(metadata_path: str, pipeline_name: str) -> list[dict]:
    """Every verdict of the Evaluator, oldest first: {"blessed", "spans", "fingerprints" {span: fp},
    "execution_id"} with the spans (and their fingerprints) of the examples it evaluated on."""
    if not os.path.exists(metadata_path):
        return []
    store = connect(metadata_path)
    pipeline = store.get_context_by_type_and_name("pipeline", pipeline_name)
    if pipeline is None:
        return []
    ours = {a.id for a in store.get_artifacts_by_context(pipeline.id)}
    result = []
    for blessing in store.get_artifacts_by_type("ModelBlessing"):
        producers = [e.execution_id for e in store.get_events_by_artifact_ids([blessing.id]) if e.type == _OUTPUT]
        if blessing.id not in ours or not producers:
            continue
        examples = _keyed(store, min(producers), _INPUT, "examples")
        result.append({
            "execution_id": min(producers),
            "blessed": bool(blessing.custom_properties["blessed"].int_value),
            "spans": sorted({a.custom_properties[SPAN].int_value for a in examples}),
            "fingerprints": {a.custom_properties[SPAN].int_value: a.custom_properties[FINGERPRINT].string_value
                             for a in examples if FINGERPRINT in a.custom_properties},
        })
    return sorted(result, key=lambda j: j["execution_id"])


def check_new_data(config: RunConfig, metadata_path: str) -> dict:
    """Whether a retrain has anything to do: {"new_data", "newest_span", "baseline_spans", "reason"}.

    New data is a span newer than any evaluated so far, or the newest evaluated span with changed
    files. A span already evaluated and not blessed is not retried (only new data can change the
    verdict); a span stopped before evaluation (e.g. by the anomalies gate) is, and fails again
    until its records are fixed.
    """
    span, fingerprint = newest_data(config)
    judged = judgements(metadata_path, config.pipeline_name)
    blessed = [j for j in judged if j["blessed"]]
    baseline_spans: Optional[list[int]] = blessed[-1]["spans"] if blessed else None
    result = {"newest_span": span, "baseline_spans": baseline_spans}
    newest_judged = max((max(j["spans"]) for j in judged if j["spans"]), default=None)
    if newest_judged is None:
        return {**result, "new_data": True, "reason": f"span {span} has not been evaluated yet"}
    seen = [j for j in judged if j["fingerprints"].get(span) == fingerprint]
    if span > newest_judged or (span == newest_judged and not seen):
        return {**result, "new_data": True, "reason": f"span {span} is new (the newest evaluated is {newest_judged})"
                if span > newest_judged else f"span {span} changed since it was evaluated"}
    if not seen:
        reason = f"span {span} is older than span {newest_judged}, already evaluated"
    elif seen[-1]["blessed"]:
        reason = f"the model trained with span {span} was already evaluated and blessed"
    else:
        reason = (f"span {span} was already evaluated and not blessed; the blessed model "
                  f"(spans {_spans(baseline_spans)}) stays")
    return {**result, "new_data": False, "reason": f"nothing new: {reason}; no training"}


def run_spans(metadata_path: str, run_id: str) -> list[int]:
    """The spans a run read: every raw Examples artifact that one of its components took as input."""
    store = connect(metadata_path)
    run = store.get_context_by_type_and_name("pipeline_run", run_id)
    executions = store.get_executions_by_context(run.id) if run else []
    artifacts = [a for e in executions for a in _keyed(store, e.id, _INPUT, "examples")]
    return sorted({a.custom_properties[SPAN].int_value for a in artifacts if SPAN in a.custom_properties})


def decision(summary: dict, config: RunConfig) -> str:
    """One line: what the Evaluator decided and what the Pusher did about it."""
    accuracy, baseline = summary.get("accuracy"), summary.get("baseline_accuracy")
    if summary.get("pushed"):
        return f"blessed, pushed {summary['pushed_model_dir']}"
    if summary.get("identical_to"):
        return f"blessed, identical to the pushed version {summary['identical_to']}; not pushed again"
    if accuracy is None:
        return "no verdict: the run stopped before evaluation"
    if accuracy < config.min_accuracy:
        why = f"accuracy {accuracy:.3f} is under the floor {config.min_accuracy:g}"
    elif baseline is not None and accuracy < baseline - config.max_regression:
        why = f"accuracy {accuracy:.3f} trails the baseline's {baseline:.3f} by more than {config.max_regression:g}"
    else:
        why = "the Evaluator did not bless it"
    return f"not blessed ({why}); nothing pushed, the earlier pushed version is untouched"


def _spans(spans: Optional[list[int]]) -> str:
    return ", ".join(map(str, spans)) if spans else "none"
