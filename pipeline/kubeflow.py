"""Runs the pipeline on Kubeflow Pipelines or Vertex AI Pipelines: compile, submit, schedule.

The same `create_pipeline(config)` as `flowers run`, compiled by TFX's KubeflowV2DagRunner into a
pipeline spec (schema 2.1): YAML for KFP, or a PipelineJob JSON for Vertex AI. Every step runs the
Dockerfile's image, which holds the project's code (the Transform and Trainer modules are named by
module path), so nothing is uploaded at compile time and the spec names no file of this machine.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from typing import Any, Optional

import yaml

from pipeline.config import KubeflowConfig, Resources, RunConfig
from pipeline.pipeline import DATA_PARAM, EVAL_PARAM, TRAINER_PARAM

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The Dockerfile's WORKDIR. Only data/ of the checkout travels in the image with the code.
IMAGE_PROJECT_DIR = "/flowers"
IMAGE_DATA_DIRS = ("data",)
KFP_PACKAGE = "flowers_pipeline.yaml"
VERTEX_PACKAGE = "flowers_pipeline.json"
DEFAULT_EXPERIMENT = "flowers"
# KFP's own convention for a file holding a bearer token (kfp.client.ServiceAccountTokenVolumeCredentials).
KFP_TOKEN_PATH_ENV = "KF_PIPELINES_SA_TOKEN_PATH"


class CronError(ValueError):
    """A cron expression in the wrong dialect; the message shows the fix."""


# ---------------------------------------------------------------------------------------- compile


def cluster_config(config: RunConfig) -> RunConfig:
    """The config as a cluster step sees it: the checkout's data/ files at their place in the image,
    any other path of this machine refused (no step can read it), pushes under the pipeline root."""
    root = config.kubeflow.pipeline_root
    if not root:
        raise ValueError("a pipeline root is needed: every step writes its artifacts there directly "
                         "(e.g. --pipeline-root gs://BUCKET/flowers)")

    def in_image(path: Optional[str], flag: str) -> Optional[str]:
        if path is None or "://" in path or path.startswith(IMAGE_PROJECT_DIR + "/"):
            return path
        relative = os.path.relpath(os.path.abspath(path), REPO_ROOT)
        if relative.split(os.sep)[0] in IMAGE_DATA_DIRS:
            return "/".join([IMAGE_PROJECT_DIR, *relative.split(os.sep)])
        raise ValueError(f"{flag} {path} is a path on this machine, which no Kubeflow step can read: "
                         "pass a gs:// location (or put it under data/ and rebuild the image)")

    if config.spans > 1:
        # TFX 1.16's KubeflowV2 compiler builds only latest-artifact and latest-blessed-model resolvers,
        # not the SpanRangeStrategy of the window. Each run still reads the newest span.
        raise ValueError(f"--spans {config.spans}: a rolling window of spans does not compile for Kubeflow "
                         "with TFX 1.16 (its KubeflowV2 compiler has no span-range resolver); compile "
                         "without --spans: each run trains on the newest span")
    weights = config.train.weights
    if weights not in (None, "imagenet", "none"):
        weights = in_image(weights, "--weights")
    serving = config.serving_dir or f"{root.rstrip('/')}/serving"
    return dataclasses.replace(
        config, data=in_image(config.data, "--data"), schema_file=in_image(config.schema_file, "schema"),
        serving_dir=in_image(serving, "--serving-dir"), train=dataclasses.replace(config.train, weights=weights))


def compile_pipeline(config: RunConfig, output: Optional[str] = None, vertex: bool = False) -> dict:
    """Writes the compiled pipeline (KFP YAML, or with `vertex` the PipelineJob JSON); returns a summary."""
    from tfx import v1 as tfx

    from pipeline.pipeline import create_pipeline

    output = output or (VERTEX_PACKAGE if vertex else KFP_PACKAGE)
    if vertex != output.endswith(".json") or not output.endswith((".json", ".yaml", ".yml")):
        raise ValueError(f"{output}: a Vertex AI PipelineJob is written as .json, a KFP pipeline as .yaml")
    cluster = cluster_config(config)
    kubeflow = cluster.kubeflow
    # Beam's worker count is set per step below, from each step's CPUs.
    pipeline = create_pipeline(cluster, kubeflow.pipeline_root, _beam_args(1), runtime_parameters=True)
    parameters = {name: param for component in pipeline.components
                  for name, param in _runtime_parameters(component.exec_properties)}
    defaults = {name: param.default for name, param in parameters.items()}
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=kubeflow.image,
                                                                 use_pipeline_spec_2_1=True))
    job = runner.run(pipeline, parameter_values=defaults, write_out=False)

    spec = job["pipelineSpec"]
    # TFX declares run-time parameters without their defaults; KFP would then demand every one.
    for name, param in parameters.items():
        spec["root"]["inputDefinitions"]["parameters"][name].update(
            defaultValue=param.default, isOptional=True, description=param.description or "")
    # The YAML package carries no runtimeConfig: KFP reads the root from here unless a run names one.
    spec["defaultPipelineRoot"] = kubeflow.pipeline_root
    _set_resources(spec, kubeflow)
    text = json.dumps(job)
    if "tfx.orchestration.data_types" in text:  # a RuntimeParameter TFX compiled as a constant
        raise RuntimeError("a run-time parameter nested in a dict or proto was compiled as a constant")

    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w") as f:
        if vertex:
            json.dump(job, f, indent=1, sort_keys=True)
        else:
            f.write(f"# flowers pipeline: `flowers compile`, {spec['sdkVersion']}, schema {spec['schemaVersion']}\n")
            yaml.safe_dump(spec, f, sort_keys=True)
    return {"package": output, "format": "vertex-pipeline-job" if vertex else "kfp-pipeline-spec",
            "schema_version": spec["schemaVersion"], "image": kubeflow.image,
            "pipeline_root": kubeflow.pipeline_root, "tasks": sorted(spec["root"]["dag"]["tasks"]),
            "parameters": defaults}


def _runtime_parameters(exec_properties: dict):
    from tfx.orchestration import data_types

    for value in exec_properties.values():
        if isinstance(value, data_types.RuntimeParameter):
            yield value.name, value


def _beam_args(workers: int) -> list[str]:
    return ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]


def _set_resources(spec: dict, kubeflow: KubeflowConfig) -> None:
    """Each container step's limits from the config, and as many Beam workers as it has cores.

    Done on the compiled spec rather than with TFX's `with_platform_config`: TFX 1.16 drops the
    platform config of a FileBasedExampleGen (ImportExampleGen), so one place sets every step.
    """
    for task_name, task in spec["root"]["dag"]["tasks"].items():
        component = spec["components"][task["componentRef"]["name"]]
        executor = spec["deploymentSpec"]["executors"][component["executorLabel"]]
        if "container" not in executor:  # the resolver tasks run no container
            continue
        resources = kubeflow.resources_for(task_name)
        container = executor["container"]
        container["resources"] = resource_spec(resources)
        workers = max(1, int(resources.cpu or 1))
        container["args"] = [f"--direct_num_workers={workers}" if arg.startswith("--direct_num_workers=") else arg
                             for arg in container.get("args", [])]


def resource_spec(resources: Resources) -> dict:
    """The container's `resources` in the spec. Both spellings: the numeric fields are what TFX and
    Vertex AI read, the string ones what KFP 2.x backends read (and what kfp 2.10 itself writes)."""
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    spec = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec()
    if resources.cpu:
        spec.cpu_limit = resources.cpu
        spec.resource_cpu_limit = f"{resources.cpu:g}"
    if resources.memory_gb:
        spec.memory_limit = resources.memory_gb
        spec.resource_memory_limit = f"{resources.memory_gb:g}G"
    if resources.accelerator and resources.accelerator_count:
        accelerator = spec.accelerator
        accelerator.type = accelerator.resource_type = resources.accelerator
        accelerator.count = resources.accelerator_count
        accelerator.resource_count = str(resources.accelerator_count)
    return json_format.MessageToDict(spec)


# ------------------------------------------------------------------------------------ run values


def compiled_parameters(package: str) -> dict[str, Any]:
    """The run-time parameters a compiled package declares, with their defaults."""
    if not os.path.exists(package):
        raise FileNotFoundError(f"no compiled pipeline at {package}: run `flowers compile` first")
    with open(package) as f:
        document = json.load(f) if package.endswith(".json") else yaml.safe_load(f)
    spec = document.get("pipelineSpec", document)
    declared = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    return {name: body.get("defaultValue") for name, body in declared.items()}


def parameter_values(package: str, data: Optional[str] = None, epochs: Optional[int] = None,
                     model: Optional[str] = None, min_accuracy: Optional[float] = None) -> dict[str, str]:
    """The run-time parameters a run changes (the rest keep the compiled defaults).

    Epochs and model live in the Trainer's JSON config, the accuracy floor in the EvalConfig's: the
    compiled document is edited, so its other settings stay as compiled.
    """
    defaults = compiled_parameters(package)
    values = {}
    if data is not None:
        if "://" not in data and not data.startswith(IMAGE_PROJECT_DIR + "/"):
            raise ValueError(f"--data {data} is a path on this machine; a run needs a gs:// (or other remote) location")
        values[DATA_PARAM] = data.rstrip("/")
    if epochs is not None or model is not None:
        train = json.loads(defaults[TRAINER_PARAM])
        if model is not None and model != train["model"]:
            train.update(model=model, weights=None)  # compiled weights belong to the compiled model
        if epochs is not None:
            train["epochs"] = epochs
        values[TRAINER_PARAM] = json.dumps(train, sort_keys=True)
    if min_accuracy is not None:
        import tensorflow_model_analysis as tfma
        from google.protobuf import json_format

        from components.evaluation import accuracy_gate

        evaluation = json_format.Parse(defaults[EVAL_PARAM], tfma.EvalConfig())
        accuracy_gate(evaluation).value_threshold.lower_bound.value = min_accuracy
        values[EVAL_PARAM] = json_format.MessageToJson(evaluation, indent=None)
    return values


def check_cron(cron: str, vertex: bool = False) -> str:
    """KFP's cron has six fields, seconds first; Vertex AI's has the usual five (TZ= prefix allowed)."""
    tokens = cron.split()
    prefix = tokens[:1] if vertex and tokens and tokens[0].startswith(("TZ=", "CRON_TZ=")) else []
    fields = tokens[len(prefix):]
    if vertex:
        wanted, name, example = 5, "Vertex AI cron has five fields (no seconds)", "0 3 * * *"
    else:
        wanted, name, example = 6, "KFP cron has six fields (seconds first)", "0 0 3 * * *"
    if len(fields) == wanted:
        bad = [field for field in fields if not re.fullmatch(r"[0-9A-Za-z*?/,#\-]+", field)]
        if bad:
            raise CronError(f"{name}: {bad[0]!r} is not a cron field in {cron!r}")
        return cron
    if not vertex and len(fields) == 5:  # the usual unix cron: add the seconds
        raise CronError(f'{name}: did you mean "{" ".join(["0", *fields])}"?')
    if vertex and len(fields) == 6:  # KFP's: drop the seconds
        raise CronError(f'{name}: did you mean "{" ".join(prefix + fields[1:])}"?')
    raise CronError(f'{name}, e.g. "{example}" for 03:00 every day; got {len(fields)} in {cron!r}')


# ----------------------------------------------------------------------------------- KFP server


def kfp_client(host: Optional[str] = None, namespace: Optional[str] = None):
    """kfp.Client by KFP's own conventions: host from --host or KF_PIPELINES_ENDPOINT, IAP/OAuth
    client ids from their KF_PIPELINES_* variables, a bearer token from the file that
    KF_PIPELINES_SA_TOKEN_PATH names, else kube config. No secret is passed on a command line."""
    import kfp

    kwargs = {}
    if os.environ.get(KFP_TOKEN_PATH_ENV):
        kwargs["credentials"] = kfp.client.ServiceAccountTokenVolumeCredentials()
    return kfp.Client(host=host, namespace=namespace or "kubeflow", **kwargs)


def submit(package: str, host: Optional[str] = None, experiment: str = DEFAULT_EXPERIMENT,
           run_name: Optional[str] = None, values: Optional[dict] = None, pipeline_root: Optional[str] = None,
           namespace: Optional[str] = None, service_account: Optional[str] = None) -> dict:
    """One run of the compiled package on a KFP server."""
    values = values or {}
    client = kfp_client(host, namespace)
    result = client.create_run_from_pipeline_package(
        package, arguments=values, run_name=run_name or _stamped("flowers"), experiment_name=experiment,
        namespace=namespace, pipeline_root=pipeline_root, service_account=service_account)
    return {"run_id": result.run_id, "experiment": experiment, "parameters": values}


def schedule(package: str, cron: str, host: Optional[str] = None, experiment: str = DEFAULT_EXPERIMENT,
             name: Optional[str] = None, values: Optional[dict] = None, pipeline_root: Optional[str] = None,
             namespace: Optional[str] = None, service_account: Optional[str] = None) -> dict:
    """Uploads the package (a new version when the pipeline exists) and runs it on `cron`: one run
    at a time, and no catch-up of runs missed while the schedule was paused."""
    check_cron(cron)
    client = kfp_client(host, namespace)
    experiment_id = client.create_experiment(experiment, namespace=namespace).experiment_id
    pipeline_name = _pipeline_name(package)
    pipeline_id = client.get_pipeline_id(pipeline_name)
    if pipeline_id is None:
        pipeline_id = client.upload_pipeline(package, pipeline_name, namespace=namespace).pipeline_id
        version_id = client.list_pipeline_versions(pipeline_id, page_size=1).pipeline_versions[0].pipeline_version_id
    else:
        version_id = client.upload_pipeline_version(package, _stamped(pipeline_name),
                                                    pipeline_id=pipeline_id).pipeline_version_id
    recurring = client.create_recurring_run(
        experiment_id, name or f"{pipeline_name} {cron}", cron_expression=cron, max_concurrency=1,
        no_catchup=True, params=values or {}, pipeline_id=pipeline_id, version_id=version_id,
        pipeline_root=pipeline_root, service_account=service_account)
    return {"recurring_run_id": recurring.recurring_run_id, "pipeline_id": pipeline_id,
            "version_id": version_id, "experiment_id": experiment_id, "cron": cron}


def _pipeline_name(package: str) -> str:
    with open(package) as f:
        return yaml.safe_load(f)["pipelineInfo"]["name"]


def _stamped(name: str) -> str:
    return f"{name} {time.strftime('%Y-%m-%d %H-%M-%S')}"


# ------------------------------------------------------------------------------------ Vertex AI


def _vertex_job(package: str, values: Optional[dict], pipeline_root: Optional[str], project: Optional[str],
                region: Optional[str], display_name: Optional[str]):
    """aiplatform.PipelineJob from the compiled JSON; project and region from the flags or the
    environment and gcloud defaults (aiplatform's own conventions)."""
    from google.cloud import aiplatform

    if not os.path.exists(package):
        raise FileNotFoundError(f"no compiled pipeline at {package}: run `flowers compile --vertex` first")
    return aiplatform.PipelineJob(display_name=display_name or _stamped("flowers"), template_path=package,
                                  pipeline_root=pipeline_root, parameter_values=values or {},
                                  project=project, location=region)


def submit_vertex(package: str, values: Optional[dict] = None, experiment: Optional[str] = None,
                  run_name: Optional[str] = None, pipeline_root: Optional[str] = None,
                  project: Optional[str] = None, region: Optional[str] = None,
                  service_account: Optional[str] = None) -> dict:
    job = _vertex_job(package, values, pipeline_root, project, region, run_name)
    job.submit(service_account=service_account, experiment=experiment)
    return {"pipeline_job": job.resource_name, "parameters": values or {}}


def schedule_vertex(package: str, cron: str, values: Optional[dict] = None, name: Optional[str] = None,
                    pipeline_root: Optional[str] = None, project: Optional[str] = None,
                    region: Optional[str] = None, service_account: Optional[str] = None) -> dict:
    """A Vertex AI schedule, one run at a time. Vertex never backfills: missed runs are only
    caught up when a paused schedule is resumed with catch_up=True."""
    from google.cloud import aiplatform

    check_cron(cron, vertex=True)
    job = _vertex_job(package, values, pipeline_root, project, region, None)
    schedule_ = aiplatform.PipelineJobSchedule(pipeline_job=job, display_name=name or f"flowers {cron}",
                                               project=project, location=region)
    schedule_.create(cron=cron, max_concurrent_run_count=1, service_account=service_account)
    return {"schedule": schedule_.resource_name, "cron": cron}
