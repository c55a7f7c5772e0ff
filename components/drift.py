"""Drift between spans: the photos of a new span against those the served model was trained on.

TFX's ExampleValidator judges a span against the schema alone, so a camera change, a new photo
source or a shifted class mix passes it. Here each photo is reduced to a few properties (width,
height, JPEG bytes, mean brightness, mean saturation) and its label; TFDV computes their statistics
for the new span, and compares them with the statistics stored beside the served model, using the
comparators and thresholds of the curated drift schema (data/schema/drift.pbtxt). The pipeline's
steps that do this are in components/drift_gate.py.
"""
from __future__ import annotations

import io

import apache_beam as beam
import numpy as np
import pyarrow as pa
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from data import flowers

PROPERTIES = ("width", "height", "jpeg_bytes", "brightness", "saturation")
# In a DriftStatistics artifact, and beside every pushed model version: the statistics of the span
# the model was trained on (the newest span of its run), which later spans are compared with.
STATISTICS_FILE = "drift_statistics.pb"
# The properties of colour and light are read from a reduced decode: JPEG can decode at 1/8 scale
# almost for free, and a mean over an eighth of the pixels moves by far less than any threshold.
_PREVIEW_SIDE = 32


def load_drift_schema(path: str | None = None) -> schema_pb2.Schema:
    with open(path or flowers.drift_schema_file()) as f:
        return text_format.Parse(f.read(), schema_pb2.Schema())


def image_properties(image: bytes) -> dict:
    """A photo's width, height, encoded size, and mean brightness and saturation (0..1).

    Undecodable bytes give only the encoded size: RecordCheck names such records, not this step.
    """
    from PIL import Image

    properties = {"jpeg_bytes": len(image)}
    try:
        with Image.open(io.BytesIO(image)) as photo:
            properties.update(width=photo.width, height=photo.height)
            photo.draft("RGB", (_PREVIEW_SIDE, _PREVIEW_SIDE))
            hsv = np.asarray(photo.convert("RGB").convert("HSV"), dtype=np.float32) / 255.0
    except Exception:  # noqa: BLE001 - any undecodable image: see the docstring
        return properties
    # Value (max of R, G, B) as brightness: what a darker exposure or a dim camera lowers.
    properties.update(brightness=float(hsv[..., 2].mean()), saturation=float(hsv[..., 1].mean()))
    return properties


def to_record_batch(records: list[dict]) -> pa.RecordBatch:
    """Property dicts (+ "label") → the Arrow batch TFDV's GenerateStatistics takes (list columns)."""
    columns = {}
    for name, kind in (("label", pa.binary()), ("width", pa.int64()), ("height", pa.int64()),
                       ("jpeg_bytes", pa.int64()), ("brightness", pa.float32()), ("saturation", pa.float32())):
        columns[name] = pa.array([[r[name]] if name in r else None for r in records], type=pa.list_(kind))
    return pa.RecordBatch.from_pydict(columns)


class ImageStatistics(beam.PTransform):
    """Serialized tf.Examples in the flowers layout → one DatasetFeatureStatisticsList of the photos'
    properties and labels."""

    def expand(self, examples):
        import tensorflow_data_validation as tfdv

        def properties(serialized: bytes) -> dict:
            record = flowers.decode_example(serialized)
            return {"label": record[flowers.LABEL_KEY].encode(), **image_properties(record[flowers.IMAGE_KEY])}

        return (examples
                | "Properties" >> beam.Map(properties)
                | "Batch" >> beam.BatchElements(min_batch_size=64, max_batch_size=1024)
                | "ToArrow" >> beam.Map(to_record_batch)
                | "Statistics" >> tfdv.GenerateStatistics(tfdv.StatsOptions(
                    num_histogram_buckets=20, num_quantiles_histogram_buckets=20)))


def find_drift(current: statistics_pb2.DatasetFeatureStatisticsList,
               reference: statistics_pb2.DatasetFeatureStatisticsList,
               schema: schema_pb2.Schema | None = None) -> tuple[list[str], dict[str, float]]:
    """(one line per feature past its threshold, {feature: distance} for every compared feature).
    A line reads e.g. "brightness: Jensen-Shannon divergence 0.861 > 0.3"."""
    import tensorflow_data_validation as tfdv

    schema = schema or load_drift_schema()
    anomalies = tfdv.validate_statistics(current, schema, previous_statistics=reference)
    distances = {}
    for info in anomalies.drift_skew_info:
        for measurement in info.drift_measurements:
            distances[info.path.step[0]] = measurement.value
    lines = []
    for name, info in sorted(anomalies.anomaly_info.items()):
        if any(r.type in _DRIFT_TYPES for r in info.reason):
            measure, threshold = comparator(schema, name)
            lines.append(f"{name}: {measure} {distances.get(name, float('nan')):.3f} > {threshold:g}")
    return lines, distances


_DRIFT_TYPES = {anomalies_pb2.AnomalyInfo.COMPARATOR_L_INFTY_HIGH,
                anomalies_pb2.AnomalyInfo.COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH,
                anomalies_pb2.AnomalyInfo.COMPARATOR_NORMALIZED_ABSOLUTE_DIFFERENCE_HIGH}
_MEASURES = {"infinity_norm": "L-infinity distance", "jensen_shannon_divergence": "Jensen-Shannon divergence",
             "normalized_abs_difference": "normalized absolute difference"}


def comparator(schema: schema_pb2.Schema, name: str) -> tuple[str, float]:
    """(what the drift comparator of feature `name` measures, its threshold)."""
    drift = next(f for f in schema.feature if f.name == name).drift_comparator
    for field, measure in _MEASURES.items():
        if drift.HasField(field):
            return measure, getattr(drift, field).threshold
    return "distance", float("nan")


def thresholds(schema: schema_pb2.Schema) -> dict[str, tuple[str, float]]:
    """{feature: (measure, threshold)} of every feature with a drift comparator."""
    return {f.name: comparator(schema, f.name) for f in schema.feature if f.HasField("drift_comparator")}


def read_statistics(path: str) -> statistics_pb2.DatasetFeatureStatisticsList | None:
    """The statistics in a STATISTICS_FILE, or None when there is none."""
    from tfx.dsl.io import fileio

    if not fileio.exists(path):
        return None
    with fileio.open(path, "rb") as f:
        return statistics_pb2.DatasetFeatureStatisticsList.FromString(f.read())
