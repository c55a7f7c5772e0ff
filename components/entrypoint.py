"""The command of every compiled step (`python -m components.entrypoint ARGS`): TFX's Kubeflow V2
entrypoint, run after mending what an open-source Kubeflow Pipelines 2.x backend hands a step
differently from Vertex AI. On Vertex AI the first and last change nothing.

- Input artifact types. KFP's driver passes each input artifact with an empty instance schema
  (it keeps no schema with an artifact: backend/src/v2/metadata/client.go,
  GetOutputArtifactsByExecutionId), or a `system.*` title; TFX finds the artifact's class by
  that title and fails (tensorflow/tfx#7768). The step's own input definitions, which the
  compiled command carries (--json_serialized_inputs_spec_args), give the type instead.
- The project's own artifact types. TFX's entrypoint imports a custom artifact class by its schema
  title, which is its TYPE_NAME ("flowers.DriftStatistics"), not an import path; the title is
  replaced by the class's import path (on Vertex AI too: TFX itself would fail there).
- Directory markers. TensorFlow's GCS file system writes zero-byte `dir/` objects; KFP's launcher
  downloads them as files before the next step starts, and then cannot create the folders below
  them (kubeflow/pipelines#13476). They are deleted from this step's outputs once it succeeded.
"""
from __future__ import annotations

import importlib
import logging
import runpy
import sys

import components  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow loads)

TFX_ENTRYPOINT = "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"
# Where the project's own artifact classes are. A compiled spec names such a class by its TYPE_NAME
# ("flowers.DriftStatistics": KFP's schema titles allow one dot), which TFX's entrypoint then imports
# as if it were the class's module path; the mend below names the class by its real path.
ARTIFACT_MODULES = ("components.drift_gate", "components.record_check")
INVOCATION_FLAG = "--json_serialized_invocation_args"
INPUTS_SPEC_FLAG = "--json_serialized_inputs_spec_args"
log = logging.getLogger(__name__)


def _has_class(type_schema) -> bool:
    """Whether TFX can find an artifact class from this type: a `tfx.*` (or custom) title."""
    kind = type_schema.WhichOneof("kind")
    if kind == "instance_schema":
        import yaml

        schema = yaml.safe_load(type_schema.instance_schema)
        title = schema.get("title", "") if isinstance(schema, dict) else ""
    else:
        title = type_schema.schema_title if kind == "schema_title" else ""
    return bool(title) and not title.startswith("system.")


def project_artifact_paths() -> dict[str, str]:
    """{TYPE_NAME: import path} of the project's own artifact classes."""
    from tfx.types import artifact

    classes = [value for module in ARTIFACT_MODULES for value in vars(importlib.import_module(module)).values()
               if isinstance(value, type) and issubclass(value, artifact.Artifact) and value.__module__ == module]
    return {cls.TYPE_NAME: f"{cls.__module__}.{cls.__name__}" for cls in classes}


def _name_by_path(type_schema, paths: dict[str, str]) -> None:
    """A project artifact type's title → its class's import path, which TFX imports."""
    import yaml

    if type_schema.WhichOneof("kind") == "instance_schema":
        schema = yaml.safe_load(type_schema.instance_schema)
        if isinstance(schema, dict) and schema.get("title") in paths:
            schema["title"] = paths[schema["title"]]
            type_schema.instance_schema = yaml.safe_dump(schema, sort_keys=False)
    elif type_schema.WhichOneof("kind") == "schema_title" and type_schema.schema_title in paths:
        type_schema.schema_title = paths[type_schema.schema_title]


def mend_executor_input(invocation: str, inputs_spec: str | None) -> tuple[str, list[str]]:
    """(the executor input JSON with each untyped input artifact typed as the step declares it and
    the project's artifact types named by import path, the URIs of the step's output artifacts)."""
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    executor_input = json_format.Parse(invocation, pipeline_spec_pb2.ExecutorInput(), ignore_unknown_fields=True)
    declared = pipeline_spec_pb2.ComponentInputsSpec()
    if inputs_spec:
        json_format.Parse(inputs_spec, declared, ignore_unknown_fields=True)
    for key, artifacts in executor_input.inputs.artifacts.items():
        for artifact in artifacts.artifacts:
            if key in declared.artifacts and not _has_class(artifact.type):
                artifact.type.CopyFrom(declared.artifacts[key].artifact_type)
    paths = project_artifact_paths()
    for artifacts in [*executor_input.inputs.artifacts.values(), *executor_input.outputs.artifacts.values()]:
        for artifact in artifacts.artifacts:
            _name_by_path(artifact.type, paths)
    outputs = [a.uri for artifacts in executor_input.outputs.artifacts.values() for a in artifacts.artifacts]
    return json_format.MessageToJson(executor_input), outputs


def delete_directory_markers(uris: list[str]) -> list[str]:
    """Deletes the zero-byte `.../` objects in and under each gs:// URI; returns their names."""
    remote = [uri for uri in uris if uri.startswith("gs://")]
    if not remote:
        return []
    from google.cloud import storage

    client, deleted = storage.Client(), []
    for uri in remote:
        bucket, _, path = uri[len("gs://"):].partition("/")
        prefix = path.rstrip("/") + "/" if path.strip("/") else ""
        for blob in client.list_blobs(bucket, prefix=prefix):
            if blob.name.endswith("/") and blob.size == 0:
                blob.delete()
                deleted.append(f"gs://{bucket}/{blob.name}")
    return deleted


def main(argv: list[str]) -> None:
    """Mends `argv`'s executor input, then runs TFX's entrypoint as `python -m` would run it."""
    argv, outputs = list(argv), []
    if INVOCATION_FLAG in argv[:-1]:  # else TFX's own flag parsing says what is missing
        invocation = argv.index(INVOCATION_FLAG) + 1
        spec = argv[argv.index(INPUTS_SPEC_FLAG) + 1] if INPUTS_SPEC_FLAG in argv[:-1] else None
        argv[invocation], outputs = mend_executor_input(argv[invocation], spec)
    sys.argv = [sys.argv[0], *argv]
    try:
        runpy.run_module(TFX_ENTRYPOINT, run_name="__main__", alter_sys=True)
    except SystemExit as done:  # absl's app.run always exits
        if done.code not in (None, 0):
            raise
    try:
        for name in delete_directory_markers(outputs):
            log.info("Deleted the directory marker %s", name)
    except Exception as error:  # the step itself succeeded; the next one may not download its outputs
        log.warning("Could not delete the zero-byte directory markers under %s (%s): KFP's launcher may "
                    "fail to download them in the next step (kubeflow/pipelines#13476)", outputs, error)


if __name__ == "__main__":
    main(sys.argv[1:])
