"""`flowers compile`: the KFP pipeline spec (schema 2.1) of the same DAG that `flowers run` executes."""
import dataclasses
import json
import os
import re
import tempfile

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from components.evaluation import accuracy_gate
from pipeline import deploy, kubeflow, local
from pipeline.config import ACCEPT_DRIFT_PARAM, DATA_PARAM, EVAL_PARAM, TRAINER_PARAM
from pipeline.pipeline import create_pipeline
from tests.kubeflow.conftest import IMAGE, PIPELINE_ROOT, TRAINER, cluster_config

COMMAND = ["python", "-m", "components.entrypoint"]


def local_dag() -> dict[str, set[str]]:
    """Each component of the pipeline `flowers run` runs → the ids of its upstream nodes."""
    pipeline = create_pipeline(cluster_config(), "/unused", [])
    return {c.id: {u.id for u in c.upstream_nodes} for c in pipeline.components}


def executor(spec, task: str):
    label = spec.components[spec.root.dag.tasks[task].component_ref.name].executor_label
    return json_format.MessageToDict(spec.deployment_spec["executors"][label])


def test_every_component_is_a_task_of_schema_2_1(compiled):
    spec = compiled["spec"]
    assert spec.schema_version == "2.1.0"
    assert spec.sdk_version == "tfx-1.16.0"
    assert spec.default_pipeline_root == PIPELINE_ROOT
    assert set(spec.root.dag.tasks) == set(local_dag())


def test_dependency_edges_equal_the_local_dag(compiled):
    compiled_edges = {(upstream, task)
                      for task, body in compiled["spec"].root.dag.tasks.items() for upstream in body.dependent_tasks}
    local_edges = {(upstream, node) for node, upstreams in local_dag().items() for upstream in upstreams}
    assert compiled_edges == local_edges
    assert ("AnomaliesGate", "Transform") in compiled_edges  # the gate's explicit edge survives


@pytest.mark.parametrize("package", ["text", "vertex_text"])
def test_every_executor_is_a_container_or_importer(compiled, package):
    """What an open-source KFP 2.x backend runs: its compiler refuses any other executor (a resolver:
    "non-container and non-importer executor not implemented"). Vertex AI runs the same package."""
    document = yaml.safe_load(compiled[package])  # JSON is YAML too
    executors = document.get("pipelineSpec", document)["deploymentSpec"]["executors"]
    assert executors and all(set(body) <= {"container", "importer"} and body for body in executors.values())
    kubeflow.check_runnable(document.get("pipelineSpec", document))


def test_a_resolver_is_refused_at_compile_time(compiled):
    spec = yaml.safe_load(compiled["text"])
    spec["deploymentSpec"]["executors"]["latest_model_resolver"] = {
        "resolver": {"outputArtifactQueries": {"model": {"filter": 'schema_title="tfx.Model"'}}}}
    with pytest.raises(ValueError, match="latest_model_resolver are neither container nor importer"):
        kubeflow.check_runnable(spec)


def test_steps_that_read_what_no_cache_key_covers_run_uncached(compiled):
    """ImportExampleGen reads the files under `data`, Baseline the serving root: KFP's cache key
    (parameters, input artifacts, image, command) covers neither, so a cached step would hand every
    scheduled run the first run's data and baseline."""
    tasks = compiled["spec"].root.dag.tasks
    uncached = {name for name, task in tasks.items() if not task.caching_options.enable_cache}
    assert uncached == {"ImportExampleGen", "Baseline"}
    vertex_tasks = json.loads(compiled["vertex_text"])["pipelineSpec"]["root"]["dag"]["tasks"]
    assert {name for name, task in vertex_tasks.items()
            if not task.get("cachingOptions", {}).get("enableCache")} == uncached


def test_the_baseline_is_a_container_step_reading_the_serving_root(compiled):
    spec = compiled["spec"]
    baseline = spec.root.dag.tasks["Baseline"]
    assert baseline.inputs.parameters["serving_root"].runtime_value.constant.string_value == f"{PIPELINE_ROOT}/serving"
    assert "components.baseline.Executor" in executor(spec, "Baseline")["container"]["args"]
    evaluator = spec.root.dag.tasks["Evaluator"].inputs.artifacts["baseline_model"].task_output_artifact
    assert (evaluator.producer_task, evaluator.output_artifact_key) == ("Baseline", "model")
    assert "components.evaluation.Executor" in executor(spec, "Evaluator")["container"]["args"]


