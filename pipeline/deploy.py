"""Submits and schedules a compiled package (pipeline/kubeflow.py) on a Kubeflow Pipelines server or
Vertex AI Pipelines, with the run-time parameters a run changes."""
from __future__ import annotations

import json
import os
import re
import time
from typing import Any, Optional

from pipeline.config import ACCEPT_DRIFT_PARAM, DATA_PARAM, EVAL_PARAM, TRAINER_PARAM
from pipeline.kubeflow import IMAGE_PROJECT_DIR, load_package

DEFAULT_EXPERIMENT = "flowers"
# KFP's own convention for a file holding a bearer token (kfp.client.ServiceAccountTokenVolumeCredentials).
KFP_TOKEN_PATH_ENV = "KF_PIPELINES_SA_TOKEN_PATH"


class CronError(ValueError):
    """A cron expression in the wrong dialect; the message shows the fix."""


# ------------------------------------------------------------------------------------ run values


def compiled_parameters(package: str) -> dict[str, Any]:
    """The run-time parameters a compiled package declares, with their defaults."""
    spec, _, _ = load_package(package)
    declared = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    return {name: body.get("defaultValue") for name, body in declared.items()}


def parameter_values(package: str, data: Optional[str] = None, epochs: Optional[int] = None,
                     model: Optional[str] = None, min_accuracy: Optional[float] = None,
                     accept_drift: bool = False) -> dict:
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
    if accept_drift:
        values[ACCEPT_DRIFT_PARAM] = 1
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
    return load_package(package)[0]["pipelineInfo"]["name"]


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
