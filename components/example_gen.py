"""ImportExampleGen whose executor finds the newest span itself when no driver did.

TFX resolves ImportExampleGen's `{SPAN}` pattern and fingerprints the input files in its driver:
`flowers run` runs it before the executor, Vertex AI as the step's `preCacheCheck` hook. An open
source Kubeflow Pipelines 2.x backend runs no hook, so there the executor gets the raw pattern
(`span-{SPAN}/...`, which matches no file). This executor then does what the driver does, with
TFX's own driver code, and records span, version and fingerprint on the output examples as the
driver would have.
"""
from __future__ import annotations

import logging
from typing import Any

from tfx.components.example_gen import driver, utils
from tfx.components.example_gen.import_example_gen import component, executor
from tfx.dsl.components.base import executor_spec
from tfx.types import artifact, artifact_utils, standard_component_specs

log = logging.getLogger(__name__)


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


class Executor(executor.Executor):
    def Do(self, input_dict, output_dict, exec_properties):
        examples = artifact_utils.get_single_instance(output_dict[standard_component_specs.EXAMPLES_KEY])
        super().Do(input_dict, output_dict, resolve_input(exec_properties, examples))


class ImportExampleGen(component.ImportExampleGen):
    """TFX's ImportExampleGen (same driver, same outputs) with the executor above."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