def test_the_drift_gate_is_a_container_step_before_transform_and_its_statistics_reach_the_pusher(compiled):
    spec = compiled["spec"]
    gate = spec.root.dag.tasks["DriftGate"]
    inputs = {key: (a.task_output_artifact.producer_task, a.task_output_artifact.output_artifact_key)
              for key, a in gate.inputs.artifacts.items()}
    assert inputs == {"drift_statistics": ("DriftStatisticsGen", "drift_statistics"), "baseline_model": ("Baseline", "model")}
    assert 'jensen_shannon_divergence' in gate.inputs.parameters["drift_schema"].runtime_value.constant.string_value
    assert "DriftGate" in spec.root.dag.tasks["Transform"].dependent_tasks
    assert "components.drift_gate.DriftGate_Executor" in executor(spec, "DriftGate")["container"]["args"]
    pusher = spec.root.dag.tasks["Pusher"].inputs.artifacts["drift_statistics"].task_output_artifact
    assert (pusher.producer_task, pusher.output_artifact_key) == ("DriftStatisticsGen", "drift_statistics")
    assert "components.atomic_pusher.Executor" in executor(spec, "Pusher")["container"]["args"]
    declared = spec.components[spec.root.dag.tasks["DriftGate"].component_ref.name].input_definitions
    assert "title: flowers.DriftStatistics" in declared.artifacts["drift_statistics"].artifact_type.instance_schema


def test_each_container_runs_the_image_with_the_project_entrypoint_and_modules(compiled):
    spec = compiled["spec"]
    containers = {task: executor(spec, task)["container"] for task in spec.root.dag.tasks}
    assert set(containers) == set(local_dag())
    for task, container in containers.items():
        assert container["image"] == IMAGE, task
        assert list(container["command"]) == COMMAND, task
    assert "components.anomalies_gate.AnomaliesGate_Executor" in containers["AnomaliesGate"]["args"]
    # The project's code is named by module path and baked into the image: no module file, no wheel.
    inputs = {task: spec.root.dag.tasks[task].inputs.parameters for task in ("Transform", "Trainer")}
    assert inputs["Transform"]["preprocessing_fn"].runtime_value.constant.string_value == \
        "components.transform.preprocessing_fn"
    assert inputs["Trainer"]["run_fn"].runtime_value.constant.string_value == "components.trainer.run_fn"
    assert "module_file" not in inputs["Trainer"] and "module_path" not in inputs["Trainer"]


def test_run_time_parameters_are_declared_with_the_config_as_defaults(compiled):
    import tensorflow_model_analysis as tfma

    spec, config = compiled["spec"], compiled["config"]
    declared = spec.root.input_definitions.parameters
    assert set(declared) == {DATA_PARAM, TRAINER_PARAM, EVAL_PARAM, ACCEPT_DRIFT_PARAM}
    assert all(p.is_optional and p.description for p in declared.values())
    # The schema step reads the class names beside the records the run ingests.
    wiring = {("ImportExampleGen", "input_base"): DATA_PARAM, ("CuratedSchemaGen", "data"): DATA_PARAM,
              ("Trainer", "custom_config"): TRAINER_PARAM, ("Evaluator", "eval_config"): EVAL_PARAM,
              ("DriftGate", "accept_drift"): ACCEPT_DRIFT_PARAM}
    for (task, key), name in wiring.items():
        assert spec.root.dag.tasks[task].inputs.parameters[key].component_input_parameter == name

    assert declared[DATA_PARAM].default_value.string_value == "/flowers/data/default"  # in the image
    assert declared[ACCEPT_DRIFT_PARAM].default_value.number_value == 0
    trainer_config = json.loads(declared[TRAINER_PARAM].default_value.string_value)
    assert trainer_config == config.trainer_config(config.kubeflow.pipeline_root)
    assert trainer_config["backup_root"].startswith(config.kubeflow.pipeline_root)  # a fit cut short resumes
    evaluation = json_format.Parse(declared[EVAL_PARAM].default_value.string_value, tfma.EvalConfig())
    threshold = accuracy_gate(evaluation)
    assert threshold.value_threshold.lower_bound.value == config.min_accuracy
    assert threshold.change_threshold.absolute.value == -config.max_regression


def test_the_spec_names_no_path_of_this_machine(compiled):
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for text in (compiled["text"], compiled["vertex_text"]):
        for here in (repo, "/work/", tempfile.gettempdir() + "/", os.path.expanduser("~") + "/"):
            # Where a path starts, not inside a URI: gs://bucket/root/ is not the home /root/.
            assert not re.search(r"(?<![\w.:/-])" + re.escape(here), text), here
        # A RuntimeParameter nested in a dict or proto would be compiled as this serialized object.
        assert "RuntimeParameter" not in text


def test_resources_and_beam_workers_follow_the_config(compiled):
    spec = compiled["spec"]
    trainer = executor(spec, "Trainer")["container"]
    assert trainer["resources"] == {
        "cpuLimit": 8.0, "memoryLimit": 32.0, "resourceCpuLimit": "8", "resourceMemoryLimit": "32G",
        "accelerator": {"type": TRAINER.accelerator, "count": "1", "resourceType": TRAINER.accelerator,
                        "resourceCount": "1"}}
    for task in ("ImportExampleGen", "StatisticsGen", "Transform", "Evaluator", "Pusher"):
        container = executor(spec, task)["container"]
        assert container["resources"]["cpuLimit"] == 2.0 and "accelerator" not in container["resources"], task
        assert "--direct_num_workers=2" in container["args"], task
        assert local.NO_WORKER_PACKAGE in container["args"], task  # TFX builds no package of itself there
    assert "--direct_num_workers=8" in trainer["args"]


