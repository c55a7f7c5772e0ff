"""Pusher executor that publishes a version atomically and never overwrites one.

TFX's own Pusher copies files straight into SERVING_DIR/<unix time>/, so a model server polling
that folder can see a half-copied version, and a second push in the same second is skipped.
This one lets TFX copy into a hidden staging folder beside the versions, then renames the
finished folder into place (one atomic rename on a local or POSIX file system), taking the next
free version number if that second is already taken. A model byte for byte the same as the newest
pushed version is not pushed again (a rerun with nothing changed): the PushedModel says `pushed` 0
and names that version in `identical_to`.

`Pusher` is TFX's Pusher with one more, optional input: a TFLiteExport's models. The ones it
accepted go into the staged version beside the SavedModel, so they are published (or found
identical) with it, and never without it; the PushedModel lists them in `tflite_pushed`.

Its other optional input is the DriftStatistics of the run's span
(components/drift_gate.py), stored in the version folder as drift.STATISTICS_FILE, so that later
runs compare their data with the data the served model was trained on.
"""
import logging
import os
import uuid

from tfx.components.pusher import executor as tfx_pusher
from tfx.dsl.components.base import base_component, executor_spec
from tfx.dsl.io import fileio
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, channel, component_spec, standard_artifacts, standard_component_specs
from tfx.utils import json_utils, proto_utils

from components import drift, tflite_export
from components.baseline import newest_version  # the one rule for the newest complete version
from components.drift_gate import DriftStatistics, statistics_file

DRIFT_STATISTICS = "drift_statistics"  # the optional input: the run's DriftStatistics
STAGING_PREFIX = ".staging-"  # not a number: model servers ignore it as a version
IDENTICAL_TO = "identical_to"  # PushedModel property: the pushed version this model equals
TFLITE = "tflite"  # the optional input: TFLiteExport's models
TFLITE_PUSHED = "tflite_pushed"  # PushedModel property: the TFLite files pushed, comma-separated
log = logging.getLogger(__name__)


def free_version(base: str, version: int) -> str:
    while fileio.exists(os.path.join(base, str(version))):
        version += 1
    return os.path.join(base, str(version))


def remove_stale_staging(base: str) -> "list[str]":
    """Removes the staging folders that interrupted pushes left in `base`; returns them. Only for a
    caller sure that no push is under way (a local run holding the output lock)."""
    if not fileio.isdir(base):
        return []
    stale = sorted(os.path.join(base, d.rstrip("/")) for d in fileio.listdir(base) if d.startswith(STAGING_PREFIX))
    for folder in stale:
        fileio.rmtree(folder)
    return stale


def _files(root: str) -> "dict[str, str]":
    """{path relative to root: path} of every file under root."""
    return {os.path.relpath(os.path.join(folder, name), root): os.path.join(folder, name)
            for folder, _, names in fileio.walk(root) for name in names}


def _same_bytes(a: str, b: str) -> bool:
    with fileio.open(a, "rb") as file_a, fileio.open(b, "rb") as file_b:
        while True:
            chunk = file_a.read(1 << 20)
            if chunk != file_b.read(1 << 20):
                return False
            if not chunk:
                return True


def same_model(a: str, b: str) -> bool:
    """True when the two folders hold the same model: the same files with the same bytes, but for
    the drift statistics kept beside it (data a model byte for byte the same was trained on)."""
    files_a, files_b = _files(a), _files(b)
    for files in (files_a, files_b):
        files.pop(drift.STATISTICS_FILE, None)
    return files_a.keys() == files_b.keys() and all(_same_bytes(files_a[k], files_b[k]) for k in files_a)


def _stage_tflite(input_dict, staged: str) -> "list[str]":
    """Copies the accepted TFLite files (if the input is wired) into the staged version; returns them."""
    if not input_dict.get(TFLITE):
        return []
    uri = artifact_utils.get_single_instance(input_dict[TFLITE]).uri
    files = tflite_export.accepted_files(uri)
    for name in files:
        fileio.copy(os.path.join(uri, name), os.path.join(staged, name))
    return files


class Executor(tfx_pusher.Executor):
    def Do(self, input_dict, output_dict, exec_properties):
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(exec_properties["push_destination"], destination)
        base = destination.filesystem.base_directory
        staging = os.path.join(base, STAGING_PREFIX + uuid.uuid4().hex)
        destination.filesystem.base_directory = staging
        staged_properties = dict(exec_properties, push_destination=proto_utils.proto_to_json(destination))
        try:
            super().Do(input_dict, output_dict, staged_properties)
            pushed = artifact_utils.get_single_instance(output_dict["pushed_model"])
            if pushed.get_int_custom_property("pushed"):
                version = pushed.get_string_custom_property("pushed_version")
                staged = os.path.join(staging, version)
                # TFX copies a missing or partial model without complaint: never publish one.
                if not fileio.exists(os.path.join(staged, "saved_model.pb")):
                    raise RuntimeError(f"the model to push has no saved_model.pb ({self.GetModelPath(input_dict)}); "
                                       "nothing was pushed")
                pushed.set_string_custom_property(TFLITE_PUSHED, ",".join(_stage_tflite(input_dict, staged)))
                if input_dict.get(DRIFT_STATISTICS):
                    statistics = artifact_utils.get_single_instance(input_dict[DRIFT_STATISTICS])
                    fileio.copy(statistics_file(statistics.uri), os.path.join(staged, drift.STATISTICS_FILE))
                newest = newest_version(base)
                if newest and same_model(staged, newest):
                    log.info("The model is identical to the newest pushed version %s: not pushed again", newest)
                    pushed.set_int_custom_property("pushed", 0)
                    pushed.set_string_custom_property(IDENTICAL_TO, newest)
                    final = newest
                else:
                    final = free_version(base, int(version))
                    fileio.rename(staged, final)
                pushed.set_string_custom_property("pushed_destination", final)
                pushed.set_string_custom_property("pushed_version", os.path.basename(final))
        finally:
            if fileio.exists(staging):
                fileio.rmtree(staging)


class PusherSpec(standard_component_specs.PusherSpec):
    INPUTS = {**standard_component_specs.PusherSpec.INPUTS,
              TFLITE: component_spec.ChannelParameter(type=standard_artifacts.Model, optional=True),
              DRIFT_STATISTICS: component_spec.ChannelParameter(type=DriftStatistics, optional=True)}


class Pusher(base_component.BaseComponent):
    """Pushes a blessed model to a file system with Executor; with `tflite`, its accepted TFLite
    models too; with `drift_statistics`, the statistics of the data it was trained on."""

    SPEC_CLASS = PusherSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, model, model_blessing, push_destination: pusher_pb2.PushDestination, tflite=None,
                 drift_statistics=None):
        super().__init__(spec=PusherSpec(model=model, model_blessing=model_blessing, tflite=tflite,
                                         drift_statistics=drift_statistics, push_destination=push_destination,
                                         custom_config=json_utils.dumps(None),
                                         pushed_model=channel.Channel(type=standard_artifacts.PushedModel)))
