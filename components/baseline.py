"""Baseline: the model a new one must not fall behind, found by a container step.

The baseline is the newest complete version under the serving root. Only blessed models are
pushed there, whole (components/atomic_pusher.py), so it is the last blessed model that was
shipped, and what is actually served. The step copies it into its output Model artifact, laid
out as a Trainer's (Format-Serving/), which the Evaluator reads as `baseline_model`; with no
version yet it outputs a Model holding only a NO_BASELINE note, which the Evaluator
(components/evaluation.py) drops, judging the first model by the accuracy floor alone.

Being an ordinary container step, it runs wherever the pipeline runs: locally, on Vertex AI and
on an open-source Kubeflow Pipelines backend, which runs no resolver. Its result depends on the
serving root, which no cache key covers: `flowers run` has the driver below put the version found
into the key; the compiled package runs the step uncached (pipeline/kubeflow.py).
"""
from __future__ import annotations

import os
from typing import Optional

from tfx.dsl.components.base import base_component, base_driver, base_executor, executor_spec
from tfx.dsl.io import fileio
from tfx.orchestration import data_types_utils
from tfx.orchestration.portable import base_driver as portable_driver
from tfx.proto.orchestration import driver_output_pb2
from tfx.types import artifact_utils, channel, component_spec, standard_artifacts
from tfx.utils import io_utils, path_utils

SERVING_ROOT = "serving_root"
MODEL = "model"
# The version folder the baseline is copied from ("" for none): found by the driver in local runs,
# by the executor where no driver runs; recorded on the output as `copied_from`.
VERSION_DIR = "version_dir"
NO_BASELINE = "NO_BASELINE"
COPIED_FROM = "copied_from"  # custom property of the output: the version copied ("" for none)


def newest_version(serving_root: str) -> Optional[str]:
    """The newest complete version folder under a serving root (local or gs://), or None.

    Versions are numbered folders (unix times); complete ones hold a saved_model.pb.
    """
    if not fileio.isdir(serving_root):
        return None
    names = (name.rstrip("/") for name in fileio.listdir(serving_root))
    for version in sorted((name for name in names if name.isdigit()), key=int, reverse=True):
        path = os.path.join(serving_root, version)
        if fileio.exists(os.path.join(path, "saved_model.pb")):
            return path
    return None


def has_model(model: standard_artifacts.Model) -> bool:
    """Whether a Model artifact holds a SavedModel (a Baseline output may hold only its note)."""
    return fileio.exists(os.path.join(path_utils.serving_model_path(model.uri), "saved_model.pb"))


class Executor(base_executor.BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties):
        model = artifact_utils.get_single_instance(output_dict[MODEL])
        version = exec_properties.get(VERSION_DIR)
        if version is None:  # no driver ran (Kubeflow Pipelines, Vertex AI)
            version = newest_version(exec_properties[SERVING_ROOT]) or ""
        model.set_string_custom_property(COPIED_FROM, version)
        if version:
            io_utils.copy_dir(version, path_utils.serving_model_dir(model.uri))
            return
        fileio.makedirs(model.uri)
        io_utils.write_string_file(os.path.join(model.uri, NO_BASELINE),
                                   f"No model under {exec_properties[SERVING_ROOT]} when this run started.\n")


class Driver(base_driver.BaseDriver, portable_driver.BaseDriver):
    """`flowers run`'s driver: the version found joins the step's cache key, so a run after a new
    push copies the new version instead of reusing an earlier run's baseline."""

    def __init__(self, metadata_handle):
        base_driver.BaseDriver.__init__(self, metadata_handle)
        portable_driver.BaseDriver.__init__(self, metadata_handle)

    def run(self, execution_info) -> driver_output_pb2.DriverOutput:
        result = driver_output_pb2.DriverOutput()
        version = newest_version(execution_info.exec_properties[SERVING_ROOT]) or ""
        data_types_utils.set_metadata_value(result.exec_properties[VERSION_DIR], version)
        return result


class BaselineSpec(component_spec.ComponentSpec):
    PARAMETERS = {SERVING_ROOT: component_spec.ExecutionParameter(type=str)}
    INPUTS = {}
    OUTPUTS = {MODEL: component_spec.ChannelParameter(type=standard_artifacts.Model)}


class Baseline(base_component.BaseComponent):
    """Outputs the newest version under `serving_root` as a Model, or a Model with no SavedModel."""

    SPEC_CLASS = BaselineSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)
    DRIVER_CLASS = Driver

    def __init__(self, serving_root: str):
        super().__init__(spec=BaselineSpec(serving_root=serving_root,
                                           model=channel.Channel(type=standard_artifacts.Model)))
