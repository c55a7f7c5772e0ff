"""ImportExampleGen that finds its span when no driver did, and cuts a validation split.

Span: TFX resolves ImportExampleGen's `{SPAN}` pattern and fingerprints the input files in its
driver: `flowers run` runs it before the executor, Vertex AI as the step's `preCacheCheck` hook.
An open-source Kubeflow Pipelines 2.x backend runs no hook, so there the executor gets the raw
pattern (`span-{SPAN}/...`, which matches no file). This executor then does what the driver does,
with TFX's own driver code, and records span, version and fingerprint on the output examples.

Splits: one folder of records is hash-split by TFX itself into the output config's splits (train,
validation, eval). Given train/ and eval/ folders are input splits, which TFX's executor keeps
as they are, refusing an output split config beside them. This executor takes that config too:
each output split named like an input split holds that input's records, and the others (the
validation split) are cut by hash from the first input split (train/), with their hash buckets
against that split's (7:1 by default: 1 train record in 8; eval's buckets count for nothing).
The hash is of the record's bytes, as in TFX's own split: a record always falls in the same
split, run after run.
"""
from __future__ import annotations

import bisect
import hashlib
import itertools
import logging
from typing import Any

import apache_beam as beam
from tfx.components.example_gen import driver, utils, write_split
from tfx.components.example_gen.import_example_gen import component, executor as import_executor
from tfx.components.util import examples_utils
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2
from tfx.types import artifact, artifact_utils, standard_component_specs
from tfx.utils import proto_utils

log = logging.getLogger(__name__)

# Beside TFX's exec properties while the executor runs: the output split config for `cut_splits`.
_CUT_CONFIG_KEY = "_cut_split_config"


def resolve_input(exec_properties: dict[str, Any], examples: artifact.Artifact) -> dict[str, Any]:
    """`exec_properties` with the span, version, fingerprint and span-resolved input patterns
    ImportExampleGen's driver computes, resolved here when no driver ran; they are also recorded
    on `examples`."""
    if utils.SPAN_PROPERTY_NAME not in exec_properties:
        # The driver's own resolution; it reads the files only (no metadata store is used).
        exec_properties = driver.FileBasedDriver(None).resolve_exec_properties(dict(exec_properties), None, None)
        log.info("No driver ran before this step: resolved span %s (version %s) of %s here, input %s",
                 exec_properties[utils.SPAN_PROPERTY_NAME], exec_properties[utils.VERSION_PROPERTY_NAME],
                 exec_properties[standard_component_specs.INPUT_BASE_KEY],
                 exec_properties[standard_component_specs.INPUT_CONFIG_KEY])
    # Vertex AI hands the driver's span back as a float; the artifact's properties are integers.
    resolved = dict(exec_properties)
    for name in (utils.SPAN_PROPERTY_NAME, utils.VERSION_PROPERTY_NAME):
        if resolved.get(name) is not None:
            resolved[name] = int(resolved[name])
    resolved.setdefault(utils.VERSION_PROPERTY_NAME, None)
    driver.update_output_artifact(resolved, examples.mlmd_artifact)
    return resolved


