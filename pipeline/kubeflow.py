"""Compiles the pipeline for Kubeflow Pipelines or Vertex AI Pipelines (pipeline/deploy.py submits
and schedules the package; pipeline/run_package.py runs it here, step by step).

The same `create_pipeline(config)` as `flowers run`, compiled by TFX's KubeflowV2DagRunner into a
pipeline spec (schema 2.1): YAML for KFP, or a PipelineJob JSON for Vertex AI. Every step is a
container (an open-source KFP backend runs nothing else) of the Dockerfile's image, which holds
the project's code (the Transform and Trainer modules are named by module path), so nothing is
uploaded at compile time and the spec names no file of this machine. Each step's command is
components/entrypoint.py, which mends what a KFP backend hands TFX's entrypoint, then runs it.
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Optional

import yaml

from pipeline.config import KubeflowConfig, Resources, RunConfig

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The Dockerfile's WORKDIR. Only data/ of the checkout travels in the image with the code.
IMAGE_PROJECT_DIR = "/flowers"
IMAGE_DATA_DIRS = ("data",)
KFP_PACKAGE = "flowers_pipeline.yaml"
VERTEX_PACKAGE = "flowers_pipeline.json"
STEP_COMMAND = ["python", "-m", "components.entrypoint"]
# The executor kinds an open-source KFP 2.x backend runs (backend/src/v2/compiler: any other is
# "not implemented"); Vertex AI runs them too.
RUNNABLE_EXECUTORS = ("container", "importer")


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
        # The window is a resolver (SpanRangeStrategy): TFX 1.16's KubeflowV2 compiler cannot build it,
        # and an open-source KFP backend runs no resolver. Each run still reads the newest span.
        raise ValueError(f"--spans {config.spans}: a rolling window of spans does not compile for Kubeflow "
                         "(it is a resolver, which TFX 1.16's KubeflowV2 compiler cannot build for span "
                         "ranges and a KFP backend would not run); compile without --spans: each run "
                         "trains on the newest span")
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
    # --beam-arg flags go to every Beam step as given (e.g. DataflowRunner); without them each step runs
    # Beam's DirectRunner with a worker per CPU of its container, set per step below.
    pipeline = create_pipeline(cluster, kubeflow.pipeline_root, list(config.beam_args) or _beam_args(1),
                               runtime_parameters=True)
    parameters = {name: param for component in pipeline.components
                  for name, param in _runtime_parameters(component.exec_properties)}
    defaults = {name: param.default for name, param in parameters.items()}
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
            default_image=kubeflow.image, default_commands=STEP_COMMAND, use_pipeline_spec_2_1=True))
    job = runner.run(pipeline, parameter_values=defaults, write_out=False)

    spec = job["pipelineSpec"]
    check_runnable(spec)
    # TFX declares run-time parameters without their defaults; KFP would then demand every one.
    for name, param in parameters.items():
        spec["root"]["inputDefinitions"]["parameters"][name].update(
            defaultValue=param.default, isOptional=True, description=param.description or "")
    # The YAML package carries no runtimeConfig: KFP reads the root from here unless a run names one.
    spec["defaultPipelineRoot"] = kubeflow.pipeline_root
    _set_resources(spec, kubeflow, beam_workers_per_cpu=not config.beam_args)
    _cache_only_what_the_key_covers(spec, pipeline)
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


def load_package(path: str) -> tuple[dict, dict, str]:
    """(pipeline spec, run-time values a PipelineJob carries, compiled pipeline root) of a KFP YAML
    or a Vertex AI PipelineJob JSON."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no compiled pipeline at {path}: run `flowers compile` first")
    with open(path) as f:
        document = json.load(f) if path.endswith(".json") else yaml.safe_load(f)
    if "pipelineSpec" in document:
        runtime = document.get("runtimeConfig", {})
        root = runtime.get("gcsOutputDirectory") or document["pipelineSpec"].get("defaultPipelineRoot", "")
        return document["pipelineSpec"], runtime.get("parameterValues", {}), root
    return document, {}, document.get("defaultPipelineRoot", "")


def check_runnable(spec: dict) -> None:
    """Raises if an executor is of a kind a KFP backend refuses (a resolver, say)."""
    refused = sorted(label for label, executor in spec["deploymentSpec"]["executors"].items()
                     if not set(executor) & set(RUNNABLE_EXECUTORS))
    if refused:
        raise ValueError(f"executors {', '.join(refused)} are neither container nor importer: an open-source "
                         "Kubeflow Pipelines backend refuses to run them")


def _cache_only_what_the_key_covers(spec: dict, pipeline) -> None:
    """Caching off for the steps whose result depends on more than KFP's cache key (parameters,
    input artifacts, image, command): ImportExampleGen reads the files under `data`, Baseline the
    serving root. Cached, every scheduled run would get the first run's data and baseline."""
    from tfx.components.example_gen.component import FileBasedExampleGen

    from components.baseline import Baseline

    outside = {c.id for c in pipeline.components if isinstance(c, (FileBasedExampleGen, Baseline))}
    for name, task in spec["root"]["dag"]["tasks"].items():
        if name in outside:
            task.pop("cachingOptions", None)  # as TFX writes an uncached task (the proto's default)


def _runtime_parameters(exec_properties: dict):
    from tfx.orchestration import data_types

    for value in exec_properties.values():
        if isinstance(value, data_types.RuntimeParameter):
            yield value.name, value


def _beam_args(workers: int) -> list[str]:
    """Each Beam step's DirectRunner: a worker process per core of its container, and no package of
    TFX built for them (the container has TFX; pipeline.local.NO_WORKER_PACKAGE)."""
    from pipeline.local import NO_WORKER_PACKAGE

    return ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}", NO_WORKER_PACKAGE]


def _set_resources(spec: dict, kubeflow: KubeflowConfig, beam_workers_per_cpu: bool = True) -> None:
    """Each container step's limits from the config, and (unless the Beam args were given) as many
    DirectRunner workers as it has cores.

    Done on the compiled spec rather than with TFX's `with_platform_config`: TFX 1.16 drops the
    platform config of a FileBasedExampleGen (ImportExampleGen), so one place sets every step.
    """
    for task_name, task in spec["root"]["dag"]["tasks"].items():
        component = spec["components"][task["componentRef"]["name"]]
        executor = spec["deploymentSpec"]["executors"][component["executorLabel"]]
        if "container" not in executor:  # an importer runs no container
            continue
        resources = kubeflow.resources_for(task_name)
        container = executor["container"]
        container["resources"] = resource_spec(resources)
        if not beam_workers_per_cpu:
            continue
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
