"""CuratedSchemaGen: the curated schema, with the class list of the data this run ingests.

The curated schema (data/schema/schema.pbtxt) says what a record must be; which classes there are
comes from the data: the labels file beside the records (`flowers data convert` writes it), or the
five flowers when there is none (the public records, data/default). The `label` domain, the
`class` range and the `one_hot_class` length follow it, so ExampleValidator judges the records
against their own classes, and the Trainer's head, the exported class names, the report and
`flowers predict` read them from this schema. It runs as a step, not at compile time: on Kubeflow
the data lives on gs://, which only the step's container reads.
"""
import os

from tfx.components.schema_gen.executor import DEFAULT_FILE_NAME
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts
from tfx.utils import io_utils

from data import flowers

CLASS_NAMES_FROM = "class_names_from"  # the schema artifact's custom property: where the names came from
FIVE_FLOWERS = "the five flowers (no labels file)"


def schema_for_data(schema_file: str, data: str, span: int = 0):
    """(the curated schema with the class names of the records at `data`, where those came from)."""
    schema = io_utils.SchemaReader().read(schema_file)
    source = flowers.labels_file(data, span)
    flowers.set_class_names(schema, flowers.read_labels_file(source) if source else flowers.CLASS_NAMES)
    return schema, source or FIVE_FLOWERS


@component
def CuratedSchemaGen(examples: InputArtifact[standard_artifacts.Examples],
                     schema: OutputArtifact[standard_artifacts.Schema],
                     schema_file: Parameter[str],
                     data: Parameter[str]):
    """`data` is ImportExampleGen's input base; `examples` its output, for the span it ingested."""
    curated, source = schema_for_data(schema_file, data, examples.span)
    io_utils.write_pbtxt_file(os.path.join(schema.uri, DEFAULT_FILE_NAME), curated)
    schema.set_string_custom_property(CLASS_NAMES_FROM, source)