def test_vertex_pipeline_job_carries_root_and_parameter_values(compiled):
    job = json.loads(compiled["vertex_text"])
    assert set(job) >= {"displayName", "pipelineSpec", "runtimeConfig"}
    assert job["runtimeConfig"]["gcsOutputDirectory"] == PIPELINE_ROOT
    assert job["runtimeConfig"]["parameterValues"] == compiled["summary"]["parameters"]
    assert job["pipelineSpec"]["schemaVersion"] == "2.1.0"
    assert set(job["pipelineSpec"]["root"]["dag"]["tasks"]) == set(compiled["spec"].root.dag.tasks)


def test_cluster_config_maps_the_embedded_data_and_refuses_other_local_paths(tmp_path):
    config = kubeflow.cluster_config(cluster_config(data="gs://bucket/flowers"))
    assert config.data == "gs://bucket/flowers"
    assert config.schema_file == "/flowers/data/schema/schema.pbtxt"
    assert config.serving_dir == f"{PIPELINE_ROOT}/serving"
    with pytest.raises(ValueError, match="no Kubeflow step can read"):
        kubeflow.cluster_config(cluster_config(data=str(tmp_path)))
    with pytest.raises(ValueError, match="--serving-dir"):
        kubeflow.cluster_config(cluster_config(serving_dir=str(tmp_path)))
    config = cluster_config()
    no_root = dataclasses.replace(config, kubeflow=dataclasses.replace(config.kubeflow, pipeline_root=None))
    with pytest.raises(ValueError, match="pipeline root is needed"):
        kubeflow.cluster_config(no_root)
    with pytest.raises(ValueError, match=r"written as \.json"):
        kubeflow.compile_pipeline(cluster_config(), str(tmp_path / "p.yaml"), vertex=True)


def test_a_span_data_root_compiles_with_the_span_pattern(tmp_path):
    """Each run (a scheduled one too) resolves the newest span/ at run time, as `flowers run` does:
    the {SPAN} pattern is compiled in, the root stays the `data` parameter."""
    package = kubeflow.compile_pipeline(cluster_config(data="gs://flowers-test/records/", span_folders=True,
                                                       split_folders=True), str(tmp_path / "p.yaml"))["package"]
    spec = json_format.ParseDict(yaml.safe_load(open(package)), pipeline_spec_pb2.PipelineSpec())
    inputs = spec.root.dag.tasks["ImportExampleGen"].inputs.parameters
    patterns = [split["pattern"] for split in json.loads(inputs["input_config"].runtime_value.constant.string_value)["splits"]]
    assert patterns == ["span-{SPAN}/train/*.tfrec*", "span-{SPAN}/eval/*.tfrec*"]
    assert inputs["input_base"].component_input_parameter == DATA_PARAM
    assert spec.root.input_definitions.parameters[DATA_PARAM].default_value.string_value == "gs://flowers-test/records"
    # Vertex AI runs TFX's ExampleGen driver before the step's cache check, and it picks the span; a
    # KFP backend runs no hook, and the step's own executor picks it (components/example_gen.py).
    container = executor(spec, "ImportExampleGen")["container"]
    assert "file_based_example_gen.driver" in " ".join(container["lifecycle"]["preCacheCheck"]["command"])
    assert "components.example_gen.Executor" in container["args"]


def test_parameter_values_edit_the_compiled_documents(compiled):
    import tensorflow_model_analysis as tfma

    package = compiled["summary"]["package"]
    assert deploy.parameter_values(package) == {}
    values = deploy.parameter_values(package, data="gs://b/new/", epochs=3, model="dense", min_accuracy=0.8)
    assert values[DATA_PARAM] == "gs://b/new"
    train = json.loads(values[TRAINER_PARAM])
    config = compiled["config"]
    assert train == {**config.trainer_config(config.kubeflow.pipeline_root), "epochs": 3, "model": "dense",
                     "weights": None}
    evaluation = json_format.Parse(values[EVAL_PARAM], tfma.EvalConfig())
    threshold = accuracy_gate(evaluation)
    assert threshold.value_threshold.lower_bound.value == 0.8
    assert threshold.change_threshold.absolute.value == -compiled["config"].max_regression  # kept
    with pytest.raises(ValueError, match="path on this machine"):
        deploy.parameter_values(package, data="/home/me/records")
    assert deploy.parameter_values(package, accept_drift=True) == {ACCEPT_DRIFT_PARAM: 1}
    # The Vertex AI package declares the same parameters.
    assert deploy.compiled_parameters(compiled["vertex"]["package"]) == compiled["summary"]["parameters"]


def test_credentials_in_the_environment_stay_out_of_the_compiled_files(tmp_path, monkeypatch):
    token = tmp_path / "token"
    token.write_text("kfp-secret-token-4711")
    key = tmp_path / "key.json"
    key.write_text('{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----gcp-secret-0815"}')
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(token))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    for vertex, name in ((False, "p.yaml"), (True, "p.json")):
        text = open(kubeflow.compile_pipeline(cluster_config(), str(tmp_path / name), vertex=vertex)["package"]).read()
        for secret in ("kfp-secret-token-4711", "gcp-secret-0815", "PRIVATE KEY", str(token), str(key)):
            assert secret not in text, (name, secret)
