"""AnomaliesGate: stops the run before Transform when ExampleValidator found anomalies.

TFX's ExampleValidator only records anomalies; training would go on regardless. This gate reads
them and fails with a message that names each one. A new, unexpected feature is only a warning:
the model never reads it.
"""

import logging
import os

from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts
from tfx.utils import io_utils

log = logging.getLogger(__name__)

# Anomaly kinds that do not harm training: reported, never fatal.
WARNING_ONLY = {anomalies_pb2.AnomalyInfo.SCHEMA_NEW_COLUMN}


class DataAnomaliesError(RuntimeError):
    """The data does not match the schema; the message lists every anomaly."""


def describe(anomalies: anomalies_pb2.Anomalies, split: str) -> "tuple[list[str], list[str]]":
    """(fatal, warnings): one line per anomalous feature, as '<split>: feature '<name>': <why>'."""
    fatal, warnings = [], []
    for name, info in sorted(anomalies.anomaly_info.items()):
        reasons = "; ".join(r.description or r.short_description for r in info.reason) or info.description
        line = f"split '{split}': feature '{name}': {reasons}"
        kinds = {r.type for r in info.reason}
        (warnings if kinds and kinds <= WARNING_ONLY else fatal).append(line)
    if anomalies.HasField("dataset_anomaly_info"):
        info = anomalies.dataset_anomaly_info
        reasons = "; ".join(r.description or r.short_description for r in info.reason)
        fatal.append(f"split '{split}': dataset: {reasons or info.description}")
    return fatal, warnings


def check_anomalies(anomalies: standard_artifacts.ExampleAnomalies) -> "list[str]":
    """Raises DataAnomaliesError naming each fatal anomaly of any split; returns the warnings."""
    fatal, warnings = [], []
    for split in artifact_utils.decode_split_names(anomalies.split_names):
        path = os.path.join(artifact_utils.get_split_uri([anomalies], split), "SchemaDiff.pb")
        found = anomalies_pb2.Anomalies.FromString(io_utils.read_bytes_file(path))
        split_fatal, split_warnings = describe(found, split)
        fatal += split_fatal
        warnings += split_warnings
    for line in warnings:
        log.warning("Data warning (not fatal): %s", line)
    if fatal:
        raise DataAnomaliesError(
            f"ExampleValidator found {len(fatal)} anomal{'y' if len(fatal) == 1 else 'ies'} "
            "against the schema; stopping before Transform:\n  " + "\n  ".join(fatal))
    return warnings


@component
def AnomaliesGate(anomalies: InputArtifact[standard_artifacts.ExampleAnomalies]):
    check_anomalies(anomalies)
