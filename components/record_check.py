"""RecordCheck: every record must be usable, or the run stops before Transform.

Three faults the schema cannot see: an image too large to decode safely (judged from its JPEG/PNG
header, before anything decodes it), an image that does not decode (it would crash Transform deep
inside a Beam worker, with a TensorFlow stack trace as the only message), and a `class` that
disagrees with its `label` (the model would learn the wrong name for a flower; the names, in class
order, are the schema's). Each bad record is named by split, position, label and cause.

A Beam job on the run's runner, so it grows with the data: one element per file of ExampleGen's
output, the records spread across workers, each image decoded once more. What TFDV judges from
StatisticsGen's statistics and the schema is AnomaliesGate's part: out-of-range classes, unknown
labels, missing features, and the image byte size when the schema's `image_domain` sets
`max_image_byte_size`.
"""
import json
import os
import re

import apache_beam as beam
import tensorflow as tf
from tfx.dsl.component.experimental.annotations import BeamComponentParameter, InputArtifact, OutputArtifact
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts
from tfx.types.artifact import Artifact
from tfx.utils import io_utils

from data import flowers, images, records

SHOWN = 10  # bad records named in the message; the count covers all of them
RESULT_FILE = "record_check.json"  # in the output artifact: records checked and every bad one


class RecordCheckResult(Artifact):
    """What RecordCheck found: RESULT_FILE, the records checked and every bad one."""

    TYPE_NAME = "flowers.RecordCheckResult"  # "namespace.Name": what KFP's pipeline spec accepts as a title


class BadRecordsError(ValueError):
    """Some records have an image that is too large or does not decode, or a class that disagrees
    with the label."""


def _decode_error(image: bytes) -> "str | None":
    """None if the image decodes, else TensorFlow's reason without its op decorations."""
    try:
        tf.io.decode_image(image, channels=3, expand_animations=False)
    except tf.errors.InvalidArgumentError as error:
        # "{{function_node ...}} <reason> [Op:DecodeImage]" -> "<reason>"
        return re.sub(r"\{\{.*?\}\}\s*|\s*\[Op:.*$", "", error.message.splitlines()[0])
    return None


def _first(feature, kind: str, default):
    values = getattr(feature, kind).value if feature is not None else ()
    return values[0] if values else default


def record_problems(serialized: bytes, class_names, max_pixels: int = images.MAX_IMAGE_PIXELS) -> "tuple[str, list[str]]":
    """(label, what is wrong with one serialized record: empty when nothing). A missing feature is
    read as empty: the schema gate names what is missing."""
    features = tf.train.Example.FromString(serialized).features.feature
    image = _first(features.get(flowers.IMAGE_KEY), "bytes_list", b"")
    index = _first(features.get(flowers.CLASS_KEY), "int64_list", -1)
    label = _first(features.get(flowers.LABEL_KEY), "bytes_list", b"?").decode(errors="replace")
    problems = []
    too_large = images.too_large(image, max_pixels) if image else None
    if not image:
        problems.append("no image bytes")
    elif too_large:  # never decoded
        problems.append(too_large)
    elif reason := _decode_error(image):
        problems.append(f"image does not decode: {reason}")
    if 0 <= index < len(class_names) and label != class_names[index]:
        problems.append(f"class {index} means {class_names[index]!r} but the label says {label!r}")
    return label, problems


class CheckRecords(beam.PTransform):
    """(split, file number, path) of every record file → {"counts": ((split, file number), records),
    "bad": {"split", "file", "index", "label", "problems"}} per bad record."""

    def __init__(self, class_names, max_pixels: int = images.MAX_IMAGE_PIXELS):
        super().__init__()
        self._class_names, self._max_pixels = list(class_names), max_pixels

    def expand(self, files):
        def read(element):
            split, file_number, path = element
            for index, (_, serialized) in enumerate(records.iter_records(path)):
                yield split, file_number, index, serialized

        def judge(record):
            split, file_number, index, serialized = record
            label, problems = record_problems(serialized, self._class_names, self._max_pixels)
            if problems:
                yield {"split": split, "file": file_number, "index": index, "label": label, "problems": problems}

        all_records = files | "Read" >> beam.FlatMap(read)
        counts = (all_records | "FileOf" >> beam.Map(lambda record: ((record[0], record[1]), None))
                  | "Count" >> beam.combiners.Count.PerKey())
        bad = all_records | "Spread" >> beam.Reshuffle() | "Judge" >> beam.FlatMap(judge)
        return {"counts": counts, "bad": bad}


def find_bad_records(split_uris: "dict[str, str]", class_names, pipeline: beam.Pipeline,
                     out_dir: str) -> "tuple[int, list[str]]":
    """(records checked, one line per bad record in split and position order) over ExampleGen's
    splits ({split: folder of its files}), checked by `pipeline`, which this runs; the findings
    travel through files under `out_dir`, which every worker must reach."""
    files = [(split, n, path) for split, uri in split_uris.items()
             for n, path in enumerate(sorted(tf.io.gfile.glob(os.path.join(uri, "*"))))]
    with pipeline:
        found = pipeline | "RecordFiles" >> beam.Create(files) | "CheckRecords" >> CheckRecords(class_names)
        for name in ("counts", "bad"):
            _ = (found[name] | f"{name}ToJson" >> beam.Map(json.dumps)
                 | f"Write{name}" >> beam.io.WriteToText(os.path.join(out_dir, name)))

    def read(name):
        return [json.loads(line) for path in tf.io.gfile.glob(os.path.join(out_dir, f"{name}-*"))
                for line in tf.io.gfile.GFile(path).read().splitlines() if line]

    counts = {tuple(key): count for key, count in read("counts")}

    def position(bad: dict) -> int:
        """In its split: the records of the split's earlier files, then its index in its file."""
        return sum(c for (split, n), c in counts.items() if split == bad["split"] and n < bad["file"]) + bad["index"]

    order = list(split_uris)
    bad = sorted(read("bad"), key=lambda b: (order.index(b["split"]), position(b)))
    lines = [f"split '{b['split']}' record {position(b)} (label {b['label']!r}): " + "; ".join(b["problems"])
             for b in bad]
    return sum(counts.values()), lines


@component(use_beam=True)
def RecordCheck(examples: InputArtifact[standard_artifacts.Examples],
                schema: InputArtifact[standard_artifacts.Schema],
                result: OutputArtifact[RecordCheckResult],
                beam_pipeline: BeamComponentParameter[beam.Pipeline] = None):
    class_names = flowers.class_names(io_utils.SchemaReader().read(io_utils.get_only_uri_in_dir(schema.uri)))
    splits = artifact_utils.decode_split_names(examples.split_names)
    checked, bad = find_bad_records({split: artifact_utils.get_split_uri([examples], split) for split in splits},
                                    class_names, beam_pipeline, result.uri)
    with tf.io.gfile.GFile(os.path.join(result.uri, RESULT_FILE), "w") as f:
        json.dump({"checked": checked, "bad": bad}, f, indent=1)
    if bad:
        raise BadRecordsError(
            f"{len(bad)} of {checked} records are unusable; stopping before Transform (re-encode the photos "
            "with `flowers data convert`, or fix or remove these records):\n  " + "\n  ".join(bad[:SHOWN])
            + (f"\n  ... and {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""))
