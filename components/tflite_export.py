"""TFLiteExport: the Trainer's model as TensorFlow Lite (float16 and int8), scored on the eval split.

A container step after the Trainer, beside the Evaluator: it converts the SavedModel's pixel
signature (components/signatures.py) with components/tflite.py, calibrating the int8 model on the
first REPRESENTATIVE_IMAGES of the train split, then classifies every eval-split image one at a
time with the SavedModel and with each TFLite model, through the same Transform graph the Trainer
reads. A TFLite model is accepted when its accuracy is at least the SavedModel's minus
`max_accuracy_drop`; the Pusher (components/atomic_pusher.py) ships only accepted ones, beside the
SavedModel in the same version folder, and only when it ships the SavedModel.

The output is a Model artifact (on Kubeflow Pipelines, TFX's entrypoint imports a custom type's
schema title as a class path, which a "namespace.Name" title is not): a folder with every
converted model (accepted or not, to inspect), labels.txt (class names, one a line, in the
models' output order) and SCORES_FILE: per format its accuracy, size in bytes, median single-image latency
on this machine's CPU, and for the TFLite ones whether it was accepted and why.
"""
from __future__ import annotations

import json
import logging
import os

import numpy as np
from tfx.dsl.components.base import base_component, base_executor, executor_spec
from tfx.dsl.io import fileio
from tfx.types import artifact_utils, component_spec, standard_artifacts
from tfx.types.channel import Channel
from tfx.utils import io_utils, path_utils

from components import tflite
from data import flowers

MODEL, EXAMPLES, TRANSFORM_GRAPH, SCHEMA, TFLITE = "model", "examples", "transform_graph", "schema", "tflite"
MAX_ACCURACY_DROP = "max_accuracy_drop"
SAVED_MODEL = "saved_model"  # the reference row of the scores
SCORES_FILE = "scores.json"
log = logging.getLogger(__name__)


def read_pixels(examples: list, split: str, transform_graph_uri: str, limit: int | None = None):
    """(uint8 pixels [N, size, size, 3], int64 classes [N]) of a split of `examples`, decoded by the
    Transform graph as the Trainer decodes them, in a fixed order; the first `limit` only if given."""
    import tensorflow_transform as tft

    from components.trainer import make_dataset

    output = tft.TFTransformOutput(transform_graph_uri)
    patterns = [os.path.join(uri, "*") for uri in artifact_utils.get_split_uris(examples, split)]
    dataset = make_dataset(patterns, 64, training=False, transform=output.transform_features_layer(),
                           raw_spec=output.raw_feature_spec(), cache="none", seed=0).unbatch()
    if limit is not None:
        dataset = dataset.take(limit)
    pairs = list(dataset.as_numpy_iterator())
    if not pairs:
        raise ValueError(f"the {split} split has no records to {'calibrate' if limit else 'score'} TFLite models on")
    return np.stack([p for p, _ in pairs]), np.array([c for _, c in pairs])


def verdict(fmt: str, accuracy: float, reference: float, max_drop: float) -> tuple[bool, str]:
    """(accepted, why): a TFLite model may trail the SavedModel's accuracy by `max_drop` at most."""
    if accuracy >= reference - max_drop - 1e-9:
        return True, f"{fmt}: accuracy {accuracy:.3f} is within {max_drop:g} of the float model's {reference:.3f}"
    return False, (f"{fmt}: accuracy {accuracy:.3f} is more than {max_drop:g} below the float model's "
                   f"{reference:.3f}; not pushed")


def folder_bytes(path: str) -> int:
    return sum(fileio.stat(os.path.join(folder, name)).length for folder, _, names in fileio.walk(path)
               for name in names)


