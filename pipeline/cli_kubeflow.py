"""`flowers compile | submit | schedule | run-package`: the Kubeflow Pipelines / Vertex AI side of the
command."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from models import MODEL_NAMES
from pipeline.flags import add_run_flags, config_from_args, default_config, fraction, positive_int


def _accelerator(text: str) -> tuple[str, int]:
    kind, _, count = text.partition(":")
    if not kind:
        raise argparse.ArgumentTypeError(f"{text!r}: expected TYPE[:COUNT], e.g. nvidia.com/gpu:1")
    return kind, positive_int(1)(count or "1")


def _kubeflow_config(args: argparse.Namespace):
    """The compile flags over KubeflowConfig's defaults (a flag left out keeps the default)."""
    from pipeline.config import KubeflowConfig

    defaults = KubeflowConfig()
    table = dict(defaults.resources)

    def override(name: str, **values):
        values = {k: v for k, v in values.items() if v is not None}
        table[name] = dataclasses.replace(table[name], **values)

    override("default", cpu=args.cpu, memory_gb=args.memory)
    accelerator, count = args.trainer_accelerator or (None, None)
    override("Trainer", cpu=args.trainer_cpu, memory_gb=args.trainer_memory, accelerator=accelerator,
             accelerator_count=count)
    return KubeflowConfig(image=args.image or defaults.image, pipeline_root=args.pipeline_root,
                          resources=tuple(table.items()))


def cmd_compile(args: argparse.Namespace) -> int:
    from pipeline import kubeflow

    config = dataclasses.replace(config_from_args(args), kubeflow=_kubeflow_config(args))
    result = kubeflow.compile_pipeline(config, args.package, vertex=args.vertex)
    print(f"Wrote {result['package']}: {result['format']} (schema {result['schema_version']}), "
          f"{len(result['tasks'])} tasks, image {result['image']}, pipeline root {result['pipeline_root']}")
    print(f"Run-time parameters: {', '.join(result['parameters'])}")
    print(f"Try it here, step by step, before deploying: flowers run-package {result['package']}"
          + (" --vertex" if args.vertex else ""))
    if args.json:
        print(json.dumps(result, sort_keys=True))
    return 0


def _package(args: argparse.Namespace) -> str:
    from pipeline import kubeflow

    return args.package or (kubeflow.VERTEX_PACKAGE if args.vertex else kubeflow.KFP_PACKAGE)


def _run_values(args: argparse.Namespace) -> dict:
    from pipeline import deploy

    return deploy.parameter_values(_package(args), data=args.data, epochs=args.epochs, model=args.model,
                                     min_accuracy=args.min_accuracy, accept_drift=getattr(args, "accept_drift", False))


def cmd_submit(args: argparse.Namespace) -> int:
    from pipeline import deploy

    if args.vertex:
        result = deploy.submit_vertex(_package(args), _run_values(args), experiment=args.experiment,
                                        run_name=args.run_name, pipeline_root=args.pipeline_root,
                                        project=args.project, region=args.region,
                                        service_account=args.service_account)
    else:
        result = deploy.submit(_package(args), args.host, experiment=args.experiment or deploy.DEFAULT_EXPERIMENT,
                                 run_name=args.run_name, values=_run_values(args), pipeline_root=args.pipeline_root,
                                 namespace=args.namespace, service_account=args.service_account)
    print(json.dumps(result, sort_keys=True))
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    from pipeline import deploy

    try:  # before any file or network: a wrong cron is a usage error
        deploy.check_cron(args.cron, vertex=args.vertex)
    except deploy.CronError as error:
        print(f"flowers schedule: error: {error}", file=sys.stderr)
        return 2
    if args.vertex:
        result = deploy.schedule_vertex(_package(args), args.cron, _run_values(args), name=args.name,
                                          pipeline_root=args.pipeline_root, project=args.project,
                                          region=args.region, service_account=args.service_account)
    else:
        result = deploy.schedule(_package(args), args.cron, args.host,
                                   experiment=args.experiment or deploy.DEFAULT_EXPERIMENT, name=args.name,
                                   values=_run_values(args), pipeline_root=args.pipeline_root,
                                   namespace=args.namespace, service_account=args.service_account)
    print(json.dumps(result, sort_keys=True))
    return 0


def cmd_run_package(args: argparse.Namespace) -> int:
    import logging

    from pipeline.cli import print_summary  # at call time: pipeline.cli imports this module
    from pipeline.run_package import parse_params, run_package

    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # TFMA's deprecation notes on reading the metrics

    summary = run_package(args.package, args.work, parse_params(args.param), vertex=args.vertex,
                          cache=not args.no_cache, beam_in_process=args.beam_in_process, parallel=args.parallel)
    print_summary(summary, args.json)
    return 0


