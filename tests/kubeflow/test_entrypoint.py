"""components/entrypoint.py, the command of every compiled step: the input an open-source KFP 2.x
backend hands a step, which TFX's own entrypoint cannot read, mended; Vertex AI's left alone; the
directory markers that break KFP's next download deleted."""
import json

import pytest
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils
from tfx.types import standard_artifacts

from components.entrypoint import delete_directory_markers, mend_executor_input
from tests.kubeflow.recorder import serving

SPLITS = json.dumps(["train", "eval"])


def executor_input(artifact_type: dict) -> str:
    """StatisticsGen's executor input, its `examples` input typed as given."""
    return json.dumps({
        "inputs": {"artifacts": {"examples": {"artifacts": [{
            "name": "17", "uri": "gs://b/root/flowers/run/ImportExampleGen/uuid/examples", "type": artifact_type,
            "metadata": {"split_names": SPLITS, "custom:span": 2.0, "display_name": "examples"}}]}},
            "parameterValues": {"exclude_splits": "[]"}},
        "outputs": {"artifacts": {"statistics": {"artifacts": [{
            "name": "statistics", "uri": "gs://b/root/flowers/run/StatisticsGen/uuid/statistics",
            "type": {"instanceSchema": "title: tfx.ExampleStatistics\ntype: object\n"}}]}},
            "outputFile": "/gcs/b/root/flowers/run/StatisticsGen/uuid/output_metadata.json"}})


def inputs_spec(compiled) -> str:
    """What the compiled command passes as --json_serialized_inputs_spec_args."""
    return json_format.MessageToJson(compiled["spec"].components["StatisticsGen"].input_definitions)


def parsed_examples(invocation: str):
    parsed = json_format.Parse(invocation, pipeline_spec_pb2.ExecutorInput())
    [examples] = kubeflow_v2_entrypoint_utils.parse_raw_artifact_dict(parsed.inputs.artifacts)["examples"]
    return examples


def test_tfx_alone_cannot_read_what_a_kfp_driver_hands_it():
    """KFP's driver types an upstream artifact with an empty instance schema (tensorflow/tfx#7768)."""
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'get'"):
        parsed_examples(executor_input({"instanceSchema": ""}))


@pytest.mark.parametrize("kfp_type", [{"instanceSchema": ""}, {"schemaTitle": "system.Dataset"}, {}])
def test_an_input_typed_by_kfp_is_typed_as_the_step_declares_it(compiled, kfp_type):
    mended, outputs = mend_executor_input(executor_input(kfp_type), inputs_spec(compiled))
    examples = parsed_examples(mended)
    assert type(examples) is standard_artifacts.Examples
    assert examples.split_names == SPLITS and examples.uri.endswith("/examples")
    assert outputs == ["gs://b/root/flowers/run/StatisticsGen/uuid/statistics"]


@pytest.mark.parametrize("kfp_type", [{"instanceSchema": ""}, {"instanceSchema": "title: flowers.DriftStatistics\n"}])
def test_the_projects_own_artifact_types_are_read_as_their_classes(compiled, kfp_type):
    """A flowers.DriftStatistics input as KFP's driver (untyped) or Vertex AI (typed by its title)
    hands it: TFX alone would import the title as a module path, `flowers`."""
    from components.drift_gate import DriftStatistics
    from components.record_check import RecordCheckResult

    invocation = json.dumps({
        "inputs": {"artifacts": {"drift_statistics": {"artifacts": [{
            "name": "18", "uri": "gs://b/root/DriftStatisticsGen/uuid/drift_statistics", "type": kfp_type}]}}},
        "outputs": {"artifacts": {"result": {"artifacts": [{
            "name": "result", "uri": "gs://b/root/RecordCheck/uuid/result",
            "type": {"instanceSchema": "title: flowers.RecordCheckResult\ntype: object\n"}}]}}}})
    declared = json.loads(json_format.MessageToJson(compiled["spec"].components["DriftGate"].input_definitions))
    if kfp_type["instanceSchema"]:
        with pytest.raises(ImportError, match="Could not import flowers.DriftStatistics"):
            kubeflow_v2_entrypoint_utils.parse_raw_artifact_dict(
                json_format.Parse(invocation, pipeline_spec_pb2.ExecutorInput()).inputs.artifacts)
    mended, _ = mend_executor_input(invocation, json.dumps(declared))
    parsed = json_format.Parse(mended, pipeline_spec_pb2.ExecutorInput())
    [statistics] = kubeflow_v2_entrypoint_utils.parse_raw_artifact_dict(parsed.inputs.artifacts)["drift_statistics"]
    [result] = kubeflow_v2_entrypoint_utils.parse_raw_artifact_dict(parsed.outputs.artifacts)["result"]
    assert type(statistics) is DriftStatistics and statistics.uri.endswith("/drift_statistics")
    assert type(result) is RecordCheckResult


def test_a_vertex_input_is_left_as_it_is(compiled):
    declared = json.loads(inputs_spec(compiled))["artifacts"]["examples"]["artifactType"]
    original = executor_input(declared)
    mended, _ = mend_executor_input(original, inputs_spec(compiled))
    assert json.loads(mended) == json.loads(json_format.MessageToJson(
        json_format.Parse(original, pipeline_spec_pb2.ExecutorInput())))


def test_zero_byte_directory_markers_are_deleted_from_gs_outputs(monkeypatch):
    """kubeflow/pipelines#13476: TensorFlow's GCS file system writes `dir/` objects of zero bytes,
    which KFP's launcher downloads as files, so the folders below them cannot be made. The storage
    client talks to a recorder standing in for GCS (STORAGE_EMULATOR_HOST)."""
    objects = [("root/run/Trainer/uuid/model/", 0), ("root/run/Trainer/uuid/model/Format-Serving/", 0),
               ("root/run/Trainer/uuid/model/Format-Serving/saved_model.pb", 1234),
               ("root/run/Trainer/uuid/model/Format-Serving/assets/empty.txt", 0)]

    def answer(method, path, body):
        if method == "GET":  # the listing; a DELETE gets an empty answer
            return {"kind": "storage#objects",
                    "items": [{"name": name, "bucket": "b", "size": str(size)} for name, size in objects]}
        return {}

    with serving(answer) as server:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", server.url)
        deleted = delete_directory_markers(["gs://b/root/run/Trainer/uuid/model", "/local/path/ignored"])
    assert deleted == ["gs://b/root/run/Trainer/uuid/model/", "gs://b/root/run/Trainer/uuid/model/Format-Serving/"]
    [listed] = server.find("GET", "/storage/v1/b/b/o")
    assert "prefix=root%2Frun%2FTrainer%2Fuuid%2Fmodel%2F" in listed["path"]
    removed = [r["path"] for r in server.find("DELETE", "/storage/v1/b/b/o/")]
    assert [path.split("?")[0] for path in removed] == [
        "/storage/v1/b/b/o/root%2Frun%2FTrainer%2Fuuid%2Fmodel%2F",
        "/storage/v1/b/b/o/root%2Frun%2FTrainer%2Fuuid%2Fmodel%2FFormat-Serving%2F"]
    assert delete_directory_markers(["/local/only"]) == []

