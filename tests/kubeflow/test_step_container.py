"""One compiled step's container command, run here as the image would run it: components/entrypoint.py
(then TFX's Kubeflow V2 entrypoint) with the executor input Vertex AI passes for `{{$}}`, executing the
project's AnomaliesGate. test_run_package.py runs every step with the input a KFP backend passes."""
import json
import os
import subprocess
import sys

from google.protobuf import json_format
from tensorflow_metadata.proto.v0 import anomalies_pb2

from tests.kubeflow.test_compile import COMMAND, executor

SPLITS = ["train", "eval"]


def run_gate_step(compiled, workdir, anomalies: anomalies_pb2.Anomalies) -> subprocess.CompletedProcess:
    spec = compiled["spec"]
    container = executor(spec, "AnomaliesGate")["container"]
    assert container["command"] == COMMAND
    uri = workdir / "ExampleValidator" / "anomalies"
    for split in SPLITS:
        (uri / f"Split-{split}").mkdir(parents=True)
        (uri / f"Split-{split}" / "SchemaDiff.pb").write_bytes(anomalies.SerializeToString())
    schema = spec.components["AnomaliesGate"].input_definitions.artifacts["anomalies"].artifact_type
    executor_input = {  # what the KFP launcher substitutes for {{$}} (pipeline_spec_pb2.ExecutorInput)
        "inputs": {"artifacts": {"anomalies": {"artifacts": [{
            "name": "projects/p/locations/l/metadataStores/default/artifacts/1", "uri": str(uri),
            "type": json_format.MessageToDict(schema), "metadata": {"split_names": json.dumps(SPLITS)}}]}}},
        "outputs": {"outputFile": str(workdir / "AnomaliesGate" / "executor_output.json")},
    }
    args = [json.dumps(executor_input) if arg == "{{$}}" else arg for arg in container["args"]]
    command = [sys.executable if part == "python" else part for part in container["command"]]  # the image's python
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}  # the Dockerfile's ENV
    # Run outside the checkout: the project is found as installed, as in the image.
    return subprocess.run(command + args, cwd=workdir, env=env, capture_output=True, text=True, timeout=180)


def test_gate_step_passes_clean_data_and_writes_its_executor_output(compiled, tmp_path):
    proc = run_gate_step(compiled, tmp_path, anomalies_pb2.Anomalies())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "components.anomalies_gate.AnomaliesGate_Executor" in proc.stderr  # the entrypoint's log
    assert json.loads((tmp_path / "AnomaliesGate" / "executor_output.json").read_text()) == {}


def test_gate_step_fails_naming_the_anomaly(compiled, tmp_path):
    anomalies = anomalies_pb2.Anomalies()
    info = anomalies.anomaly_info["image"]
    info.reason.add(type=anomalies_pb2.AnomalyInfo.SCHEMA_MISSING_COLUMN, description="Column is completely missing")
    proc = run_gate_step(compiled, tmp_path, anomalies)
    assert proc.returncode != 0
    assert "DataAnomaliesError" in proc.stderr
    assert "feature 'image': Column is completely missing" in proc.stderr