def _add_server_flags(parser: argparse.ArgumentParser) -> None:
    """Where a compiled package goes, and the run-time parameters a run may change."""
    parser.add_argument("--package", help="compiled pipeline (default flowers_pipeline.yaml, "
                                          "or flowers_pipeline.json with --vertex)")
    parser.add_argument("--host", help="KFP API endpoint (default: $KF_PIPELINES_ENDPOINT, else in-cluster "
                                       "or kube config); a token file via $KF_PIPELINES_SA_TOKEN_PATH")
    parser.add_argument("--namespace", help="KFP namespace (multi-user deployments)")
    parser.add_argument("--experiment", help="experiment (default flowers)")
    parser.add_argument("--pipeline-root", help="override the compiled pipeline root for these runs")
    parser.add_argument("--service-account", help="Kubernetes (KFP) or Google (Vertex AI) service account")
    parser.add_argument("--vertex", action="store_true", help="Vertex AI Pipelines instead of a KFP server")
    parser.add_argument("--project", help="Vertex AI: Google Cloud project (default: gcloud's / $GOOGLE_CLOUD_PROJECT)")
    parser.add_argument("--region", help="Vertex AI: region (default: $GOOGLE_CLOUD_REGION, else us-central1)")
    overrides = parser.add_argument_group("run-time parameters (default: as compiled)")
    overrides.add_argument("--data", help="TFRecord directory, gs://...")
    overrides.add_argument("--epochs", type=positive_int(1))
    overrides.add_argument("--model", choices=MODEL_NAMES)
    overrides.add_argument("--min-accuracy", type=fraction)


def add_kubeflow_commands(sub) -> None:
    compile_ = sub.add_parser("compile", conflict_handler="resolve",  # its --output is the package
                              help="compile the pipeline for Kubeflow Pipelines (or Vertex AI with --vertex)")
    add_run_flags(compile_)
    compile_.add_argument("--output", dest="package",
                          help="compiled file (default flowers_pipeline.yaml, or .json with --vertex)")
    compile_.set_defaults(output=default_config().output)  # config_from_args reads it; unused on a cluster
    compile_.add_argument("--image", help="container image every step runs: the Dockerfile's, pushed "
                                          "(default flowers-tfx:latest)")
    compile_.add_argument("--pipeline-root", required=True,
                          help="where every step writes its artifacts, e.g. gs://BUCKET/flowers")
    compile_.add_argument("--vertex", action="store_true", help="write a Vertex AI PipelineJob JSON")
    compile_.add_argument("--cpu", type=float, help="CPU limit of each step not set below (default 2)")
    compile_.add_argument("--memory", type=float, help="memory limit in GB of each step not set below (default 8)")
    compile_.add_argument("--trainer-cpu", type=float, help="Trainer CPU limit (default 8)")
    compile_.add_argument("--trainer-memory", type=float, help="Trainer memory limit in GB (default 32)")
    compile_.add_argument("--trainer-accelerator", type=_accelerator, metavar="TYPE[:COUNT]",
                          help="Trainer GPU/TPU: nvidia.com/gpu:1 on KFP, NVIDIA_TESLA_T4:1 or TPU_V3:8 on Vertex AI")
    compile_.set_defaults(func=cmd_compile)

    submit = sub.add_parser("submit", help="start one run of the compiled pipeline on KFP (or Vertex AI)")
    _add_server_flags(submit)
    submit.add_argument("--run-name", help="run name (default: flowers and the time)")
    submit.add_argument("--accept-drift", action="store_true",
                        help="let this run train on a span that drifted from the served model's data past a "
                             "threshold (a run-time parameter; a schedule never accepts drift)")
    submit.set_defaults(func=cmd_submit)

    schedule = sub.add_parser("schedule", help="upload the compiled pipeline and run it on a cron schedule")
    _add_server_flags(schedule)
    schedule.add_argument("--cron", required=True,
                          help='KFP: six fields, seconds first ("0 0 3 * * *" = 03:00 daily); '
                               'Vertex AI: five ("0 3 * * *")')
    schedule.add_argument("--name", help="schedule name (default: flowers and the cron)")
    schedule.set_defaults(func=cmd_schedule)

    from pipeline.run_package import DEFAULT_PARALLEL, DEFAULT_WORK

    run_package = sub.add_parser(
        "run-package", help="run a compiled package here, step by step, as a KFP 2.x backend (or Vertex AI) would")
    run_package.add_argument("package", help="flowers_pipeline.yaml, or a Vertex AI PipelineJob .json")
    run_package.add_argument("--work", default=DEFAULT_WORK,
                             help="the run's folder: root/ replaces the compiled pipeline root (pushes land in "
                                  "root/serving), logs/, cache/ (default %(default)s)")
    run_package.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                             help="a run-time parameter (data, trainer_config, eval_config, accept_drift); data may be a "
                                  "folder of this machine")
    run_package.add_argument("--vertex", action="store_true",
                             help="hand the steps their input as Vertex AI does, running lifecycle hooks")
    run_package.add_argument("--no-cache", action="store_true", help="run every step, cached or not")
    run_package.add_argument("--beam-in-process", action="store_true",
                             help="run Beam in each step's own process instead of the compiled multi-processing "
                                  "workers (faster for small data on a small machine)")
    run_package.add_argument("--parallel", type=int, default=DEFAULT_PARALLEL, metavar="N",
                             help="steps run at once, each as soon as its upstream steps are done (default: this "
                                  "machine's cores, %(default)s; 1 runs them one by one)")
    run_package.add_argument("--json", action="store_true", help="print the summary as JSON on the last line")
    run_package.set_defaults(func=cmd_run_package)