def cut_split_properties(exec_properties: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(the exec properties for TFX's side of the executor, the output split names).

    With several input splits and an output split config, TFX gets an empty output config (its
    splits are then the input splits) and the config travels under _CUT_CONFIG_KEY for
    `cut_splits`. Otherwise `exec_properties` itself: TFX's executor does it all."""
    input_config = proto_utils.json_to_proto(exec_properties[standard_component_specs.INPUT_CONFIG_KEY],
                                             example_gen_pb2.Input())
    output_config = proto_utils.json_to_proto(exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY],
                                              example_gen_pb2.Output())
    outputs = output_config.split_config.splits
    if len(input_config.splits) < 2 or not outputs:
        return exec_properties, utils.generate_output_split_names(input_config, output_config)
    inputs = [split.name for split in input_config.splits]
    if not all(name in {split.name for split in outputs} for name in inputs):
        raise ValueError(f"every input split ({', '.join(inputs)}) needs an output split of its name; "
                         f"the output splits are {', '.join(split.name for split in outputs)}")
    properties = {**exec_properties, standard_component_specs.OUTPUT_CONFIG_KEY: "{}",
                  _CUT_CONFIG_KEY: proto_utils.proto_to_json(output_config.split_config)}
    return properties, [split.name for split in outputs]


def cut_splits(splits: dict[str, beam.PCollection], split_config: example_gen_pb2.SplitConfig,
               source: str) -> dict[str, beam.PCollection]:
    """The input splits (by name) as the output splits of `split_config`: the input split `source`
    shared by hash among its own output split and those no input split is named after."""
    cut = [split for split in split_config.splits if split.name == source or split.name not in splits]
    bounds = list(itertools.accumulate(split.hash_buckets for split in cut))
    parts = splits[source] | f"CutSplit[{source}]" >> beam.Partition(_bucket, len(cut), bounds)
    return {**splits, **{split.name: part for split, part in zip(cut, parts)}}


def _bucket(record, partitions: int, bounds: list[int]) -> int:
    """The partition of one record: its bytes' SHA-256 among the cumulative hash buckets."""
    serialized = record if isinstance(record, bytes) else record.SerializeToString(deterministic=True)
    return bisect.bisect(bounds, int(hashlib.sha256(serialized).hexdigest(), 16) % bounds[-1])


class Executor(import_executor.Executor):
    """TFX's ImportExampleGen executor, plus span resolution and cut splits (see the module)."""

    def Do(self, input_dict, output_dict, exec_properties) -> None:
        examples = artifact_utils.get_single_instance(output_dict[standard_component_specs.EXAMPLES_KEY])
        exec_properties = resolve_input(exec_properties, examples)
        properties, split_names = cut_split_properties(exec_properties)
        if properties is exec_properties:
            super().Do(input_dict, output_dict, exec_properties)
        else:
            self._write_cut_splits(input_dict, output_dict, properties, split_names)

    def _write_cut_splits(self, input_dict, output_dict, properties: dict[str, Any], split_names: list[str]) -> None:
        """TFX's Do with the output splits named up front (its own names them after the input splits,
        and would find no folder for the cut ones): each split written with TFX's WriteSplit."""
        self._log_startup(input_dict, output_dict, properties)
        examples = artifact_utils.get_single_instance(output_dict[standard_component_specs.EXAMPLES_KEY])
        examples.split_names = artifact_utils.encode_split_names(split_names)
        file_format = properties.get(standard_component_specs.OUTPUT_FILE_FORMAT_KEY,
                                     example_gen_pb2.FILE_FORMAT_UNSPECIFIED)
        with self._make_beam_pipeline() as pipeline:
            for name, records in self.GenerateExamplesByBeam(pipeline, properties).items():
                _ = records | f"WriteSplit[{name}]" >> write_split.WriteSplit(
                    artifact_utils.get_split_uri([examples], name), file_format, properties)
        if properties.get(standard_component_specs.OUTPUT_DATA_FORMAT_KEY):
            examples_utils.set_payload_format(examples, properties[standard_component_specs.OUTPUT_DATA_FORMAT_KEY])
        if file_format:
            examples_utils.set_file_format(examples, write_split.to_file_format_str(file_format))

    def GenerateExamplesByBeam(self, pipeline, exec_properties):
        splits = super().GenerateExamplesByBeam(pipeline, exec_properties)
        if _CUT_CONFIG_KEY not in exec_properties:
            return splits
        split_config = proto_utils.json_to_proto(exec_properties[_CUT_CONFIG_KEY], example_gen_pb2.SplitConfig())
        input_config = proto_utils.json_to_proto(exec_properties[standard_component_specs.INPUT_CONFIG_KEY],
                                                 example_gen_pb2.Input())
        return cut_splits(splits, split_config, source=input_config.splits[0].name)


class ImportExampleGen(component.ImportExampleGen):
    """TFX's ImportExampleGen (same driver, parameters and outputs) running the executor above."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