def export_and_score(saved_model_dir: str, representative: np.ndarray, images: np.ndarray, labels: np.ndarray,
                     max_drop: float) -> tuple[dict, dict]:
    """({format: flatbuffer} of the formats that converted, scores as SCORES_FILE holds them)."""
    import tensorflow as tf

    from components.signatures import PROBABILITIES, SERVING_PIXELS

    serve = tf.saved_model.load(saved_model_dir).signatures[SERVING_PIXELS]
    reference = tflite.score(lambda image: serve(pixels=tf.constant(image[np.newaxis], tf.float32))
                             [PROBABILITIES].numpy()[0], images, labels)
    reference["bytes"] = folder_bytes(saved_model_dir)
    scores = {"max_accuracy_drop": max_drop, "eval_images": len(images), "representative_images": len(representative),
              "formats": {SAVED_MODEL: reference}}
    models = {}
    for fmt in tflite.FORMATS:
        try:
            flatbuffer = tflite.convert(saved_model_dir, fmt, representative)
        except Exception as error:  # the converter raises many kinds; the SavedModel still ships
            log.exception("TFLite %s conversion failed", fmt)
            scores["formats"][fmt] = {"accepted": False, "reason": f"{fmt}: conversion failed: {error}"}
            continue
        classifier = tflite.Classifier(flatbuffer)
        score = tflite.score(classifier.probabilities, images, labels)
        score["bytes"] = len(flatbuffer)
        score["accepted"], score["reason"] = verdict(fmt, score["accuracy"], reference["accuracy"], max_drop)
        score["file"] = tflite.FILE_NAMES[fmt]
        models[fmt] = flatbuffer
        scores["formats"][fmt] = score
    return models, scores


def read_scores(uri: str) -> dict:
    with fileio.open(os.path.join(uri, SCORES_FILE)) as f:
        return json.load(f)


def accepted_files(uri: str) -> list[str]:
    """The files of a TFLiteExport output to ship: the accepted models, with the labels file if any is."""
    formats = read_scores(uri)["formats"]
    files = [score["file"] for fmt, score in formats.items() if fmt != SAVED_MODEL and score.get("accepted")]
    return [*files, flowers.LABELS_FILE] if files else []


class Executor(base_executor.BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties):
        model = artifact_utils.get_single_instance(input_dict[MODEL])
        schema = artifact_utils.get_single_instance(input_dict[SCHEMA])
        transform_graph = artifact_utils.get_single_instance(input_dict[TRANSFORM_GRAPH])
        out = artifact_utils.get_single_instance(output_dict[TFLITE]).uri
        class_names = flowers.class_names(io_utils.SchemaReader().read(io_utils.get_only_uri_in_dir(schema.uri)))
        representative, _ = read_pixels(input_dict[EXAMPLES], flowers.TRAIN_SPLIT, transform_graph.uri,
                                        limit=tflite.REPRESENTATIVE_IMAGES)
        images, labels = read_pixels(input_dict[EXAMPLES], flowers.EVAL_SPLIT, transform_graph.uri)
        models, scores = export_and_score(path_utils.serving_model_path(model.uri), representative, images, labels,
                                          float(exec_properties[MAX_ACCURACY_DROP]))
        labels = "".join(f"{name}\n" for name in class_names)
        io_utils.write_string_file(os.path.join(out, flowers.LABELS_FILE), labels)
        for fmt, flatbuffer in models.items():
            io_utils.write_bytes_file(os.path.join(out, tflite.FILE_NAMES[fmt]), flatbuffer)
        io_utils.write_string_file(os.path.join(out, SCORES_FILE), json.dumps(scores, indent=1))
        for fmt, score in scores["formats"].items():
            log.info("%s", score.get("reason") or f"{fmt}: accuracy {score['accuracy']:.3f}")


class TFLiteExportSpec(component_spec.ComponentSpec):
    PARAMETERS = {MAX_ACCURACY_DROP: component_spec.ExecutionParameter(type=float)}
    INPUTS = {
        MODEL: component_spec.ChannelParameter(type=standard_artifacts.Model),
        EXAMPLES: component_spec.ChannelParameter(type=standard_artifacts.Examples),
        TRANSFORM_GRAPH: component_spec.ChannelParameter(type=standard_artifacts.TransformGraph),
        SCHEMA: component_spec.ChannelParameter(type=standard_artifacts.Schema),
    }
    OUTPUTS = {TFLITE: component_spec.ChannelParameter(type=standard_artifacts.Model)}


class TFLiteExport(base_component.BaseComponent):
    """The model as float16 and int8 TFLite models, each scored against the SavedModel on the eval split."""

    SPEC_CLASS = TFLiteExportSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, model, examples, transform_graph, schema, max_accuracy_drop: float):
        super().__init__(spec=TFLiteExportSpec(
            model=model, examples=examples, transform_graph=transform_graph, schema=schema,
            max_accuracy_drop=float(max_accuracy_drop), tflite=Channel(type=standard_artifacts.Model)))
