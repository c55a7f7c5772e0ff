"""DriftStatisticsGen and DriftGate: a new span is compared with the data the served model was
trained on, and a drift past a threshold stops the run before Transform.

DriftStatisticsGen (a Beam job on the run's runner) reduces each photo of the newly ingested span,
all its splits, to the properties of components/drift.py and writes their statistics. DriftGate
compares them with the statistics the Pusher stored beside the served version, which the Baseline
step copies with the model (components/baseline.py: the newest complete version under the serving
root), using the comparators and thresholds of data/schema/drift.pbtxt. Both are ordinary
container steps: no resolver, so they run on an open-source Kubeflow Pipelines backend too.

With no served model, or a served version pushed without statistics, there is nothing to compare
with: the gate passes and says so. `accept_drift` (`flowers run --accept-drift`) lets a drift
through once: the model trained on it, when pushed, becomes the reference of the next run.
"""
import logging
import os

import apache_beam as beam
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.dsl.component.experimental.annotations import (BeamComponentParameter, InputArtifact, OutputArtifact,
                                                        Parameter)
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts
from tfx.types.artifact import Artifact
from tfx.utils import path_utils

from components import baseline, drift

log = logging.getLogger(__name__)


class DriftStatistics(Artifact):
    """drift.STATISTICS_FILE: the image statistics of one span."""

    TYPE_NAME = "flowers.DriftStatistics"  # "namespace.Name": what KFP's pipeline spec accepts as a title


class DataDriftError(RuntimeError):
    """The new span drifted from the data the served model was trained on past a threshold."""


def statistics_file(artifact_uri: str) -> str:
    return os.path.join(artifact_uri, drift.STATISTICS_FILE)


def compare(statistics_uri: str, baseline_model, schema_text: str) -> dict:
    """The new span (a DriftStatistics URI) against the statistics of the served version, in the
    Baseline's copy of it (a Model artifact): {"reference" (the version), "note" (why nothing was
    compared, or None), "distances" {feature: distance}, "thresholds" {feature: [measure, threshold]},
    "drifted" [one line per feature past its threshold]}."""
    schema = text_format.Parse(schema_text, schema_pb2.Schema())
    served = baseline.has_model(baseline_model)
    reference = (baseline_model.get_string_custom_property(baseline.COPIED_FROM)
                 if baseline_model.has_custom_property(baseline.COPIED_FROM) else "") or "the served version"
    result = {"reference": reference if served else None, "note": None, "distances": {},
              "thresholds": {name: list(t) for name, t in drift.thresholds(schema).items()}, "drifted": []}
    stored = os.path.join(path_utils.serving_model_path(baseline_model.uri), drift.STATISTICS_FILE)
    reference_statistics = drift.read_statistics(stored) if served else None
    if not served:
        result["note"] = "no reference: no model served yet (the first model)"
    elif reference_statistics is None:
        result["note"] = f"no reference: {reference} holds no {drift.STATISTICS_FILE}"
    else:
        current = drift.read_statistics(statistics_file(statistics_uri))
        result["drifted"], result["distances"] = drift.find_drift(current, reference_statistics, schema)
    return result


def judge(result: dict, accept_drift: bool) -> None:
    """Raises DataDriftError naming each drifted feature, unless `accept_drift`; logs the verdict."""
    if result["note"]:
        log.info("Drift: %s", result["note"])
        return
    lines = "\n  ".join(result["drifted"])
    if not result["drifted"]:
        log.info("Drift against %s: none past a threshold (%s)", result["reference"],
                 ", ".join(f"{name} {value:.3f}" for name, value in sorted(result["distances"].items())))
    elif accept_drift:
        log.warning("Drift against %s accepted (--accept-drift):\n  %s", result["reference"], lines)
    else:
        raise DataDriftError(
            f"drift against the data the served model ({result['reference']}) was trained on; stopping before "
            f"Transform (run with --accept-drift to accept it once):\n  {lines}")


@component(use_beam=True)
def DriftStatisticsGen(examples: InputArtifact[standard_artifacts.Examples],
                       drift_statistics: OutputArtifact[DriftStatistics],
                       beam_pipeline: BeamComponentParameter[beam.Pipeline] = None):
    splits = artifact_utils.decode_split_names(examples.split_names)
    patterns = [os.path.join(artifact_utils.get_split_uri([examples], split), "*") for split in splits]
    import tensorflow_data_validation as tfdv

    with beam_pipeline as pipeline:
        _ = (pipeline
             | "Files" >> beam.Create(patterns)
             | "Read" >> beam.io.ReadAllFromTFRecord()
             | "ImageStatistics" >> drift.ImageStatistics()
             | "Write" >> tfdv.WriteStatisticsToBinaryFile(statistics_file(drift_statistics.uri)))


@component
def DriftGate(drift_statistics: InputArtifact[DriftStatistics],
              baseline_model: InputArtifact[standard_artifacts.Model],
              drift_schema: Parameter[str],
              accept_drift: Parameter[int] = 0):
    judge(compare(drift_statistics.uri, baseline_model, drift_schema), bool(accept_drift))
