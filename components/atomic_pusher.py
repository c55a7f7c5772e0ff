"""Pusher executor that publishes a version atomically and never overwrites one.

TFX's own Pusher copies files straight into SERVING_DIR/<unix time>/, so a model server polling
that folder can see a half-copied version, and a second push in the same second is skipped.
This one lets TFX copy into a hidden staging folder beside the versions, then renames the
finished folder into place (one atomic rename on a local or POSIX file system), taking the next
free version number if that second is already taken.
"""
import os
import uuid

from tfx.components.pusher import executor as tfx_pusher
from tfx.dsl.io import fileio
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils
from tfx.utils import proto_utils

STAGING_PREFIX = ".staging-"  # not a number: model servers ignore it as a version


def free_version(base: str, version: int) -> str:
    while fileio.exists(os.path.join(base, str(version))):
        version += 1
    return os.path.join(base, str(version))


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
                final = free_version(base, int(version))
                fileio.rename(staged, final)
                pushed.set_string_custom_property("pushed_destination", final)
                pushed.set_string_custom_property("pushed_version", os.path.basename(final))
        finally:
            if fileio.exists(staging):
                fileio.rmtree(staging)
